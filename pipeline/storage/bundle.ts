import { bundleAndSignData, createData, DataItem, EthereumSigner, SignatureConfig } from 'arbundles';
import { getBytes, hashMessage, SigningKey } from 'ethers';
import type { Logger } from 'pino';
import { AigcError } from '../errors';
import { signDigest } from '../crypto/sign-digest';
import { ANCHOR_RESIGNS, ArweaveRefusedError, type ArweaveStore, isAnchorRefusal } from './arweave';
import type { BundleLedger, BundleLock } from './bundle-ledger';

/** An ANS-104 data item, signed: its id is final before any byte is published. */
export type SignedItem = { id: string; raw: Buffer };

/** The tags that make an Arweave transaction an ANS-104 bundle (gateways index the items inside). */
export const BUNDLE_TAGS = { 'Bundle-Format': 'binary', 'Bundle-Version': '2.0.0' } as const;

export type ItemSigner = Parameters<typeof createData>[1];

/**
 * Signs data items with an Ethereum key (ANS-104 signature type 3: EIP-191 over the item's deep hash), so an
 * item's owner is the operator's signer address. A node signs two items per request, so through libsecp256k1.
 */
class EthereumItemSigner {
  readonly signatureType = SignatureConfig.ETHEREUM;
  readonly signatureLength = 65;
  readonly ownerLength = 65;
  readonly publicKey: Buffer;
  static readonly verify = EthereumSigner.verify;
  private readonly privateKey: Uint8Array;

  constructor(privateKey: string) {
    const key = new SigningKey(privateKey);
    this.privateKey = getBytes(key.privateKey); // parsed once: two signatures per request
    this.publicKey = Buffer.from(getBytes(key.publicKey)); // uncompressed, 65 bytes
  }

  sign(message: Uint8Array): Uint8Array {
    return signDigest(this.privateKey, hashMessage(message));
  }
}

/** A data item signer for `privateKey` (0x-prefixed secp256k1 key). */
export function ethereumItemSigner(privateKey: string): ItemSigner {
  return new EthereumItemSigner(privateKey);
}

/**
 * Signs one data item with `tags`.
 *
 * @example
 * const item = await signItem(signer, png, { 'Content-Type': 'image/png' });
 * console.log(`ar://${item.id}`);
 */
export async function signItem(signer: ItemSigner, data: Uint8Array, tags: Record<string, string>): Promise<SignedItem> {
  const item = createData(data, signer, { tags: Object.entries(tags).map(([name, value]) => ({ name, value })) });
  await item.sign(signer);
  return { id: item.id, raw: item.getRaw() };
}

export type BundlePublisher = {
  /**
   * Publishes signed items in a shared bundle transaction; resolves with that transaction's id once uploaded.
   * Items from concurrent calls are grouped, so many requests cost one Arweave transaction. With a ledger, items
   * already published (or in a bundle whose upload was cut) resolve with that bundle, which is finished first.
   */
  publish(items: Buffer[]): Promise<string>;
  /** Finishes or abandons every bundle upload left open by a process that stopped (nothing, without a ledger). */
  recover(): Promise<void>;
  /** Stops the periodic recovery. */
  close(): void;
};

/** What became of bundle uploads other processes left unfinished (metrics). */
export type BundleEvents = {
  /** An interrupted upload was finished under its original transaction. */
  onResumed?(info: { bundle: string; tx: string; items: number }): void;
  /** An interrupted upload that the gateway never accepted was given up; its items go into another bundle. */
  onAbandoned?(info: { bundle: string; tx?: string; items: number }): void;
  /** Items put into a new bundle after the bundle transaction they were first signed into was abandoned. */
  onRepublished?(items: number): void;
};

export type BundlePublisherOptions = BundleEvents & {
  store: ArweaveStore;
  signer: ItemSigner;
  /** Tags of every bundle transaction (App-Name, App-Version, …). */
  tags: Record<string, string>;
  /** How long the first waiting item waits for others before its bundle goes up. @defaultValue 50 */
  windowMs?: number;
  /** Largest bundle; larger batches are split. @defaultValue 8 MiB */
  maxBytes?: number;
  /** Bundles uploading at once; what arrives while all are busy goes into the next one. More help against a distant gateway; on one machine each bundle costs CPU. @defaultValue 1 */
  uploads?: number;
  /**
   * Where each item's bundle and each bundle's upload state are recorded before any byte is uploaded (shared by all
   * nodes). Without it a retry after a crash may publish the same items in a second bundle.
   */
  ledger?: BundleLedger;
  /** How often bundles left open are looked for (with a ledger). @defaultValue 60000 */
  recoverEveryMs?: number;
  logger?: Logger;
};

type Waiting = { items: Buffer[]; ids: string[]; bytes: number; resolve(id: string): void; reject(error: unknown): void };

const asArweaveError = (cause: unknown) =>
  cause instanceof AigcError
    ? cause
    : new AigcError('ARWEAVE_FAILED', 'bundle upload failed', { cause, retryable: true, details: String(cause) });

/**
 * Group commit for Arweave uploads: up to `uploads` bundles go up at a time, and everything that arrives while they
 * do goes into the next one, so batches grow with load and an idle node waits only `windowMs`.
 *
 * With a `ledger`, a bundle's items are assigned to it (all or none, atomically) and its signed transaction and
 * bytes recorded before the upload starts, and it is marked uploaded before anyone learns its id. An item already
 * assigned is never put into a new bundle: its bundle is returned when uploaded, resumed (same transaction, same
 * bytes) when its upload was cut, and only when the gateway never accepted that transaction is it abandoned
 * (counted) and the items bundled again.
 *
 * @example
 * const publisher = createBundlePublisher({ store, signer, tags: { 'App-Name': 'aigc-nft' }, ledger: createBundleLedger({ redis, prefix: 'aigc:bundles' }) });
 * const bundleId = await publisher.publish([image.raw, manifest.raw]);
 */
export function createBundlePublisher({
  store,
  signer,
  tags,
  windowMs = 50,
  maxBytes = 8 * 1024 * 1024,
  uploads = 1,
  ledger,
  recoverEveryMs = 60_000,
  logger,
  ...events
}: BundlePublisherOptions): BundlePublisher {
  const waiting: Waiting[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  const bundleTags = { ...BUNDLE_TAGS, ...tags, Type: 'bundle' };

  /** Starts the next bundle after `windowMs`, unless one is scheduled already or every upload slot is busy. */
  const schedule = () => {
    if (waiting.length && inFlight < uploads) timer ??= setTimeout(() => void uploadNext(), windowMs);
  };

  /** Uploads `data` as a bundle transaction; with a ledger, records each signed transaction first. */
  async function upload(data: Buffer, record?: string): Promise<string> {
    if (!ledger || !record) return store.upload(data, bundleTags);
    let replaces: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const tx = await store.prepare(data, bundleTags, { replaces });
      await ledger.signed(record, tx.id, data);
      try {
        return await tx.send();
      } catch (error) {
        // Refused for its anchor: never accepted, so the same bytes are signed again under a new id.
        if (!isAnchorRefusal(error) || attempt >= ANCHOR_RESIGNS) throw error;
        replaces = tx.id;
      }
    }
  }

  async function uploadNext(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight >= uploads || !waiting.length) return;
    inFlight++;
    let bytes = 0;
    const take = waiting.findIndex((w) => (bytes += w.bytes) > maxBytes);
    let batch = waiting.splice(0, take <= 0 ? waiting.length : take);
    schedule(); // a slot may still be free for what arrives meanwhile
    let lock: BundleLock | undefined;
    try {
      let record: string | undefined;
      while (ledger && batch.length) {
        const claim = await ledger.claim(batch.flatMap((w) => w.ids));
        if ('id' in claim) {
          ({ id: record, lock } = claim);
          break;
        }
        // Some items are in another bundle already (a retry of a job whose upload was cut): that bundle serves them.
        const taken = batch.filter((w) => w.ids.some((id) => claim.taken.has(id)));
        batch = batch.filter((w) => !taken.includes(w));
        for (const w of taken) existing(w.ids, w.items).then(w.resolve, w.reject);
      }
      if (!batch.length) return;
      const bundle = await bundleAndSignData(
        batch.flatMap((w) => w.items.map((raw) => new DataItem(raw))),
        signer,
      );
      const id = await upload(bundle.getRaw(), record);
      if (record) await ledger!.uploaded(record);
      for (const w of batch) w.resolve(id);
    } catch (cause) {
      // The record stays open: a retry resumes this very transaction instead of bundling the items again.
      for (const w of batch) w.reject(asArweaveError(cause));
    } finally {
      await lock?.release().catch(() => undefined);
      inFlight--;
      // What waited for a free slot has waited long enough: it goes up now.
      if (waiting.length) void uploadNext();
    }
  }

  /** Finishes (or abandons) open bundles, one at a time per bundle within this process. */
  const finishing = new Map<string, Promise<void>>();
  function finish(record: string, wait: boolean): Promise<void> {
    let run = finishing.get(record);
    if (!run) {
      run = finishOpen(record, wait).finally(() => finishing.delete(record));
      finishing.set(record, run);
    }
    return run;
  }

  /**
   * Resumes the upload of open bundle `record` under its signed transaction, or abandons it when that cannot be
   * done (no transaction signed yet, or the gateway never accepted it). With `wait`, waits for another process that
   * holds its lock (uploading it now) to be done.
   */
  async function finishOpen(record: string, wait: boolean): Promise<void> {
    const l = ledger!;
    let lock: BundleLock | undefined;
    for (let tries = 0; !(lock = await l.lock(record)); tries++) {
      if (!wait) return;
      if ((await l.read(record))?.state !== 'open') return;
      if (tries >= 240)
        throw new AigcError('ARWEAVE_FAILED', `bundle ${record} is still being uploaded by another process`, { retryable: true });
      await new Promise((r) => setTimeout(r, 500));
    }
    try {
      const r = await l.read(record);
      if (r?.state !== 'open') return;
      let resumed = false;
      if (r.tx && r.data) {
        try {
          resumed = await store.resume(r.tx, r.data);
        } catch (error) {
          if (!(error instanceof ArweaveRefusedError)) throw error; // unreachable gateway: try again later
        }
      }
      if (resumed) {
        await l.uploaded(record);
        events.onResumed?.({ bundle: record, tx: r.tx!, items: r.items.length });
        logger?.warn({ bundle: record, arweaveTx: r.tx, items: r.items.length }, 'interrupted bundle upload resumed');
        return;
      }
      await l.abandon(record);
      // Nothing was signed: nothing was sent either, so nothing is wasted.
      if (r.tx) events.onAbandoned?.({ bundle: record, tx: r.tx, items: r.items.length });
      logger?.warn(
        { bundle: record, arweaveTx: r.tx, items: r.items.length },
        'interrupted bundle upload abandoned; its items go into a new bundle',
      );
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  /**
   * The bundle of items assigned before: its id once uploaded (finishing an interrupted upload first), or, when it
   * was abandoned, a new bundle.
   */
  async function existing(ids: string[], items: Buffer[]): Promise<string> {
    const l = ledger!;
    let abandonedTx = false;
    for (let round = 0; round < 5; round++) {
      const assigned = await l.assigned(ids);
      if (assigned.size === 0) {
        if (abandonedTx) events.onRepublished?.(ids.length);
        return enqueue(ids, items);
      }
      const records = await Promise.all([...new Set(assigned.values())].map((r) => l.read(r)));
      const open = records.find((r) => r?.state === 'open');
      if (open) {
        await finish(open.id, true);
        abandonedTx ||= Boolean(open.tx) && (await l.read(open.id))?.state === 'abandoned';
        continue;
      }
      const done = records.find((r) => r?.state === 'uploaded' && r.tx);
      if (done && assigned.size === ids.length) return done.tx!;
      throw new AigcError('ARWEAVE_FAILED', `items ${ids.join(', ')} are assigned to bundles in an unexpected state`, { retryable: true });
    }
    throw new AigcError('ARWEAVE_FAILED', `items ${ids.join(', ')} could not be published`, { retryable: true });
  }

  /** Adds items to the next bundle. */
  function enqueue(ids: string[], items: Buffer[]): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      waiting.push({ items, ids, bytes: items.reduce((n, b) => n + b.length, 0), resolve, reject });
      schedule();
    });
  }

  async function recover(): Promise<void> {
    if (!ledger) return;
    for (const record of await ledger.open()) await finish(record, false);
  }
  const sweep = ledger && recoverEveryMs > 0 ? setInterval(() => void recover().catch(() => undefined), recoverEveryMs) : undefined;
  sweep?.unref();

  return {
    async publish(items) {
      const ids = items.map((raw) => new DataItem(raw).id);
      if (!ledger || (await ledger.assigned(ids)).size === 0) return enqueue(ids, items);
      return existing(ids, items);
    },
    recover,
    close() {
      clearInterval(sweep);
    },
  };
}
