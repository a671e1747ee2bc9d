import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import IORedis from 'ioredis';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import { arweaveClient, type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { type BundleEvents, createBundlePublisher, ethereumItemSigner, signItem } from '../../pipeline/storage/bundle';
import { type BundleLedger, createBundleLedger } from '../../pipeline/storage/bundle-ledger';

// A bundle upload cut after its transaction was signed (a crash, a failed upload) against real arlocal and Redis: the
// next publisher of the same items finishes that upload or abandons it explicitly, and never puts the items into a
// second bundle the gateway accepted.
let arlocal: ArlocalHandle;
let redisServer: RedisHandle;
let redis: IORedis;
let store: ArweaveStore;
const signer = ethereumItemSigner(Wallet.createRandom().privateKey);

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-bundle-'));
  arlocal = await startArlocal({ dbPath: path.join(dir, 'db'), mineIntervalMs: 200 });
  const jwk = await loadWallet(path.join(dir, 'wallet.json'), { create: true });
  await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000`);
  store = await createArweaveStore({ url: arlocal.url, jwk });
  redisServer = await spawnRedisServer();
  redis = new IORedis(redisServer.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
  await arlocal?.stop();
});

/** `store`, except that each upload's `send` does `cut`: posts (or not) and then fails, as a killed process would. */
const cutStore = (cut: 'after-upload' | 'before-upload'): ArweaveStore => ({
  ...store,
  async prepare(data, tags, options) {
    const tx = await store.prepare(data, tags, options);
    return {
      id: tx.id,
      async send() {
        if (cut === 'after-upload') await tx.send();
        throw new Error(`process killed ${cut}`);
      },
    };
  },
});

/** Bundle transactions on the gateway holding `itemId`, read from each bundle's ANS-104 header. */
async function bundlesHolding(itemId: string, tag: string): Promise<string[]> {
  await arlocal.mine();
  const query = `{ transactions(tags: [{ name: "Type", values: ["bundle"] }, { name: "Test", values: ["${tag}"] }]) { edges { node { id } } } }`;
  const res = await fetch(`${arlocal.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const ids = ((await res.json()) as { data: { transactions: { edges: { node: { id: string } }[] } } }).data.transactions.edges.map(
    (e) => e.node.id,
  );
  const holding = [];
  for (const id of ids) {
    const bytes = Buffer.from(await store.download(id));
    const count = Number(bytes.readBigUInt64LE(0));
    const items = Array.from({ length: count }, (_, i) => bytes.subarray(64 + 64 * i, 96 + 64 * i).toString('base64url'));
    if (items.includes(itemId)) holding.push(id);
  }
  return holding;
}

function counting() {
  const seen = { resumed: 0, abandoned: 0, republished: 0 };
  const events: BundleEvents = {
    onResumed: () => seen.resumed++,
    onAbandoned: () => seen.abandoned++,
    onRepublished: (n) => (seen.republished += n),
  };
  return { seen, events };
}

describe('bundle publisher with a ledger', () => {
  let ledger: BundleLedger;
  beforeEach(() => {
    ledger = createBundleLedger({ redis, prefix: `test:${Date.now()}:${Math.random()}` });
  });

  it('finishes a bundle whose upload completed but was never recorded, under the same transaction', async () => {
    const tag = 'after-upload';
    const [image, manifest] = await Promise.all([signItem(signer, randomBytes(300_000), {}), signItem(signer, randomBytes(500), {})]);
    const first = createBundlePublisher({ store: cutStore('after-upload'), signer, tags: { Test: tag }, ledger, windowMs: 5 });
    await expect(first.publish([image.raw, manifest.raw])).rejects.toMatchObject({ code: 'ARWEAVE_FAILED' });
    first.close();
    const [open] = await ledger.open();
    const tx = (await ledger.read(open))!.tx!;

    const { seen, events } = counting();
    const retry = createBundlePublisher({ store, signer, tags: { Test: tag }, ledger, windowMs: 5, ...events });
    expect(await retry.publish([image.raw, manifest.raw])).toBe(tx); // the same bundle, not a new one
    expect(seen).toEqual({ resumed: 1, abandoned: 0, republished: 0 });
    expect(await ledger.open()).toEqual([]);
    expect(await bundlesHolding(image.id, tag)).toEqual([tx]);
    expect(await bundlesHolding(manifest.id, tag)).toEqual([tx]);
    // A later retry of the same items (a job that stalled again) is answered from the ledger.
    expect(await retry.publish([image.raw, manifest.raw])).toBe(tx);
    expect(await bundlesHolding(image.id, tag)).toEqual([tx]);
  });

  it('abandons, and counts, a signed bundle the gateway never received, then publishes its items once', async () => {
    const tag = 'before-upload';
    const [image, manifest] = await Promise.all([signItem(signer, randomBytes(2_000), {}), signItem(signer, randomBytes(500), {})]);
    const first = createBundlePublisher({ store: cutStore('before-upload'), signer, tags: { Test: tag }, ledger, windowMs: 5 });
    await expect(first.publish([image.raw, manifest.raw])).rejects.toMatchObject({ code: 'ARWEAVE_FAILED' });
    first.close();
    const [open] = await ledger.open();
    const abandonedTx = (await ledger.read(open))!.tx!;

    const { seen, events } = counting();
    const retry = createBundlePublisher({ store, signer, tags: { Test: tag }, ledger, windowMs: 5, ...events });
    const bundle = await retry.publish([image.raw, manifest.raw]);
    expect(bundle).not.toBe(abandonedTx);
    expect(seen).toEqual({ resumed: 0, abandoned: 1, republished: 2 });
    expect((await ledger.read(open))!.state).toBe('abandoned');
    expect(await bundlesHolding(image.id, tag)).toEqual([bundle]);
  });

  it('recovers an interrupted upload on its own, with no job asking for it', async () => {
    const tag = 'recover';
    const item = await signItem(signer, randomBytes(400_000), {});
    const first = createBundlePublisher({ store: cutStore('after-upload'), signer, tags: { Test: tag }, ledger, windowMs: 5 });
    await expect(first.publish([item.raw])).rejects.toMatchObject({ code: 'ARWEAVE_FAILED' });
    first.close();
    const [open] = await ledger.open();

    const { seen, events } = counting();
    const next = createBundlePublisher({ store, signer, tags: { Test: tag }, ledger, ...events });
    await next.recover();
    next.close();
    expect(seen.resumed).toBe(1);
    expect(await ledger.open()).toEqual([]);
    const record = (await ledger.read(open))!;
    expect(record).toMatchObject({ state: 'uploaded', items: [item.id] });
    expect(record.data).toBeUndefined(); // the kept bytes are let go once stored
    expect(await bundlesHolding(item.id, tag)).toEqual([record.tx]);
  });
});
