import { performance } from 'node:perf_hooks';
import IORedis, { type Redis } from 'ioredis';
import { type RedisHandle, spawnRedisServer } from '../../pipeline/embedded/redis';
import { AigcError } from '../../pipeline/errors';
import { createLogger } from '../../pipeline/logger';
import { currentLease, type Leadership, startLeadership } from '../../pipeline/queue/leader';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { sleep, until } from '../helpers/wait';

// The leader lease against a real redis-server of its own (frozen with SIGSTOP in one test).
jest.setTimeout(30_000);

const TTL = 600;
const logger = createLogger({ level: 'silent' });
const now = () => performance.now();

let server: RedisHandle;
let client: Redis;
const started: Leadership[] = [];
const stopped = new Set<Leadership>();

beforeAll(async () => {
  server = await spawnRedisServer();
  client = new IORedis(server.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  if (server.pid) process.kill(server.pid, 'SIGCONT'); // a failed test may leave it frozen
  for (const l of started.splice(0)) if (!stopped.has(l)) await l.stop();
  await client.flushall();
});
afterAll(async () => {
  await client.quit();
  await server.stop();
});

let keys = 0;
/** A leadership on `url` with its election events recorded. */
function elect(key: string, { url = server.url, onElected }: { url?: string; onElected?: () => Promise<void> } = {}) {
  const events: { event: 'elected' | 'deposed'; at: number }[] = [];
  const redis = new IORedis(url, { maxRetriesPerRequest: null });
  const leadership = startLeadership({
    redis,
    key,
    ttlMs: TTL,
    logger,
    async onElected() {
      events.push({ event: 'elected', at: now() });
      await onElected?.();
    },
    onDeposed() {
      events.push({ event: 'deposed', at: now() });
    },
  });
  const stop = leadership.stop.bind(leadership);
  const handle: Leadership = Object.assign(leadership, {
    async stop() {
      stopped.add(handle);
      await stop();
      redis.disconnect();
    },
  });
  started.push(handle);
  return { leadership: handle, events };
}

describe('leader lease', () => {
  it('keeps renewing while onElected runs for longer than the TTL', async () => {
    const key = `lease:${++keys}`;
    let release!: () => void;
    const a = elect(key, { onElected: () => new Promise<void>((r) => (release = r)) });
    await until('a elected', () => a.events.length === 1, 5_000, 10);
    const b = elect(key);
    // onElected stays blocked for five TTLs; the lock must stay ours the whole time.
    const end = Date.now() + 5 * TTL;
    while (Date.now() < end) {
      expect(a.leadership.isLeader).toBe(true);
      expect(await client.get(key)).toBe(`${a.leadership.lease!.holder}:${a.leadership.lease!.epoch}`);
      await sleep(50); // samples the lease while onElected blocks: the waiting is the behaviour under test
    }
    expect(b.events).toEqual([]);
    release();
    await a.leadership.stop();
    // Released on stop: the other one takes over at its next beat, under a later epoch.
    await until('b elected', () => b.leadership.isLeader, 5_000, 10);
    expect(a.events.map((e) => e.event)).toEqual(['elected', 'deposed']);
    expect(b.leadership.lease!.epoch).toBeGreaterThan(1);
  });

  it('reports not-leader before its TTL ends when Redis stops answering (redis-server frozen)', async () => {
    const key = `lease:${++keys}`;
    const a = elect(key);
    await until('a elected', () => a.leadership.isLeader, 5_000, 10);
    const lease = a.leadership.lease!;
    const frozenAt = now();
    process.kill(server.pid!, 'SIGSTOP');
    try {
      // The last renewal reached Redis before the freeze, so the lock cannot outlive frozenAt + TTL.
      await until('a deposed', () => a.events.some((e) => e.event === 'deposed'), 3 * TTL, 10);
      const deposedAt = a.events.find((e) => e.event === 'deposed')!.at;
      expect(deposedAt - frozenAt).toBeLessThan(TTL);
      expect(lease.validUntil - frozenAt).toBeLessThan(TTL);
      expect(a.leadership.isLeader).toBe(false);
      expect(() => lease.assertValid()).toThrow(expect.objectContaining({ code: 'NOT_LEADER', retryable: true }));
      expect(() => currentLease(a.leadership)).toThrow(AigcError);
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    // Redis back: elected again under a new epoch; the old lease stays dead.
    await until('a re-elected', () => a.leadership.isLeader, 5_000, 10);
    expect(a.leadership.lease!.epoch).toBeGreaterThan(lease.epoch);
    expect(lease.valid).toBe(false);
    await expect(lease.verify()).rejects.toMatchObject({ code: 'NOT_LEADER' });
  });

  it('reports not-leader before its TTL ends when its connection to Redis is cut', async () => {
    const key = `lease:${++keys}`;
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    try {
      const a = elect(key, { url: `redis://127.0.0.1:${new URL(proxy.url).port}` });
      await until('a elected', () => a.leadership.isLeader, 5_000, 10);
      const cutAt = now();
      await proxy.down();
      // The lease counts locally only until its last renewal's send time + TTL − margin: `isLeader` is false, and the
      // sender's fence refuses, before Redis could hand the lock to another process.
      const lease = currentLease(a.leadership);
      expect(lease.validUntil - cutAt).toBeLessThan(TTL);
      await sleep(Math.max(0, lease.validUntil - now()) + 20);
      expect(lease.valid).toBe(false);
      expect(a.leadership.isLeader).toBe(false);
      expect(() => currentLease(a.leadership)).toThrow();
      // With no renewal to notice it, the expiry timer alone ends the term here.
      await until('a deposed', () => a.events.some((e) => e.event === 'deposed'), TTL, 10);
      // Meanwhile another process may take the lock once it expires in Redis.
      const b = elect(key);
      await until('b elected', () => b.leadership.isLeader, 3 * TTL, 10);
      await proxy.up();
      await sleep(3 * TTL); // waits out the TTL: a must not be leader after it, whatever happens
      expect(a.leadership.isLeader).toBe(false);
      await a.leadership.stop();
      expect(b.leadership.isLeader).toBe(true); // a's stop released nothing of b's
    } finally {
      await proxy.close();
    }
  });

  it('ends the term even when the expiry timer fires before the lease has expired by the clock', async () => {
    // Timers count from the event loop's cached time, which lags performance.now() by the length of the current
    // turn: seen from now(), a timer can fire early. Simulated by setting now() back once the lease is cut off.
    const key = `lease:${++keys}`;
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    const real = performance.now.bind(performance);
    try {
      const a = elect(key, { url: `redis://127.0.0.1:${new URL(proxy.url).port}` });
      await until('a elected', () => a.events.some((e) => e.event === 'elected'), 5_000, 10);
      await proxy.down();
      const lease = currentLease(a.leadership);
      jest.spyOn(performance, 'now').mockImplementation(() => real() - 60);
      await until('a deposed', () => a.events.some((e) => e.event === 'deposed'), 3 * TTL, 10);
      expect(lease.valid).toBe(false);
      expect(real() - lease.validUntil).toBeGreaterThanOrEqual(60);
    } finally {
      jest.restoreAllMocks();
      await proxy.close();
    }
  });

  it('fences: a lease whose lock another process holds fails verify, and ends here at once', async () => {
    const key = `lease:${++keys}`;
    const a = elect(key);
    await until('a elected', () => a.leadership.isLeader, 5_000, 10);
    const lease = currentLease(a.leadership);
    await expect(lease.verify()).resolves.toBeUndefined();
    // Another holder has the lock (e.g. Redis lost the key and another node won it), before a's local expiry.
    await client.set(key, 'someone-else:99', 'PX', 60_000);
    expect(lease.valid).toBe(true); // locally nothing has told it yet
    await expect(lease.verify()).rejects.toMatchObject({ code: 'NOT_LEADER', retryable: true });
    expect(lease.valid).toBe(false);
    expect(a.leadership.isLeader).toBe(false);
    await until('a deposed', () => a.events.some((e) => e.event === 'deposed'), 5_000, 10);
    expect(() => currentLease(a.leadership)).toThrow(expect.objectContaining({ code: 'NOT_LEADER' }));
  });

  it('fences work queued under an earlier term of the same process', async () => {
    const key = `lease:${++keys}`;
    const a = elect(key);
    await until('a elected', () => a.leadership.isLeader, 5_000, 10);
    const first = currentLease(a.leadership);
    // The lock vanishes (a wiped Redis): the renewal finds it gone, and the process is elected again.
    await client.del(key);
    await until('a re-elected', () => (a.leadership.lease?.epoch ?? 0) > first.epoch, 3 * TTL, 10);
    const second = currentLease(a.leadership);
    expect(first.valid).toBe(false);
    expect(() => first.assertValid()).toThrow(expect.objectContaining({ code: 'NOT_LEADER' }));
    await expect(first.verify()).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await expect(second.verify()).resolves.toBeUndefined();
    expect(a.events.map((e) => e.event)).toEqual(['elected', 'deposed', 'elected']);
  });
});
