import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The package as users get it: `npm pack` of the built repository (run `npm run build` first), installed into a fresh
// folder without the network, then its bin, its ESM and CommonJS entries and its types used from there.
jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
};

type Run = { status: number; stdout: string; stderr: string };
const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<Run>((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
const ok = (r: Run) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
};

let tmp: string;
let app: string;
let tarball: string;
const COLLECTION = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-pack-'));
  // prepare (the build) already ran: the tests use the built dist/ like every CLI test.
  const packed = ok(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT));
  tarball = path.join(tmp, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename);
  app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  // From npm's cache where it can (the registry only for what the cache lacks); the fresh folder
  // pins the package's dependencies to this repository's lockfile (the versions its tests ran with).
  const spec = `file:${tarball}`;
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>;
  };
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { 'aigc-nft': spec } },
    'node_modules/aigc-nft': { version: pkg.version, resolved: spec, dependencies: pkg.dependencies, bin: pkg.bin },
  };
  for (const [key, entry] of Object.entries(lock.packages)) if (key && !entry.dev && !entry.link) packages[key] = entry;
  // The repository stands a local stub in for cbor-extract (see vendor/cbor-extract-none): the app does the same,
  // from a copy at the same relative path, so the lock entries carry over unchanged.
  fs.cpSync(path.join(ROOT, 'vendor'), path.join(app, 'vendor'), { recursive: true });
  packages['node_modules/cbor-extract'] = lock.packages['node_modules/cbor-extract'];
  packages[''] = { ...(packages[''] as object), optionalDependencies: pkg.optionalDependencies };
  const manifest = {
    name: 'app',
    private: true,
    dependencies: { 'aigc-nft': spec },
    optionalDependencies: pkg.optionalDependencies,
    overrides: pkg.overrides,
  };
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }));
  // Install scripts fetch or build native parts (sqlite3 for arlocal, anvil's binary) that nothing here uses.
  ok(await run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], app));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds the build, templates and licence, and no sources, tests or source maps', () => {
  const listed = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'aigc-nft', 'package.json'), 'utf8')) as { private?: boolean };
  expect(listed.private).toBeUndefined();
  const files = fs.readdirSync(path.join(app, 'node_modules', 'aigc-nft'), { recursive: true }) as string[];
  expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', path.join('dist', 'pipeline', 'sdk', 'index.d.ts')]));
  expect(files).toContain(path.join('templates', 'collections', 'open-prompt', 'collection.json'));
  expect(files).toContain(path.join('dist', 'mint-page', 'embed.js')); // the node serves it at /embed.js
  expect(files.filter((f) => /\.map$|^test|^bench|^dist[/\\](test|bench)|(?<!\.d)\.ts$/.test(f))).toEqual([]);
});

test('the installed bin answers --version and --help', async () => {
  const version = ok(await run('npx', ['--offline', 'aigc', '--version'], app));
  expect(version.stdout.trim()).toBe(pkg.version);
  const help = ok(await run(path.join(app, 'node_modules', '.bin', 'aigc'), ['--help'], app));
  for (const command of ['demo', 'mint', 'verify', 'quote', 'node']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
});

test('ESM and CommonJS programs import createClient from the package', async () => {
  fs.writeFileSync(
    path.join(app, 'esm.mjs'),
    `import { createClient, AigcError, MintFailedError } from 'aigc-nft';
import * as sdk from 'aigc-nft/sdk';
import { verifyTokenWith, loadTemplate } from 'aigc-nft/node';
const client = createClient({ collection: '${COLLECTION.toLowerCase()}', rpcUrl: 'http://127.0.0.1:9' });
console.log(JSON.stringify({ collection: client.collection, actions: Object.keys(client).filter((k) => typeof client[k] === 'function'),
  sameSdk: sdk.createClient === createClient, errors: [AigcError.name, MintFailedError.name], node: typeof verifyTokenWith,
  template: loadTemplate('open-prompt').mint.maxSupply > 0 }));
`,
  );
  const esm = JSON.parse(ok(await run(process.execPath, ['esm.mjs'], app)).stdout) as Record<string, unknown>;
  expect(esm).toEqual({
    collection: COLLECTION,
    actions: ['requestMint', 'waitForMint', 'mintAndWait', 'getToken', 'verifyToken', 'quote'],
    sameSdk: true,
    errors: ['AigcError', 'MintFailedError'],
    node: 'function',
    template: true,
  });
  fs.writeFileSync(
    path.join(app, 'cjs.cjs'),
    `const { createClient, AigcError } = require('aigc-nft');
try { createClient({ collection: 'nope' }); } catch (e) { console.log(JSON.stringify({ aigc: e instanceof AigcError, code: e.code })); }
console.log(require('aigc-nft/package.json').version);
`,
  );
  const cjs = ok(await run(process.execPath, ['cjs.cjs'], app))
    .stdout.trim()
    .split('\n');
  expect(JSON.parse(cjs[0])).toEqual({ aigc: true, code: 'CONFIG_INVALID' });
  expect(cjs[1]).toBe(pkg.version);
});

test('a TypeScript program type-checks against the installed types, and a wrong call does not', async () => {
  fs.writeFileSync(
    path.join(app, 'main.ts'),
    `import { JsonRpcProvider, Wallet } from 'ethers';
import { createClient, type MintAndWaitReturnType, type RequestMintParameters } from 'aigc-nft';

const provider = new JsonRpcProvider('http://127.0.0.1:8545');
const client = createClient({ collection: '${COLLECTION}', provider, signer: Wallet.createRandom(provider) });
const params: RequestMintParameters = { prompt: 'a lighthouse at dawn' };
export async function mint(): Promise<bigint> {
  const minted: MintAndWaitReturnType = await client.mintAndWait({ ...params, timeoutMs: 1_000 });
  const { manifest } = await client.getToken(minted.tokenId);
  return BigInt(manifest.aigc.requestId) + (await client.quote()).priceWei;
}
`,
  );
  fs.writeFileSync(
    path.join(app, 'wrong.ts'),
    `import { createClient } from 'aigc-nft';\nvoid createClient({ collection: 1 }).requestMint({ text: 'x' });\n`,
  );
  // One run for both (checking declarations takes a while): no @types/node (`types: []`) and the library's own
  // declarations checked too, as a browser project would.
  const compilerOptions = { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [] };
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts', 'wrong.ts'] }));
  const checked = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
  const errors = checked.stdout.split('\n').filter((l) => /error TS/.test(l));
  expect(errors.length).toBeGreaterThanOrEqual(2);
  expect(errors.filter((l) => !l.startsWith('wrong.ts(2,'))).toEqual([]);
  expect(checked.stdout).toMatch(/TS2322/); // collection: 1 is not a string
  expect(checked.stdout).toMatch(/TS2353/); // requestMint has no `text`
});
