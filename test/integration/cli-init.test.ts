import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { collectionTemplateSchema, loadTemplate } from '../../pipeline/template';
import { runCli } from '../helpers/cli';

// `aigc init` as users run it: the compiled CLI (run `npm run build` first), stdin not a TTY, so it never asks.
const TEMPLATES = path.resolve(__dirname, '../../templates/collections');
const FILES = ['collection.json', 'collection.schema.json', '.env.example', 'README.md', 'embed.html', '.gitignore'];

const init = (cwd: string, ...args: string[]) => runCli(['init', ...args], { cwd });

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-init-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The JSON Schema as generated now from the zod schema, the input side (keys with defaults optional). */
const freshSchema = () => z.toJSONSchema(collectionTemplateSchema, { io: 'input' });
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('aigc init', () => {
  const templates = fs.readdirSync(TEMPLATES).filter((name) => fs.existsSync(path.join(TEMPLATES, name, 'collection.json')));

  it('ships more than one template', () => {
    expect(templates).toEqual(expect.arrayContaining(['open-prompt', 'avatar']));
  });

  it.each(templates)('init --yes --template %s writes the folder; collection.json validates and points at its schema', async (name) => {
    const run = await init(work, `from-${name}`, '--template', name, '--yes');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/Next: cd .* && aigc dev/);
    const dir = path.join(work, `from-${name}`);
    expect(fs.readdirSync(dir).sort()).toEqual([...FILES].sort());
    const written = readJson(path.join(dir, 'collection.json'));
    expect(written.$schema).toBe('./collection.schema.json');
    expect(loadTemplate(path.join(dir, 'collection.json'))).toEqual(loadTemplate(name));
    expect(readJson(path.join(dir, 'collection.schema.json'))).toMatchObject(freshSchema());
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.aigc/', '.env']));
    const env = fs.readFileSync(path.join(dir, '.env.example'), 'utf8');
    for (const key of [
      'AIGC_RPC_URL',
      'AIGC_SIGNER_KEY',
      'AIGC_SIGNER_PAYEE',
      'AIGC_GATEWAY_URL',
      'AIGC_ARWEAVE_URL',
      'AIGC_ARWEAVE_WALLET',
      'REDIS_URL',
    ]) {
      expect(env).toMatch(new RegExp(`^${key}=`, 'm'));
    }
    expect(fs.readFileSync(path.join(dir, 'embed.html'), 'utf8')).toMatch(
      /<script src="\{nodeUrl\}\/embed\.js" async><\/script>\n<aigc-mint collection="\{collectionAddress\}" chain-id="\{chainId\}" rpc="\{rpcUrl\}">/,
    );
    expect(fs.existsSync(path.join(TEMPLATES, name, 'README.md'))).toBe(true);
  });

  it('flags override the template: price in ether, royalty in percent', async () => {
    const run = await init(
      work,
      'custom',
      '--template',
      'avatar',
      '--name',
      'Moon Faces',
      '--symbol',
      'MOON',
      '--price',
      '0.02',
      '--supply',
      '500',
      '--royalty',
      '2.5',
      '--yes',
    );
    expect(run.code).toBe(0);
    const t = loadTemplate(path.join(work, 'custom', 'collection.json'));
    expect(t).toMatchObject({
      name: 'Moon Faces',
      symbol: 'MOON',
      mint: { priceWei: '20000000000000000', maxSupply: 500 },
      royalty: { bps: 250 },
    });
    expect(t.render).toEqual(loadTemplate('avatar').render);
  });

  it('a bad symbol: exit 2, one line naming symbol, nothing written', async () => {
    const run = await init(work, 'bad-symbol', '--symbol', 'bad!', '--yes');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/symbol/);
    expect(fs.existsSync(path.join(work, 'bad-symbol'))).toBe(false);
  });

  it.each([
    ['--price', 'abc', /price/],
    ['--supply', '0', /supply/],
    ['--royalty', '12', /royalty/],
  ])('a bad %s %s: exit 2, one line naming the field, nothing written', async (flag, value, field) => {
    const run = await init(work, 'bad-value', flag, value, '--yes');
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(field);
    expect(fs.existsSync(path.join(work, 'bad-value'))).toBe(false);
  });

  it('refuses an existing non-empty folder (exit 2, untouched); --force writes into it', async () => {
    const dir = path.join(work, 'taken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const run = await init(work, 'taken', '--yes');
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    expect((await init(work, 'taken', '--yes', '--force')).code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual([...FILES, 'notes.txt'].sort());
  });

  it('--json prints { dir, files } and nothing else', async () => {
    const run = await init(work, 'as-json', '--json');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { dir: string; files: string[] };
    expect(out.dir).toBe(fs.realpathSync(path.join(work, 'as-json')));
    expect(out.files.map((f) => path.basename(f)).sort()).toEqual([...FILES].sort());
    for (const f of out.files) expect(fs.existsSync(f)).toBe(true);
  });

  it('the checked-in templates/collection.schema.json is what the zod schema generates now', () => {
    const checkedIn = readJson(path.resolve(__dirname, '../../templates/collection.schema.json'));
    const { title: _title, description: _description, ...generated } = checkedIn;
    expect(generated).toEqual(freshSchema());
    // The shipped templates point at it.
    for (const name of templates)
      expect(readJson(path.join(TEMPLATES, name, 'collection.json')).$schema).toBe('../../collection.schema.json');
  });
});
