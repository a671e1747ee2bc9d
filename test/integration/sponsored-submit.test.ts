import { Queue } from 'bullmq';
import { Wallet } from 'ethers';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import type { MintForJobData, MintForResult } from '../../pipeline/queue/jobs';
import { mintIdOf, submitMint } from '../../pipeline/sponsored/submit';

// submitMint against a real redis-server of its own: which call of an Idempotency-Key queued the mint, and which
// are answered as its replay (`idempotent-replayed: true`, no "queued" log, a drop counted as a duplicate).
let server: RedisHandle;
let queue: Queue<MintForJobData, MintForResult>;
let queues: Map<number, Queue<MintForJobData, MintForResult>>;

beforeAll(async () => {
  server = await spawnRedisServer();
  queue = new Queue<MintForJobData, MintForResult>('mint-for-31337', { connection: { url: server.url } as never, prefix: 'aigc' });
  queues = new Map([[31337, queue]]);
});
afterAll(async () => {
  await queue.close();
  await server.stop();
});

const mint = (): MintForJobData => ({
  chainId: 31337,
  collection: Wallet.createRandom().address,
  to: Wallet.createRandom().address,
  prompt: 'a kite over the dunes',
  keyId: 'a1b2c3d4',
  createdAt: new Date().toISOString(),
});

it('answers exactly one of concurrent identical calls as the one that queued the mint, the others as its replays', async () => {
  // Two POSTs of one key whose reads resolved together are handled in the same millisecond: same body, same key,
  // same createdAt. Only one of them queued the mint.
  for (let round = 0; round < 5; round++) {
    const data = mint();
    const id = mintIdOf({ scope: 'site-a', key: `order-${round}` });
    const calls = await Promise.all(Array.from({ length: 4 }, () => submitMint(queues, { ...data }, { id, idempotent: true })));
    expect(calls.map((c) => [c.stored?.id, c.same])).toEqual(Array(4).fill([id, true]));
    expect(calls.map((c) => c.replayed).sort()).toEqual([false, true, true, true]);
    // A later call with the same key, body and even the same createdAt is a replay too.
    expect(await submitMint(queues, { ...data }, { id, idempotent: true })).toMatchObject({ replayed: true, same: true });
  }
  expect(await queue.count()).toBe(5);
});

it('queues a first call as new and a call with another body under its id as a conflicting replay', async () => {
  const data = mint();
  const id = mintIdOf({ scope: 'site-a', key: 'order-x' });
  const first = await submitMint(queues, data, { id, idempotent: true });
  expect([first.replayed, first.same]).toEqual([false, true]);
  const other = await submitMint(queues, { ...data, prompt: 'another kite' }, { id, idempotent: true });
  expect([other.replayed, other.same]).toEqual([true, false]);
  expect((await queue.getJob(id))!.data.prompt).toBe('a kite over the dunes');
});
