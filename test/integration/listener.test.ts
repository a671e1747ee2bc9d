import type { Contract, JsonRpcProvider, Wallet } from 'ethers';
import IORedis from 'ioredis';
import { subscribeHeads } from '../../pipeline/chain/heads';
import { type Listener, startListener } from '../../pipeline/chain/listener';
import type { MintRequest } from '../../pipeline/chain/request';
import { deleteKeys, ensureRedis, type RedisHandle } from '../../pipeline/embedded/redis';
import { createLogger } from '../../pipeline/logger';
import { type ChainFixture, newCollection, PRICE, startChain } from '../helpers/collection';
import { requestMint } from '../helpers/mint';
import { sleep, until } from '../helpers/wait';

// The listener against a real anvil and Redis: woken by new heads over a WebSocket (its poll timer is set to a
// minute, so only a wake can explain a quick delivery), and rolling back over a reorg.
jest.setTimeout(60_000);

const logger = createLogger({ level: 'silent' });
const prefix = `aigc-listener-${process.pid}-${Date.now()}`;
let chain: ChainFixture;
let collection: Contract;
let provider: JsonRpcProvider;
let redisHandle: RedisHandle;
let redis: IORedis;
beforeAll(async () => {
  chain = await startChain(4);
  provider = chain.provider;
  collection = await newCollection(chain);
  redisHandle = await ensureRedis({ url: process.env.REDIS_URL || undefined });
  redis = new IORedis(redisHandle.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await deleteKeys(redis, `${prefix}:*`);
  redis.disconnect();
  await redisHandle.stop();
  await chain.stop();
});

const request = async (wallet: Wallet, prompt: string) => (await requestMint(collection, wallet, prompt, PRICE)).blockNumber;

function listen(name: string, pollIntervalMs: number) {
  const seen: MintRequest[] = [];
  const listener: Listener = startListener({
    provider,
    redis,
    cursorKey: `${prefix}:${name}:cursor`,
    collection: collection.target as string,
    confirmations: 0,
    pollIntervalMs,
    maxBlockRange: 1_000,
    startBlock: 0,
    logger,
    onRequests: async (requests) => void seen.push(...requests),
  });
  return { listener, seen };
}

describe('listener', () => {
  it('is woken by a new head long before its poll timer', async () => {
    const { listener, seen } = listen('woken', 60_000);
    const heads = subscribeHeads({ url: chain.anvil.rpcUrl.replace(/^http/, 'ws'), onHead: () => listener.wake(), logger });
    try {
      await sleep(300); // no event says the first poll is done and the subscription open
      const before = seen.length;
      const sent = Date.now();
      await request(chain.wallets[2], 'woken by a head');
      await until('the request seen', () => seen.length > before, 5_000, 10);
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(seen.at(-1)!.prompt).toBe('woken by a head');
    } finally {
      heads.stop();
      await listener.stop();
    }
  });

  it('hands each request on once, and re-reads blocks a reorg replaced', async () => {
    const { listener, seen } = listen('reorg', 60_000);
    try {
      await listener.pollOnce();
      const start = seen.length;
      const snapshot = await provider.send('evm_snapshot', []);
      await request(chain.wallets[3], 'before the reorg');
      await listener.pollOnce();
      await listener.pollOnce(); // nothing new: nothing handed on twice
      expect(seen.slice(start).map((r) => r.prompt)).toEqual(['before the reorg']);

      // The block is replaced by one at the same height holding another request.
      await provider.send('evm_revert', [snapshot]);
      await request(chain.wallets[3], 'after the reorg');
      await listener.pollOnce();
      expect(seen.slice(start).map((r) => r.prompt)).toEqual(['before the reorg', 'after the reorg']);
      const [before, after] = seen.slice(start);
      expect(after.blockNumber).toBe(before.blockNumber);
      expect(after.blockHash).not.toBe(before.blockHash);
    } finally {
      await listener.stop();
    }
  });
});
