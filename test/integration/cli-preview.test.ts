import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadTemplate } from '../../pipeline/template';
import { pickTraits } from '../../pipeline/templates/traits';
import { runCli } from '../helpers/cli';

// `aigc preview` as creators run it: the compiled CLI (run `npm run build` first), the local renderer in-process.
jest.setTimeout(120_000);

// No gateway from the environment: the in-process local renderer answers.
const preview = (cwd: string, ...args: string[]) => runCli(['preview', ...args], { cwd, env: { ...process.env, AIGC_GATEWAY_URL: '' } });
type PreviewJson = {
  template: string;
  images: { file: string; seed: string; prompt: string; traits: { trait_type: string; value: string }[] }[];
  odds?: { trait_type: string; value: string; configured: number; observed: number; count: number }[];
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-preview-'));

describe('aigc preview', () => {
  it('renders avatar portraits at the template size with traits drawn from each seed, and reports their odds', async () => {
    const avatar = loadTemplate('avatar');
    const cwd = tmp();
    const run = await preview(cwd, 'smiling', '--template', 'avatar', '--count', '3', '--seed', '0x5eed', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as PreviewJson;
    expect(out.template).toBe('Avatar Portraits');
    expect(out.images).toHaveLength(3);
    expect(new Set(out.images.map((i) => i.seed)).size).toBe(3);
    expect(out.images[0].seed).toBe(`0x${'5eed'.padStart(64, '0')}`);
    for (const image of out.images) {
      const file = path.resolve(cwd, image.file);
      expect(path.dirname(file)).toBe(path.join(fs.realpathSync(cwd), '.aigc', 'preview'));
      expect(path.basename(file)).toContain(image.seed);
      const meta = await sharp(fs.readFileSync(file)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 768, 768]);
      expect(image.traits).toEqual(pickTraits(avatar.traits, image.seed));
      // The slots of the frame are filled with the drawn values, the description sits in between.
      for (const t of image.traits) expect(image.prompt).toContain(t.value);
      expect(image.prompt).toContain('smiling');
      expect(image.prompt).not.toMatch(/[{}]/);
    }
    // One row per configured value; observed counts over the three draws add up per trait.
    expect(out.odds).toHaveLength(avatar.traits!.reduce((n, t) => n + t.values.length, 0));
    for (const trait of avatar.traits!) {
      const rows = out.odds!.filter((r) => r.trait_type === trait.name);
      expect(rows.reduce((n, r) => n + r.count, 0)).toBe(3);
      expect(rows.reduce((p, r) => p + r.configured, 0)).toBeCloseTo(1, 9);
    }
  });

  it('renders an empty description with the avatar frame alone', async () => {
    const cwd = tmp();
    const run = await preview(cwd, '', '--template', 'avatar', '--seed', '0x01', '--json');
    expect(run.code).toBe(0);
    const [image] = (JSON.parse(run.stdout) as PreviewJson).images;
    expect(image.prompt).toMatch(/^head-and-shoulders portrait of an anthropomorphic .+ palette, .+ background, centered/);
    expect(image.prompt).not.toMatch(/,\s*,/);
  });

  it('renders open-prompt images reproducibly from --seed, with no traits and no odds', async () => {
    const cwd = tmp();
    const args = ['a lighthouse at dusk', '--template', 'open-prompt', '--count', '2', '--seed', '0x7', '--out', 'shots', '--json'];
    const first = JSON.parse((await preview(cwd, ...args)).stdout) as PreviewJson;
    expect(first.images).toHaveLength(2);
    expect(first.odds).toBeUndefined();
    const bytes = first.images.map((i) => fs.readFileSync(path.resolve(cwd, i.file)));
    for (const [k, image] of first.images.entries()) {
      expect(image.traits).toEqual([]);
      expect(image.prompt).toBe('a lighthouse at dusk, dreamlike, soft light');
      expect(path.resolve(cwd, image.file).startsWith(path.join(fs.realpathSync(cwd), 'shots'))).toBe(true);
      const meta = await sharp(bytes[k]).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    }
    expect(bytes[0].equals(bytes[1])).toBe(false);
    const again = JSON.parse((await preview(cwd, ...args)).stdout) as PreviewJson;
    expect(again.images.map((i) => fs.readFileSync(path.resolve(cwd, i.file)))).toEqual(bytes);
  });

  it("uses the folder's collection.json, and says what to do without one", async () => {
    const cwd = tmp();
    const none = await preview(cwd, 'a fox');
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toMatch(/^error: no collection template: pass --template/);

    const own = JSON.parse(fs.readFileSync(path.join(__dirname, '../../templates/collections/open-prompt/collection.json'), 'utf8'));
    fs.writeFileSync(
      path.join(cwd, 'collection.json'),
      JSON.stringify({ ...own, $schema: undefined, name: 'Mine', render: { ...own.render, width: 256, height: 128 } }),
    );
    const run = await preview(cwd, 'a fox', '--count', '2');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^aigc preview: "Mine" \(.*collection\.json\), 256×128/);
    expect(lines.slice(1).map((l) => path.dirname(l))).toEqual([path.join('.aigc', 'preview'), path.join('.aigc', 'preview')]);
    // Progress went to stderr, one line per image.
    expect(run.stderr.split('\n').filter((l) => /^\s+\d\/2 /.test(l))).toHaveLength(2);

    const tooLong = await preview(cwd, 'x'.repeat(281));
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/at most 280 \(mint\.maxPromptBytes\)/);
  });
});
