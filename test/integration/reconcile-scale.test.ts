import type { Contract } from 'ethers';
import IORedis from 'ioredis';
import { createProvider } from '../../pipeline/chain/provider';
import { REORG_DEPTH, reconcileFromMark } from '../../pipeline/chain/reconcile';
import { type MintRequest, requestStruct } from '../../pipeline/chain/request';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import { advanceTime, type ChainFixture, newCollection, send, signedFulfillment, startChain } from '../helpers/collection';
import { requestMint } from '../helpers/mint';
import { type RpcCall, type RpcCounter, startRpcCounter } from '../helpers/rpc-counter';

// Reconciliation against anvil with a long history, its RPC calls counted at a proxy: from a low-water mark the
// calls per reconcile do not grow with history; without one (a wiped Redis) the whole history is read, paced, and
// every open request is found again. Short stretches are mined (anvil_mine); long runs of empty blocks are shown
// by the proxy (`grow`), as anvil takes minutes per ten thousand blocks once its chain is long.
jest.setTimeout(300_000);

const RANGE = 2_000;
const PACE = 50; // eth_getLogs a second
const CHAIN_ID = 31337;

let chain: ChainFixture;
let counter: RpcCounter;
let redisHandle: RedisHandle; // private: the test wipes it
let redis: IORedis;
beforeAll(async () => {
  chain = await startChain(12);
  counter = await startRpcCounter(chain.anvil.rpcUrl);
  redisHandle = await spawnRedisServer();
  redis = new IORedis(redisHandle.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis?.disconnect();
  await redisHandle?.stop();
  await counter?.close();
  await chain?.stop();
});

const mine = (blocks: number) => chain.provider.send('anvil_mine', [`0x${blocks.toString(16)}`]);
const grow = (blocks: number) => counter.addEmptyBlocks(blocks);
/** The block of `r` as the proxy shows it. */
const at = (r: MintRequest) => counter.shown(r.blockNumber);
const ids = (requests: MintRequest[]) => requests.map((r) => r.requestId.toString()).sort();

/** A new collection and a reconcile of it through the counting proxy, with what the proxy saw. */
async function collectionWithReconcile({ confirmations = 0 } = {}) {
  const collection = await newCollection(chain, { mint: { refundDelay: 60 } });
  const address = await collection.getAddress();
  const markKey = `test:reconcile:${CHAIN_ID}:${address.toLowerCase()}`;
  const provider = createProvider(counter.url, 50, CHAIN_ID);
  const startBlock = await provider.getBlockNumber(); // deployed at or before it; no request is older
  const reconcile = async () => {
    counter.reset();
    const started = Date.now();
    const r = await reconcileFromMark({
      provider,
      redis,
      markKey,
      address,
      startBlock,
      confirmations,
      maxBlockRange: RANGE,
      maxLogsPerSecond: PACE,
    });
    return {
      ...r,
      ids: ids(r.open),
      seen: counter.count(),
      logCalls: counter.calls.filter((c) => c.method === 'eth_getLogs'),
      ms: Date.now() - started,
    };
  };
  return { collection, address, markKey, reconcile, stop: () => provider.destroy() };
}

const reject = (c: Contract, r: MintRequest) => send(c, chain.operator, 'reject', r.requestId, requestStruct(r), 1);
const fulfil = async (c: Contract, r: MintRequest) =>
  send(c, chain.operator, 'fulfill', await signedFulfillment(r, chain.operator, { collection: await c.getAddress() }));
const refund = async (c: Contract, r: MintRequest) => {
  await advanceTime(chain.provider, 61); // past refundDelay
  return send(c, chain.wallets[11], 'refund', r.requestId, requestStruct(r));
};

/** No more than PACE calls in any second (arrival times at the proxy; 50 ms of slack for loopback jitter). */
function expectPaced(calls: RpcCall[]) {
  for (let i = 0; i + PACE < calls.length; i++) expect(calls[i + PACE].at - calls[i].at).toBeGreaterThanOrEqual(1000 - 50);
  expect(calls[calls.length - 1].at - calls[0].at).toBeGreaterThanOrEqual(((calls.length - 1) * 1000) / PACE - 50);
}

describe('reconcile from a low-water mark', () => {
  it('makes the same few RPC calls per reconcile at 10k and 200k blocks of history; only a full scan grows, paced', async () => {
    const { collection, markKey, reconcile, stop } = await collectionWithReconcile();
    await reject(collection, await requestMint(collection, chain.wallets[2]));
    await grow(10_000);
    const full10k = await reconcile();
    expect(full10k.fullScan).toBe(true);

    await mine(30); // one reconcile interval of a 2-second chain
    const steady10k = await reconcile();
    expect(steady10k.fullScan).toBe(false);
    await grow(190_000);
    await reconcile(); // reads the new blocks once
    await mine(30);
    const steady200k = await reconcile();

    expect(steady200k.rpcCalls).toBe(steady10k.rpcCalls);
    expect(steady200k.rpcCalls).toBe(2); // eth_blockNumber, and one eth_getLogs for the four events
    expect(steady200k.seen).toBe(steady200k.rpcCalls); // the returned count is what the provider saw
    expect(steady200k.latestBlock - steady200k.fromBlock).toBeLessThan(RANGE);

    // Without a mark (a wiped Redis), the whole history: it grows with the chain, and keeps the pace.
    await redis.del(markKey);
    const full200k = await reconcile();
    expect(full200k.fullScan).toBe(true);
    expect(full200k.logCalls.length).toBe(Math.ceil((full200k.latestBlock - full200k.fromBlock + 1) / RANGE));
    expect(full200k.rpcCalls).toBeGreaterThan(10 * full10k.rpcCalls);
    expectPaced(full200k.logCalls);
    expect(full200k.mark).toBe(full200k.latestBlock - REORG_DEPTH + 1);
    stop();
  });

  it('finds exactly the open requests after a wiped Redis, wherever in history they were made', async () => {
    const { collection, reconcile, stop } = await collectionWithReconcile();
    const w = chain.wallets;
    const a = await requestMint(collection, w[2]);
    await grow(5_000);
    const b = await requestMint(collection, w[3]);
    const c = await requestMint(collection, w[4]);
    await grow(20_000);
    const d = await requestMint(collection, w[5]);
    await fulfil(collection, a);
    await grow(3_000);
    await reject(collection, c);
    const e = await requestMint(collection, w[6]);
    await grow(10_000);
    const f = await requestMint(collection, w[7]);
    await refund(collection, d);
    await mine(REORG_DEPTH); // every ending settled
    const open = ids([b, e, f]);

    const first = await reconcile();
    expect(first.ids).toEqual(open);
    expect(first.mark).toBe(at(b)); // the oldest open request
    await grow(500);
    const again = await reconcile();
    expect(again.ids).toEqual(open);
    expect(again.fromBlock).toBe(at(b));

    await redis.flushall();
    const wiped = await reconcile();
    expect(wiped.fullScan).toBe(true);
    expect(wiped.ids).toEqual(open);
    expect(wiped.mark).toBe(at(b));
    stop();
  });

  it('keeps the mark at an open request however old it gets, and moves it on once the request has ended', async () => {
    const { collection, reconcile, stop } = await collectionWithReconcile();
    const old = await requestMint(collection, chain.wallets[2]);
    expect((await reconcile()).ids).toEqual(ids([old]));
    for (const [i, blocks] of [50_000, 100_000].entries()) {
      await grow(blocks);
      await reject(collection, await requestMint(collection, chain.wallets[3 + i])); // newer requests end
      await mine(REORG_DEPTH);
      const r = await reconcile();
      expect(r.ids).toEqual(ids([old]));
      expect(r.mark).toBe(at(old));
    }

    await reject(collection, old);
    const ending = await reconcile();
    expect(ending.ids).toEqual([]);
    expect(ending.mark).toBe(at(old)); // its ending is not settled yet: a reorg may undo it
    await mine(REORG_DEPTH);
    const ended = await reconcile();
    expect(ended.mark).toBe(ended.latestBlock - REORG_DEPTH + 1);
    const next = await reconcile();
    expect(next.rpcCalls).toBe(2);
    stop();
  });

  it('does not pass a request that is not yet `confirmations` deep', async () => {
    const confirmations = 2 * REORG_DEPTH; // deeper than the reorg margin, so the confirmations decide
    const { collection, reconcile, stop } = await collectionWithReconcile({ confirmations });
    await grow(3 * confirmations);
    const req = await requestMint(collection, chain.wallets[2]);
    await mine(confirmations - 10);
    const early = await reconcile();
    expect(early.ids).toEqual([]); // not counted yet
    expect(early.mark).toBeLessThanOrEqual(at(req));
    await mine(10);
    const confirmed = await reconcile();
    expect(confirmed.ids).toEqual(ids([req]));
    expect(confirmed.mark).toBe(at(req));
    stop();
  });

  it('finds a request again when a reorg undoes its ending', async () => {
    const { collection, reconcile, stop } = await collectionWithReconcile();
    const req = await requestMint(collection, chain.wallets[2]);
    await mine(3 * REORG_DEPTH); // the request is settled; only the ending keeps the mark at it
    const snapshot = await chain.provider.send('evm_snapshot', []);
    await reject(collection, req);
    await mine(10);
    const ended = await reconcile();
    expect(ended.ids).toEqual([]);
    expect(ended.mark).toBe(at(req));

    await chain.provider.send('evm_revert', [snapshot]); // the rejection's block is replaced
    await mine(20);
    const reorged = await reconcile();
    expect(reorged.ids).toEqual(ids([req]));
    stop();
  });
});
