import { execFileSync } from 'node:child_process';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { AigcError } from '../errors';
import { spawnOwned } from './child';
import { freePort, waitFor } from './ports';

export type RedisHandle = {
  url: string;
  /** True when this process started redis-server (and stop() ends it). */
  spawned: boolean;
  /** Process id of the redis-server this process started (tests freeze it). */
  pid?: number;
  stop(): Promise<void>;
};

/** Sends PING over a raw socket; resolves true on +PONG (or an auth error: a Redis is there). */
function pingRedis(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(/^(\+PONG|-NOAUTH)/.test(d.toString())));
  });
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a Redis the way an operator would expect: `url` if given (it must answer), else 127.0.0.1:6379, else a
 * `redis-server` started on a free port (in memory, no persistence), else a clear error on how to get one.
 *
 * @example
 * const redis = await ensureRedis({ url: process.env.REDIS_URL });
 */
export async function ensureRedis({ url }: { url?: string } = {}): Promise<RedisHandle> {
  const none = async () => {};
  if (url) {
    if (await pingRedis(url)) return { url, spawned: false, stop: none };
    throw new AigcError('REDIS_UNAVAILABLE', `Redis at ${url} (REDIS_URL) does not answer: start it or fix REDIS_URL`);
  }
  const local = 'redis://127.0.0.1:6379';
  if (await pingRedis(local)) return { url: local, spawned: false, stop: none };
  if (!onPath('redis-server')) {
    throw new AigcError(
      'REDIS_UNAVAILABLE',
      'no Redis found: set REDIS_URL, start one on 127.0.0.1:6379, or install redis-server ' +
        '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) so it can be started for you',
    );
  }
  return spawnRedisServer();
}

/** Starts a private, in-memory `redis-server` on a free loopback port (also used by tests that wipe Redis). */
export async function spawnRedisServer(): Promise<RedisHandle> {
  const port = await freePort();
  const { child, stop } = spawnOwned('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const url = `redis://127.0.0.1:${port}`;
  if (!(await waitFor(() => pingRedis(url), 10_000))) {
    await stop();
    throw new AigcError('REDIS_UNAVAILABLE', `redis-server did not start on port ${port}`);
  }
  return { url, spawned: true, pid: child.pid, stop };
}

/** Deletes every key under `prefix:` (a demo or test run's queues, cursor and stage outputs). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
