import { bundleAndSignData, createData, DataItem, EthereumSigner, SignatureConfig } from 'arbundles';
import { getBytes, hashMessage, SigningKey } from 'ethers';
import { AigcError } from '../errors';
import { signDigest } from '../crypto/sign-digest';
import type { ArweaveStore } from './arweave';

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
   * Items from concurrent calls are grouped, so many requests cost one Arweave transaction.
   */
  publish(items: Buffer[]): Promise<string>;
};

export type BundlePublisherOptions = {
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
};

type Waiting = { items: Buffer[]; bytes: number; resolve(id: string): void; reject(error: unknown): void };

/**
 * Group commit for Arweave uploads: up to `uploads` bundles go up at a time, and everything that arrives while they
 * do goes into the next one, so batches grow with load and an idle node waits only `windowMs`.
 *
 * @example
 * const publisher = createBundlePublisher({ store, signer, tags: { 'App-Name': 'aigc-nft' } });
 * const bundleId = await publisher.publish([image.raw, manifest.raw]);
 */
export function createBundlePublisher({
  store,
  signer,
  tags,
  windowMs = 50,
  maxBytes = 8 * 1024 * 1024,
  uploads = 1,
}: BundlePublisherOptions): BundlePublisher {
  const waiting: Waiting[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;

  /** Starts the next bundle after `windowMs`, unless one is scheduled already or every upload slot is busy. */
  const schedule = () => {
    if (waiting.length && inFlight < uploads) timer ??= setTimeout(() => void uploadNext(), windowMs);
  };

  async function uploadNext(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight >= uploads || !waiting.length) return;
    inFlight++;
    let bytes = 0;
    const take = waiting.findIndex((w) => (bytes += w.bytes) > maxBytes);
    const batch = waiting.splice(0, take <= 0 ? waiting.length : take);
    schedule(); // a slot may still be free for what arrives meanwhile
    try {
      const bundle = await bundleAndSignData(
        batch.flatMap((w) => w.items.map((raw) => new DataItem(raw))),
        signer,
      );
      const id = await store.upload(bundle.getRaw(), { ...BUNDLE_TAGS, ...tags, Type: 'bundle' });
      for (const w of batch) w.resolve(id);
    } catch (cause) {
      const error =
        cause instanceof AigcError
          ? cause
          : new AigcError('ARWEAVE_FAILED', 'bundle upload failed', { cause, retryable: true, details: String(cause) });
      for (const w of batch) w.reject(error);
    } finally {
      inFlight--;
      // What waited for a free slot has waited long enough: it goes up now.
      if (waiting.length) void uploadNext();
    }
  }

  return {
    publish(items) {
      return new Promise<string>((resolve, reject) => {
        waiting.push({ items, bytes: items.reduce((n, b) => n + b.length, 0), resolve, reject });
        schedule();
      });
    },
  };
}
