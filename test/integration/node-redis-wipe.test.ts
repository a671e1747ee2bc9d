import IORedis from 'ioredis';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { events, type NodeFixture, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture();
  // Small batches and a slow window so work is still in flight when Redis is wiped.
  node = await startNode({
    config: f.config({ generate: { concurrency: 1 }, fulfill: { batchSize: 2, batchWindowMs: 300 } }),
    template,
    logger: createLogger({ level: 'silent' }),
  });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

describe('Redis wiped mid-run', () => {
  it('recovers the open work from chain and mints every request exactly once', async () => {
    const requests = await sendRequests(
      f,
      Array.from({ length: 12 }, (_, i) => `lantern festival number ${i}`),
    );
    await until('a first mint', async () => (await events(f, 'MintFulfilled')).length >= 2);
    const redis = new IORedis(f.redis.url);
    await redis.flushall();
    await redis.quit();
    const mintedAtWipe = (await events(f, 'MintFulfilled')).length;
    expect(mintedAtWipe).toBeLessThan(requests.length); // work was still open when its queue state vanished
    await until('all mints', async () => (await events(f, 'MintFulfilled')).length >= requests.length, 120_000);
    const minted = (await events(f, 'MintFulfilled')).map((l) => l.args.requestId as bigint);
    expect(minted.sort((a, b) => Number(a - b))).toEqual(requests.map((r) => r.requestId).sort((a, b) => Number(a - b))); // each once
    expect(await events(f, 'MintRejected')).toEqual([]);
    for (const r of requests) expect(await f.collection.ownerOf(r.requestId)).toBe(r.recipient);
  });
});
