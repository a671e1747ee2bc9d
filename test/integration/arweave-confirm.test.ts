import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import { createLogger } from '../../pipeline/logger';
import { ArweaveRefusedError, arweaveClient, type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { type ConfirmationWatcher, createConfirmationWatcher } from '../../pipeline/storage/confirmations';

// Real arlocal (mined by hand) and a private redis-server; random bytes large enough to be chunked.
let arlocal: ArlocalHandle;
let redisServer: RedisHandle;
let redis: IORedis;
let store: ArweaveStore;
let watcher: ConfirmationWatcher;
let spoolDir: string;
let jwk: Awaited<ReturnType<typeof loadWallet>>;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const KEY = 'aigc:arweave:pending:test';

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-confirm-'));
  spoolDir = path.join(dir, 'spool');
  arlocal = await startArlocal({ dbPath: path.join(dir, 'db'), mineIntervalMs: 3_600_000 });
  redisServer = await spawnRedisServer();
  redis = new IORedis(redisServer.url);
  jwk = await loadWallet(path.join(dir, 'wallet.json'), { create: true });
  await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000`);
  watcher = createConfirmationWatcher({
    redis,
    key: KEY,
    spoolDir,
    confirmations: 2,
    pollMs: 60_000,
    dropAfterMs: 0,
    logger: createLogger({ level: 'silent' }),
  });
  store = await createArweaveStore({ url: arlocal.url, jwk, journal: watcher });
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
  await arlocal?.stop();
});
beforeEach(() => redis.del(KEY, `${KEY}:headers`));

/** arlocal orders blocks by a creation time in whole seconds: 60 blocks in a later second are surely newer than what came before. */
const olderBy60Blocks = async () => {
  await new Promise((r) => setTimeout(r, 1_100));
  await arlocal.mine(60);
};
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

  it('tells a transaction refused for its anchor from a dropped one, and signs the data again', async () => {
    // A store that keeps its anchor for an hour: after 60 blocks it is older than arlocal accepts (the last 50).
    const stale = await createArweaveStore({ url: arlocal.url, jwk, journal: watcher, anchorTtlMs: 3_600_000 });
    const first = await stale.upload(randomBytes(1_000), { Test: 'anchor-cached' });
    const data = randomBytes(300_000);
    const old = await stale.prepare(data, { Test: 'anchor' }); // signed and recorded, then the node was down
    await olderBy60Blocks();
    const refused = await stale.resume(old.id, data).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ArweaveRefusedError);
    expect(refused).toMatchObject({ reason: 'anchor', txId: old.id });

    // Signed again with a fresh anchor (the refusal dropped the cached one): the new record replaces the old one,
    // and the caller's own record of the id, in one step.
    await redis.hset('test:out', 'imageTx', old.id);
    const again = await stale.prepare(data, { Test: 'anchor' }, { link: { key: 'test:out', field: 'imageTx' }, replaces: old.id });
    expect(await redis.hget('test:out', 'imageTx')).toBe(again.id);
    expect(await watcher.header(old.id)).toBeUndefined();
    expect(spooled(old.id)).toBe(false);
    expect(await again.send()).toBe(again.id);
    await arlocal.mine();
    expect(sha(await stale.download(again.id))).toBe(sha(data));

    // upload() signs again by itself: nothing knew the refused id.
    await olderBy60Blocks();
    const id = await stale.upload(data, { Test: 'anchor-upload' });
    await arlocal.mine();
    expect(await stale.status(id)).toEqual({ state: 'confirmed', confirmations: expect.any(Number) });
    // No refused transaction is left for the watcher to post.
    expect((await redis.zrange(KEY, 0, -1)).sort()).toEqual([first, again.id, id].sort());
    expect((await redis.hkeys(`${KEY}:headers`)).sort()).toEqual([first, again.id, id].sort());
  });

  it('counts a repost the gateway refuses as lost, and still posts the other dropped uploads', async () => {
    const stale = await createArweaveStore({ url: arlocal.url, jwk, journal: watcher, anchorTtlMs: 3_600_000 });
    const refused = await stale.prepare(randomBytes(1_000), { Test: 'refused-repost' });
    await olderBy60Blocks();
    const fresh = await (
      await createArweaveStore({ url: arlocal.url, jwk, journal: watcher })
    ).prepare(randomBytes(1_000), { Test: 'dropped-after' });
    expect(await watcher.checkOnce(stale)).toEqual({ pending: 2, confirmed: 0, reposted: 1, lost: 1 });
    expect(await store.status(refused.id)).toEqual({ state: 'not-found' });
    expect(await store.status(fresh.id)).toEqual({ state: 'pending' });
  });
});
