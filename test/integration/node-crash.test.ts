import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Wallet } from 'ethers';
import { type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import { events, type NodeFixture, sendRequests, startNodeFixture } from '../helpers/node-stack';
import { findLeaks, stackSecrets } from '../helpers/secret-scan';
import { until } from '../helpers/wait';

// The operator node as its own process (the compiled `aigc node`), killed with SIGKILL three times at random
// moments while 100 requests are in flight, and restarted each time; once per Arweave mode. The leader lease keeps
// its default ttl (10 s): a new leader then inherits a backlog of finished renders and fulfilments, which is when
// work used to be done twice.
jest.setTimeout(600_000);

const CLI = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');
// Keys the node holds only so the log scan can look for them (the fixture's gateway takes any key).
const API_KEY = 'crash-api-key-0123456789abcdef';
const GATEWAY_KEY = 'crash-gateway-key-0123456789abcdef';
let f: NodeFixture;
let child: ChildProcess | undefined;
let log: fs.WriteStream;

function startNodeProcess(mode: string): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...f.env(),
    AIGC_ARWEAVE_MODE: mode,
    AIGC_API_KEYS: API_KEY,
    AIGC_GATEWAY_API_KEY: GATEWAY_KEY,
  };
  delete env.AIGC_LEADER_TTL_MS; // the default ttl
  const proc = spawn(process.execPath, [CLI, 'node'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  return proc;
}

const exited = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });

/** Manifests the node stored on Arweave, per request id, read back through the gateway's GraphQL. */
async function manifestsPerRequest(): Promise<Map<string, number>> {
  const ids = new Map<string, Set<string>>(); // distinct transaction ids: pages may overlap
  let after = '';
  for (;;) {
    const query = `{ transactions(first: 100${after ? `, after: "${after}"` : ''}, tags: [{ name: "Type", values: ["manifest"] }, { name: "Collection", values: ["${await f.collection.getAddress()}"] }]) { pageInfo { hasNextPage } edges { cursor node { id tags { name value } } } } }`;
    const res = await fetch(`${f.stack.arlocal.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as {
      data: {
        transactions: {
          pageInfo: { hasNextPage: boolean };
          edges: { cursor: string; node: { id: string; tags: { name: string; value: string }[] } }[];
        };
      };
    };
    for (const edge of body.data.transactions.edges) {
      const requestId = edge.node.tags.find((t) => t.name === 'Request-Id')!.value;
      ids.set(requestId, (ids.get(requestId) ?? new Set()).add(edge.node.id));
      after = edge.cursor;
    }
    if (!body.data.transactions.pageInfo.hasNextPage) return new Map([...ids].map(([k, v]) => [k, v.size]));
  }
}

/** `FulfillSkipped` events (items of a `fulfillBatch` the contract skipped) in transactions sent by `from`. */
async function skippedFulfilmentsFrom(from: string): Promise<{ requestId: string; reason: string; tx: string }[]> {
  const skipped = [];
  for (const log of await events(f, 'FulfillSkipped')) {
    const tx = await f.provider.getTransaction(log.transactionHash);
    if (tx?.from.toLowerCase() === from.toLowerCase())
      skipped.push({ requestId: String(log.args.requestId), reason: String(log.args.reason), tx: log.transactionHash });
  }
  return skipped;
}

/**
 * Every bundle transaction the gateway knows, with the data item ids its ANS-104 header lists (32-byte item count,
 * then per item 32 bytes of size and 32 of id), and whether all of its data is stored.
 */
async function bundlesOnArweave(store: ArweaveStore): Promise<{ id: string; complete: boolean; items: string[] }[]> {
  const ids = new Set<string>();
  let after = '';
  for (;;) {
    const query = `{ transactions(first: 100${after ? `, after: "${after}"` : ''}, tags: [{ name: "Type", values: ["bundle"] }, { name: "Bundle-Format", values: ["binary"] }]) { pageInfo { hasNextPage } edges { cursor node { id } } } }`;
    const res = await fetch(`${f.stack.arlocal.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as {
      data: { transactions: { pageInfo: { hasNextPage: boolean }; edges: { cursor: string; node: { id: string } }[] } };
    };
    for (const edge of body.data.transactions.edges) {
      ids.add(edge.node.id);
      after = edge.cursor;
    }
    if (!body.data.transactions.pageInfo.hasNextPage) break;
  }
  const bundles = [];
  for (const id of ids) {
    const data = await store.download(id).catch(() => undefined);
    if (!data) {
      bundles.push({ id, complete: false, items: [] });
      continue;
    }
    const bytes = Buffer.from(data);
    const count = Number(bytes.readBigUInt64LE(0)); // 32-byte little-endian; bundles here hold far fewer than 2^64 items
    const items = Array.from({ length: count }, (_, i) => bytes.subarray(32 + 64 * i + 32, 32 + 64 * (i + 1)).toString('base64url'));
    bundles.push({ id, complete: true, items });
  }
  return bundles;
}

/** Job counts per queue and state, to explain a stuck run. */
async function queueStates() {
  const out: Record<string, Record<string, number>> = {};
  for (const name of ['generate', 'fulfill-31337']) {
    // anvil's chain id
    const queue = new Queue(name, { connection: { url: f.redis.url } as never, prefix: 'aigc' });
    out[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children');
    await queue.close();
  }
  return out;
}

/**
 * Every line the four node processes wrote (stdout and stderr, kills included) holds no key: not the anvil accounts'
 * (the signer's among them), nor the Arweave wallet's, the C2PA key, or the API keys.
 */
async function expectNoSecretsLogged(): Promise<void> {
  await until('the last node output written', () => child!.stdout!.readableEnded && child!.stderr!.readableEnded);
  await new Promise<void>((resolve) => log.write('', () => resolve()));
  const text = fs.readFileSync(path.join(f.dataDir, 'node.log'), 'utf8');
  expect(text.match(/"msg":"node started"/g)?.length).toBeGreaterThanOrEqual(1); // a kill may come before a start completes
  const secrets = stackSecrets({
    privateKeys: f.stack.anvil.privateKeys,
    arweaveWalletPath: f.stack.arweaveWalletPath,
    c2paKeyPath: f.stack.c2pa.keyPath,
    apiKeys: [API_KEY, GATEWAY_KEY],
  });
  expect(findLeaks([{ source: 'node.log', text }], secrets)).toEqual([]);
}

describe.each([['transactions'], ['bundle']])('node killed with SIGKILL three times (%s mode)', (mode) => {
  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    f = await startNodeFixture({ accounts: 12 });
    log = fs.createWriteStream(path.join(f.dataDir, 'node.log'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    log?.end();
    await f?.stop();
  });

  it('mints each of 100 requests exactly once, with one manifest each, and wastes no fulfilment or upload', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

    child = startNodeProcess(mode);
    const sending = sendRequests(
      f,
      Array.from({ length: 100 }, (_, i) => `a paper boat on river ${i}`),
    );
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 1_000 + random() * 3_000));
      child.kill('SIGKILL');
      expect((await exited(child)).signal).toBe('SIGKILL');
      child = startNodeProcess(mode);
    }
    const requests = await sending;
    await until('100 mints', async () => (await events(f, 'MintFulfilled')).length >= 100, 180_000).catch(async (error) => {
      throw new Error(
        `${(error as Error).message}; queues: ${JSON.stringify(await queueStates())}; node log: ${path.join(f.dataDir, 'node.log')}`,
      );
    });

    child.kill('SIGTERM'); // graceful stop drains and exits 0
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    await expectNoSecretsLogged();

    const minted = (await events(f, 'MintFulfilled')).map((l) => l.args.requestId as bigint).sort((a, b) => Number(a - b));
    expect(minted).toEqual(requests.map((r) => r.requestId).sort((a, b) => Number(a - b))); // every request once, none twice
    expect(await events(f, 'MintRejected')).toEqual([]);
    for (const r of requests) expect(await f.collection.ownerOf(r.requestId)).toBe(r.recipient);
    // Each token's manifest is on Arweave and names its request (bundled items are indexed when their bundle is mined,
    // and arlocal mines every second).
    const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
    const manifestIds = await Promise.all(
      requests.map(async (r) => ((await f.collection.tokenURI(r.requestId)) as string).slice('ar://'.length)),
    );
    // One read at a time, each manifest once, stopping at the first one not indexed yet: arlocal serves reads and
    // indexes bundles over one SQLite connection, and 100 reads every 200 ms starved the mining they wait for.
    const manifests = new Map<string, TokenManifest>();
    const readMissing = async () => {
      for (const id of manifestIds.filter((m) => !manifests.has(m))) {
        const bytes = await store.download(id).catch(() => undefined);
        if (!bytes) return false;
        manifests.set(id, JSON.parse(Buffer.from(bytes).toString()) as TokenManifest);
      }
      return true;
    };
    await until('every manifest readable', readMissing, 60_000);
    expect(manifestIds.map((id) => manifests.get(id)!.aigc.requestId)).toEqual(requests.map((r) => r.requestId.toString()));
    expect(new Set(manifestIds).size).toBe(100);
    // And no request got a second manifest uploaded (a signed manifest published twice keeps its id).
    const duplicated = [...(await manifestsPerRequest())].filter(([, n]) => n > 1);
    expect({ seed, duplicated }).toEqual({ seed, duplicated: [] });

    // No fulfilment was sent for a request already closed on chain: the contract skipped nothing the operator sent.
    const operator = new Wallet(f.stack.anvil.privateKeys[1]).address;
    expect({ seed, skipped: await skippedFulfilmentsFrom(operator) }).toEqual({ seed, skipped: [] });
    if (mode === 'bundle') {
      // Each signed item is in exactly one bundle, and every bundle the gateway knows is stored whole (an upload cut
      // by a kill was resumed, or abandoned before the gateway accepted it).
      const bundles = await bundlesOnArweave(store);
      const bundlesOf = new Map<string, string[]>();
      for (const b of bundles) for (const item of b.items) bundlesOf.set(item, [...(bundlesOf.get(item) ?? []), b.id]);
      const inTwo = [...bundlesOf].filter(([, of]) => of.length > 1);
      const incomplete = bundles.filter((b) => !b.complete).map((b) => b.id);
      expect({ seed, inTwo, incomplete }).toEqual({ seed, inTwo: [], incomplete: [] });
      // Image and manifest of every request are among the items.
      for (const id of manifestIds) expect(bundlesOf.has(id)).toBe(true);
    }
  });
});
