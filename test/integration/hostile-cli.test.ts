import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { promptProblem } from '../../protocol/prompt';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { type CliRun, runCli } from '../helpers/cli';
import { type HostileFlag, hostileFlags, hostilePrompts } from '../helpers/hostile';
import { events, type NodeFixture, startNodeFixture, template } from '../helpers/node-stack';

jest.setTimeout(300_000);

/**
 * The shared hostile corpus at the CLI's doors, through the built binary against a local stack: every prompt through
 * `aigc mint` (as the argument and as --prompt-file) checked before anything is paid, five of them minted for real,
 * and every malformed flag value of flags.json refused with exit code 2 and a line naming the flag.
 */
const CAP = template.mint.maxPromptBytes;
const USAGE = 2;

let f: NodeFixture;
let node: RunningNode;
let tmp: string;
let keys: { collector: string; owner: string; minters: string[] };
beforeAll(async () => {
  f = await startNodeFixture();
  node = await startNode({ config: f.config(), template, logger: createLogger({ level: 'silent' }) });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-hostile-cli-'));
  const k = f.stack.anvil.privateKeys;
  keys = { owner: k[0], collector: k[2], minters: k.slice(3, 8) };
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The local stack's collection, chain and Arweave (every command that reads a collection takes these). */
const target = () => ['--collection', String(f.collection.target), '--rpc', f.stack.anvil.rpcUrl, '--arweave', f.stack.arlocal.url];
/** …and the node, which `aigc mint` follows. */
const mintTarget = () => [...target(), '--node', node.httpUrl!];
/**
 * `aigc <args>` from an empty folder (no aigc dev state, no deployments), with only PATH and HOME from this shell,
 * and keys that can pay: a wrongly accepted command would send, and the nonces below would show it.
 */
const aigc = (args: string[], { env = {}, input }: { env?: Record<string, string>; input?: Uint8Array } = {}) =>
  runCli(args, {
    cwd: tmp,
    input,
    timeoutMs: 90_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AIGC_MINT_KEY: keys.collector, AIGC_OWNER_KEY: keys.owner, ...env },
  });

/** Runs `fn` over `items`, `n` at a time, keeping their order. */
async function pooled<T, R>(items: T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Neither output holds a stack trace or a Node internal: errors are one line for people. */
function expectNoStack(name: string, run: CliRun): void {
  const output = run.stdout + run.stderr;
  expect([name, /^\s+at .+:\d+:\d+\)?$/m.test(output) || output.includes('node:internal')]).toEqual([name, false]);
}

const errorLines = (run: CliRun) => run.stderr.split('\n').filter((l) => l.startsWith('error:'));
const nonces = () => Promise.all([keys.owner, keys.collector].map((k) => f.provider.getTransactionCount(new Wallet(k).address)));

/** Why the CLI must refuse `prompt` (the shared policy, then the collection's byte cap), or undefined. */
function refusal(prompt: string): RegExp | undefined {
  const problem = promptProblem(prompt);
  if (problem) return new RegExp(`^error: invalid prompt: ${problem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const bytes = Buffer.byteLength(prompt);
  if (bytes > CAP) return new RegExp(`^error: invalid prompt: ${bytes} bytes of UTF-8; this collection takes at most ${CAP}$`);
  return undefined;
}

type DryRun = { dryRun: true; prompt: string; promptBytes: number; maxPromptBytes: number; priceWei: string; gas: string };

/** Checks one `aigc mint … --dry-run --json` run against the policy, for the prompt the CLI received. */
function expectChecked(name: string, received: string, run: CliRun): void {
  expectNoStack(name, run);
  const refused = refusal(received);
  if (refused) {
    expect([name, run.code, run.stdout]).toEqual([name, USAGE, '']);
    expect([name, errorLines(run)]).toEqual([name, [expect.stringMatching(refused)]]);
  } else {
    expect([name, run.code, run.stderr]).toEqual([name, 0, '']);
    const out = JSON.parse(run.stdout) as DryRun;
    // The exact prompt, byte for byte, and what the contract's simulation said it costs.
    expect([name, out.prompt, out.promptBytes, out.maxPromptBytes]).toEqual([name, received, Buffer.byteLength(received), CAP]);
    expect(BigInt(out.gas)).toBeGreaterThan(21_000n);
  }
}

describe('aigc mint: every hostile prompt is checked before anything is paid', () => {
  let before: number[];
  let requestsBefore: number;
  beforeAll(async () => {
    before = await nonces();
    requestsBefore = (await events(f, 'MintRequested')).length;
  });

  it('as the argument: refused by the shared policy and the byte cap with exit 2 and the reason, else simulated', async () => {
    // An argument cannot hold a NUL byte (the OS ends it there: spawn refuses it), and a lone surrogate reaches the
    // CLI as U+FFFD (the UTF-8 encoding of argv replaces it): the CLI is checked on what it receives.
    const carried = hostilePrompts.filter((p) => !p.prompt.includes('\0'));
    expect(hostilePrompts.length - carried.length).toBe(2);
    await expect(runCli(['mint', 'a\0b'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    const runs = await pooled(carried, 3, (p) => aigc(['mint', p.prompt, '--dry-run', '--json', ...mintTarget()]));
    carried.forEach((p, i) => expectChecked(p.name, Buffer.from(p.prompt, 'utf8').toString('utf8'), runs[i]));
    const accepted = runs.filter((r) => r.code === 0).length;
    expect(accepted).toBeGreaterThan(30);
    expect(runs.length - accepted).toBeGreaterThan(15);
  });

  it('as --prompt-file, byte for byte: NUL bytes arrive, bytes that are not UTF-8 are refused before the policy', async () => {
    // What an argument cannot carry (NUL, lone surrogates), and what a file could alter (a BOM, CR LF, the byte cap).
    const FILE_ONLY = /[\0\p{Cs}\uFEFF\r]/u;
    const picked = hostilePrompts.filter((p) => FILE_ONLY.test(p.prompt) || /cap/.test(p.name));
    expect(picked.length).toBeGreaterThanOrEqual(10);
    const runs = await pooled(picked, 3, async (p, i) => {
      const file = path.join(tmp, `prompt-${i}.txt`);
      // A lone surrogate as a file holds it: its WTF-8 bytes (ED A0 80 for U+D800), which are not UTF-8.
      fs.writeFileSync(file, Buffer.concat([...p.prompt].map((ch) => (/\p{Cs}/u.test(ch) ? wtf8(ch) : Buffer.from(ch, 'utf8')))));
      return aigc(['mint', '--prompt-file', file, '--dry-run', '--json', ...mintTarget()]);
    });
    picked.forEach((p, i) => {
      if (!/\p{Cs}/u.test(p.prompt)) return expectChecked(p.name, p.prompt, runs[i]);
      expectNoStack(p.name, runs[i]);
      expect([p.name, runs[i].code, errorLines(runs[i])]).toEqual([
        p.name,
        USAGE,
        [expect.stringMatching(/^error: --prompt-file .*: the prompt is not valid UTF-8; save the file as UTF-8$/)],
      ]);
    });
  });

  it('from stdin (--prompt-file -), with a NUL inside, exactly', async () => {
    const prompt = hostilePrompts.find((p) => p.name === 'NUL inside')!.prompt;
    const run = await aigc(['mint', '--prompt-file', '-', '--dry-run', '--json', ...mintTarget()], { input: Buffer.from(prompt) });
    expectChecked('NUL inside, stdin', prompt, run);
    expect(run.code).toBe(0);
  });

  it('sent nothing: no nonce moved, no request on chain', async () => {
    expect(await nonces()).toEqual(before);
    expect((await events(f, 'MintRequested')).length).toBe(requestsBefore);
  });
});

/** The WTF-8 bytes of one lone surrogate (three bytes, as UTF-8 would encode its code point, which UTF-8 forbids). */
function wtf8(surrogate: string): Buffer {
  const c = surrogate.charCodeAt(0);
  return Buffer.from([0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]);
}

describe('aigc mint --wait: accepted hostile prompts, minted for real', () => {
  const NAMES = ['emoji ZWJ family', 'RTL override', 'JSON injection', 'markdown injection', 'at byte cap'];
  it('mints each, verified, and the manifest and the request on chain hold the exact prompt', async () => {
    const picked = NAMES.map((n) => hostilePrompts.find((p) => p.name === n)!);
    // One key each, so the five run at once without sharing a nonce.
    const runs = await Promise.all(
      picked.map((p, i) =>
        aigc(['mint', p.prompt, '--key', 'env:MINTER_KEY', '--wait', '--timeout', '240', '--json', ...mintTarget()], {
          env: { MINTER_KEY: keys.minters[i] },
        }),
      ),
    );
    const requests = await events(f, 'MintRequested');
    for (const [i, p] of picked.entries()) {
      const run = runs[i];
      expectNoStack(p.name, run);
      expect([p.name, run.code, run.stderr]).toEqual([p.name, 0, '']);
      const result = JSON.parse(run.stdout) as { tokenId: string; tokenURI: string; verified: boolean; owner: string };
      expect([p.name, result.verified, result.owner]).toEqual([p.name, true, new Wallet(keys.minters[i]).address]);
      const manifest = (await (await fetch(`${f.stack.arlocal.url}/${result.tokenURI.slice('ar://'.length)}`)).json()) as {
        aigc: { prompt: string };
      } & Record<string, unknown>;
      expect([p.name, manifest.aigc.prompt]).toEqual([p.name, p.prompt]);
      // JSON in a prompt stays text: nothing of it became a key of the manifest.
      expect(Object.keys(manifest)).not.toContain('admin');
      const request = requests.find((e) => String(e.args.requestId) === result.tokenId)!;
      expect(Buffer.from(request.args.prompt.slice(2), 'hex').toString('utf8')).toBe(p.prompt);
    }
  });
});

describe('malformed flag values (flags.json): exit code 2, one line naming the flag, nothing sent', () => {
  const runs = new Map<string, CliRun>();
  let before: number[];
  const fill = (c: HostileFlag) =>
    c.args.flatMap((a) =>
      a === '$TARGET'
        ? target()
        : [a.replace('$RPC', f.stack.anvil.rpcUrl).replace('$COLLECTION', String(f.collection.target)).replace('$TMP', tmp)],
    );
  beforeAll(async () => {
    before = await nonces();
    const all = await pooled(hostileFlags, 3, (c) => aigc(fill(c), { env: c.env }));
    hostileFlags.forEach((c, i) => runs.set(c.name, all[i]));
  });

  it('has a case for every kind the issue names', () => {
    const kinds = [/address|--to|--signer|--payee/, /--count|--timeout|--supply|argument 'n'/, /--rpc|--node|--arweave|url/i, /--port/];
    for (const kind of kinds) expect(hostileFlags.some((c) => kind.test(c.names))).toBe(true);
    expect(hostileFlags.some((c) => c.names === '--attestation')).toBe(true);
    expect(hostileFlags.some((c) => c.args.some((a) => a.startsWith('keystore:')))).toBe(true);
    expect(hostileFlags.some((c) => c.args.some((a) => a.startsWith('env:')) && !c.env)).toBe(true);
  });

  it.each(hostileFlags.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const run = runs.get(c.name)!;
    expectNoStack(c.name, run);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: USAGE, stdout: '' });
    const errors = errorLines(run);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(c.names);
    // A key given on the command line is never repeated into logs.
    for (const a of c.args) if (/^0x[0-9a-f]{64}$/i.test(a)) expect(run.stderr).not.toContain(a.slice(2));
  });

  it('sent nothing with the keys that could have paid', async () => {
    expect(await nonces()).toEqual(before);
    expect(await f.collection.paused()).toBe(false);
  });
});
