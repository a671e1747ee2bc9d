import { createRateLimiter } from '../../protocol/rate-limit';

// The token bucket both HTTP doors use (the gateway per key or address, the node's POST /v1/mints per API key).
describe('createRateLimiter', () => {
  it('lets a burst through, then says how long to wait, and refills at the rate', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 6, burst: 2, now: () => t }); // one token every 10 s
    expect([limiter.take('a'), limiter.take('a')]).toEqual([0, 0]);
    expect(limiter.take('a')).toBe(10);
    t = 4_000;
    expect(limiter.take('a')).toBe(6); // 0.4 of a token refilled: 6 s to go
    t = 10_000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
    t = 10_000 + 3_600_000; // a long pause refills to the burst, never beyond
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 10]);
  });

  it('counts each key on its own, and waits at least 1 s', () => {
    const limiter = createRateLimiter({ perMinute: 60_000, burst: 1, now: () => 0 });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1); // 1 ms to go is still "retry in 1 s"
    expect(limiter.take('b')).toBe(0);
  });

  it('does not limit at 0 per minute, and remembers nothing then', () => {
    const limiter = createRateLimiter({ perMinute: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('bounds its memory, forgetting the least recently seen key first', () => {
    const limiter = createRateLimiter({ perMinute: 1, burst: 1, maxKeys: 3, now: () => 0 });
    for (const key of ['a', 'b', 'c']) expect(limiter.take(key)).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0); // seen again: now the most recent
    for (let i = 0; i < 10_000; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(3);
    expect(limiter.take('flood-9999')).toBeGreaterThan(0); // recent keys are still counted
  });

  it('refuses settings that would not limit as asked', () => {
    expect(() => createRateLimiter({ perMinute: -1, burst: 1 })).toThrow(/perMinute must be a number ≥ 0/);
    expect(() => createRateLimiter({ perMinute: Number.NaN, burst: 1 })).toThrow(/perMinute/);
    expect(() => createRateLimiter({ perMinute: 60, burst: 0 })).toThrow(/burst must be an integer ≥ 1/);
    expect(() => createRateLimiter({ perMinute: 60, burst: 1.5 })).toThrow(/burst/);
    expect(() => createRateLimiter({ perMinute: 60, burst: 1, maxKeys: 0 })).toThrow(/maxKeys/);
  });
});
