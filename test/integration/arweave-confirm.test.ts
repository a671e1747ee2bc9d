import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import { createLogger } from '../../pipeline/logger';
import { arweaveClient, type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { type ConfirmationWatcher, createConfirmationWatcher } from '../../pipeline/storage/confirmations';

// Real arlocal (mined by hand) and a private redis-server; random bytes large enough to be chunked.
let arlocal: ArlocalHandle;
let redisServer: RedisHandle;
let redis: IORedis;
let store: ArweaveStore;
let watcher: ConfirmationWatcher;
let spoolDir: string;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const KEY = 'aigc:arweave:pending:test';

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-confirm-'));
  spoolDir = path.join(dir, 'spool');
  arlocal = await startArlocal({ dbPath: path.join(dir, 'db'), mineIntervalMs: 3_600_000 });
  redisServer = await spawnRedisServer();
  redis = new IORedis(redisServer.url);
  const jwk = await loadWallet(path.join(dir, 'wallet.json'), { create: true });
  await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000`);
  watcher = createConfirmationWatcher({ redis, key: KEY, spoolDir, confirmations: 2, pollMs: 60_000, dropAfterMs: 0, logger: createLogger({ level: 'silent' }) });
  store = await createArweaveStore({ url: arlocal.url, jwk, journal: watcher });
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
  await arlocal?.stop();
});
beforeEach(() => redis.del(KEY, `${KEY}:headers`));

const spooled = (id: string) => fs.existsSync(path.join(spoolDir, `${id}.bin`));

describe('Arweave confirmations', () => {
  it('keeps an upload until it is deep enough, then lets its bytes go', async () => {
    const data = randomBytes(300_000);
    const id = await store.upload(data, { Test: 'confirm' });
    expect(spooled(id)).toBe(true);
    expect(await watcher.checkOnce(store)).toEqual({ pending: 1, confirmed: 0, reposted: 0, lost: 0 });
    await arlocal.mine();
    expect(await store.status(id)).toEqual({ state: 'confirmed', confirmations: expect.any(Number) });
    await arlocal.mine();
    await arlocal.mine();
    expect(await watcher.checkOnce(store)).toEqual({ pending: 0, confirmed: 1, reposted: 0, lost: 0 });
    expect(spooled(id)).toBe(false);
    expect(await redis.zcard(KEY)).toBe(0);
    expect(sha(await store.download(id))).toBe(sha(data));
  });

  it('posts a transaction the network never got again, under the same id', async () => {
    const data = randomBytes(700_000);
    const tx = await store.prepare(data, { Test: 'dropped' }); // signed and recorded, never sent (a crash, a drop)
    expect(await store.status(tx.id)).toEqual({ state: 'not-found' });
    expect(await watcher.checkOnce(store)).toEqual({ pending: 1, confirmed: 0, reposted: 1, lost: 0 });
    for (let i = 0; i < 3; i++) await arlocal.mine();
    expect(sha(await store.download(tx.id))).toBe(sha(data));
    expect(await watcher.checkOnce(store)).toEqual({ pending: 0, confirmed: 1, reposted: 0, lost: 0 });
  });

  it('resumes a recorded transaction the gateway never received, and forgets it when the bytes differ', async () => {
    const data = randomBytes(2_000);
    const tx = await store.prepare(data, { Test: 'resume' });
    expect(await store.resume(tx.id, data)).toBe(true); // posted from the recorded header
    await arlocal.mine();
    expect(sha(await store.download(tx.id))).toBe(sha(data));

    const other = await store.prepare(randomBytes(2_000), { Test: 'resume-other' });
    expect(await store.resume(other.id, randomBytes(2_000))).toBe(false);
    expect(await watcher.header(other.id)).toBeUndefined(); // never posted later by the watcher
    expect(spooled(other.id)).toBe(false);
  });

  it('reports a dropped upload whose bytes are gone instead of failing silently', async () => {
    const tx = await store.prepare(randomBytes(1_000), { Test: 'lost' });
    fs.rmSync(path.join(spoolDir, `${tx.id}.bin`));
    expect(await watcher.checkOnce(store)).toEqual({ pending: 1, confirmed: 0, reposted: 0, lost: 1 });
  });
});
