import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Where a bundle stands: items assigned and maybe signed into a transaction (`open`), stored whole, or given up. */
export type BundleState = 'open' | 'uploaded' | 'abandoned';

/** One bundle as the ledger knows it. */
export type BundleRecord = {
  id: string;
  state: BundleState;
  /** Ids of its data items, in bundle order. */
  items: string[];
  /** Its Arweave transaction, once signed. */
  tx?: string;
  /** The bundle's bytes, kept while `open` with a transaction, so any node can finish the upload. */
  data?: Buffer;
};

/** A lock on one bundle's upload; renewed until released. */
export type BundleLock = { release(): Promise<void> };

export type BundleLedger = {
  /**
   * Assigns `items` to a new bundle record, all or none, and locks its upload for the caller. Returns the record's
   * id and its lock, or the items already assigned to another bundle, by item id (then nothing changed).
   */
  claim(items: string[]): Promise<{ id: string; lock: BundleLock } | { taken: Map<string, string> }>;
  /** The bundle each of `items` is assigned to (absent: none). */
  assigned(items: string[]): Promise<Map<string, string>>;
  read(id: string): Promise<BundleRecord | undefined>;
  /** Records the signed transaction of an open bundle and its bytes, before any byte is posted. */
  signed(id: string, tx: string, data: Uint8Array): Promise<void>;
  /** The gateway has all of the bundle: its items are published there for good. */
  uploaded(id: string): Promise<void>;
  /** The bundle will never be stored: its items are free for another bundle. */
  abandon(id: string): Promise<void>;
  /** Takes the upload lock of bundle `id`; undefined while another process holds it. */
  lock(id: string): Promise<BundleLock | undefined>;
  /** Ids of bundles still open (interrupted or in flight somewhere). */
  open(): Promise<string[]>;
};

/** How long a finished bundle's record and its items' assignments are kept (a job that retries later finds them). */
const KEEP_SECONDS = 7 * 24 * 3600;
/** Lifetime of an upload lock; its holder renews it every third. */
const LOCK_MS = 30_000;

// KEYS: rec, open set, lock, item keys…; ARGV: id, items json, now, lock token, lock ms. Assigns every item or none.
const CLAIM = `
local taken = {}
for i = 4, #KEYS do
  local at = redis.call('GET', KEYS[i])
  if at then table.insert(taken, KEYS[i]) table.insert(taken, at) end
end
if #taken > 0 then return taken end
for i = 4, #KEYS do redis.call('SET', KEYS[i], ARGV[1]) end
redis.call('HSET', KEYS[1], 'state', 'open', 'items', ARGV[2], 'at', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
return taken`;
// KEYS: rec, open set, item keys…; ARGV: id, state, keep seconds. Ends an open bundle; an abandoned one frees its items.
const FINISH = `
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
redis.call('HDEL', KEYS[1], 'data')
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SREM', KEYS[2], ARGV[1])
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    if ARGV[2] == 'abandoned' then redis.call('DEL', KEYS[i]) else redis.call('EXPIRE', KEYS[i], ARGV[3]) end
  end
end
return 1`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Which bundle each signed data item was put in, and how far that bundle's upload got, in Redis shared by all nodes:
 * an item is assigned to one bundle before any byte of it is uploaded, so a node that crashes mid-upload leaves a
 * record that the next one resumes (or abandons, explicitly) instead of publishing the same items in a second bundle.
 *
 * @example
 * const ledger = createBundleLedger({ redis, prefix: 'aigc:bundles' });
 * const claim = await ledger.claim([image.id, manifest.id]);
 */
export function createBundleLedger({ redis, prefix }: { redis: Redis; prefix: string }): BundleLedger {
  const rec = (id: string) => `${prefix}:rec:${id}`;
  const item = (id: string) => `${prefix}:item:${id}`;
  const lockKey = (id: string) => `${prefix}:rec:${id}:lock`;
  const openKey = `${prefix}:open`;

  async function lock(id: string, token = randomUUID(), taken = false): Promise<BundleLock | undefined> {
    if (!taken && (await redis.set(lockKey(id), token, 'PX', LOCK_MS, 'NX')) !== 'OK') return undefined;
    const timer = setInterval(() => void redis.eval(RENEW, 1, lockKey(id), token, String(LOCK_MS)).catch(() => undefined), LOCK_MS / 3);
    timer.unref();
    return {
      async release() {
        clearInterval(timer);
        await redis.eval(RELEASE, 1, lockKey(id), token);
      },
    };
  }

  async function finish(id: string, state: BundleState): Promise<void> {
    const record = await read(id);
    const items = record?.items ?? [];
    await redis.eval(FINISH, 2 + items.length, rec(id), openKey, ...items.map(item), id, state, String(KEEP_SECONDS));
  }

  async function read(id: string): Promise<BundleRecord | undefined> {
    const [state, items, tx, data] = await redis.hmgetBuffer(rec(id), 'state', 'items', 'tx', 'data');
    if (!state) return undefined;
    return {
      id,
      state: state.toString() as BundleState,
      items: JSON.parse(items?.toString() ?? '[]') as string[],
      ...(tx ? { tx: tx.toString() } : {}),
      ...(data ? { data } : {}),
    };
  }

  return {
    async claim(items) {
      const id = randomUUID();
      const token = randomUUID();
      const keys = [rec(id), openKey, lockKey(id), ...items.map(item)];
      const taken = (await redis.eval(
        CLAIM,
        keys.length,
        ...keys,
        id,
        JSON.stringify(items),
        String(Date.now()),
        token,
        String(LOCK_MS),
      )) as string[];
      if (!taken.length) return { id, lock: (await lock(id, token, true))! }; // renews the lock the script took
      const byItem = new Map<string, string>();
      for (let i = 0; i < taken.length; i += 2) byItem.set(taken[i].slice(item('').length), taken[i + 1]);
      return { taken: byItem };
    },
    async assigned(items) {
      const at = items.length ? await redis.mget(items.map(item)) : [];
      return new Map(items.flatMap((id, i) => (at[i] ? [[id, at[i]!] as const] : [])));
    },
    read,
    async signed(id, tx, data) {
      await redis.hset(rec(id), 'tx', tx, 'data', Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    },
    uploaded: (id) => finish(id, 'uploaded'),
    abandon: (id) => finish(id, 'abandoned'),
    lock: (id) => lock(id),
    open: () => redis.smembers(openKey),
  };
}
