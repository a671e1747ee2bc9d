import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { renderLocal } from '../../services/diffusion-gateway/backends/local';

const input = { prompt: 'a lighthouse on a basalt cliff at dawn', negativePrompt: 'text', seed: 1234567, width: 256, height: 192 };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('local-procedural renderer', () => {
  it('renders byte-identical PNGs for the same input', async () => {
    const a = await renderLocal(input);
    const b = await renderLocal({ ...input });
    expect(sha(a.image)).toBe(sha(b.image));
    expect(a.model).toEqual({ backend: 'local', id: 'local-procedural', version: '3' });
  });

  it('renders the same bytes in another process', async () => {
    const here = sha((await renderLocal(input)).image);
    // A fresh Node process with the compiled-on-the-fly module: no shared state can make the bytes match.
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `
        const ts = require('typescript');
        const fs = require('fs');
        const Module = require('module');
        const file = ${JSON.stringify(path.resolve(__dirname, '../../services/diffusion-gateway/backends/local.ts'))};
        const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, esModuleInterop: true, target: ts.ScriptTarget.ES2022 } }).outputText;
        const m = new Module(file); m.filename = file; m.paths = Module._nodeModulePaths(require('path').dirname(file)); m._compile(js, file);
        m.exports.renderLocal(${JSON.stringify(input)}).then(r => process.stdout.write(require('crypto').createHash('sha256').update(r.image).digest('hex')));
      `,
      ],
      { encoding: 'utf8' },
    );
    expect(out).toBe(here);
  });

  it('changes the image when the seed or the prompt changes', async () => {
    const base = sha((await renderLocal(input)).image);
    expect(sha((await renderLocal({ ...input, seed: input.seed + 1 })).image)).not.toBe(base);
    expect(sha((await renderLocal({ ...input, prompt: `${input.prompt}!` })).image)).not.toBe(base);
  });

  it('produces a PNG of the requested size', async () => {
    const { image, mime } = await renderLocal(input);
    const meta = await sharp(image).metadata();
    expect(mime).toBe('image/png');
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 192]);
  });
});
