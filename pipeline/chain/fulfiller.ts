import type { Contract } from 'ethers';
import type { Logger } from 'pino';
import { AigcError, errorMessage } from '../errors';
import { collectionInterface } from './collection';
import { eventDecoder } from './event-decoder';
import { isPending } from './pending-reads';
import type { Receipt } from './raw-rpc';
import type { MintRequestJson } from './request';
import { requestStruct } from './request';
import type { TxSender } from './tx-sender';

/** One signed fulfilment as `fulfillBatch` takes it: the request and what the node rendered, stored and signed for it. */
export type FulfilmentItem = {
  request: MintRequestJson;
  manifestId: string;
  imageSha256: string;
  modelHash: string;
  signature: string;
};

/** A request to end with `reject` (refunding the requester); `reason` is the on-chain `MintRejected` reason. */
export type RejectItem = { request: MintRequestJson; reason: number };

/** A request to end with `refund` (its deadline passed). */
export type RefundItem = { request: MintRequestJson };

export type FulfillOutcome =
  | { status: 'minted'; txHash: string; gasUsed: bigint; batchSize: number }
  | { status: 'rejected'; txHash: string; gasUsed: bigint }
  /** Its deadline passed before it was minted: refunded to the requester (by us or by anyone). */
  | { status: 'refunded'; txHash: string; gasUsed: bigint }
  /** Its deadline passed before the fulfilment was mined; it can only be refunded now. */
  | { status: 'expired' }
  /** The request had already ended on chain (minted, rejected or refunded): nothing to do. */
  | { status: 'already-closed'; minted: boolean };

/** Whether a request has ended on chain, and how; undefined while it is still pending. */
export async function closedState(
  contract: Contract,
  request: MintRequestJson,
): Promise<{ status: 'already-closed'; minted: boolean } | undefined> {
  if (await isPending(contract, request)) return undefined;
  return endedHow(contract, request);
}

/** How a request that is no longer pending ended: minted (a token exists), or not. */
async function endedHow(contract: Contract, request: MintRequestJson): Promise<{ status: 'already-closed'; minted: boolean }> {
  const minted = await contract.ownerOf(request.requestId).then(
    () => true,
    () => false,
  );
  return { status: 'already-closed', minted };
}

/**
 * Sends one transaction that ends a request without a mint (`reject` or `refund`). A request that has already ended on
 * chain, before or during the send, is reported as such, not retried.
 */
async function sendEnding(
  contract: Contract,
  sender: TxSender,
  request: MintRequestJson,
  call: { method: 'reject' | 'refund'; args: unknown[]; status: 'rejected' | 'refunded' },
): Promise<FulfillOutcome> {
  const closed = await closedState(contract, request);
  if (closed) return closed;
  try {
    const tx = await contract.getFunction(call.method).populateTransaction(...call.args);
    const receipt = await sender.send(tx, call.method);
    if (receipt.status !== 1) throw new Error(`${call.method} transaction ${receipt.hash} reverted`);
    return { status: call.status, txHash: receipt.hash, gasUsed: receipt.gasUsed };
  } catch (cause) {
    const after = await closedState(contract, request).catch(() => undefined);
    if (after) return after;
    throw new AigcError('CHAIN_FAILED', `${call.method} of request ${request.requestId} failed`, {
      cause,
      retryable: true,
      details: String(cause),
    });
  }
}

/** Sends `reject` (immediate refund) for one request. */
export function sendReject(contract: Contract, sender: TxSender, p: RejectItem): Promise<FulfillOutcome> {
  const args = [p.request.requestId, requestStruct(p.request), p.reason];
  return sendEnding(contract, sender, p.request, { method: 'reject', args, status: 'rejected' });
}

/**
 * Sends `refund` for a request whose deadline has passed (anyone may; the money goes to the requester), so a request
 * the node could not mint in time ends visibly instead of waiting for the collector to claim it.
 */
export function sendRefund(contract: Contract, sender: TxSender, p: RefundItem): Promise<FulfillOutcome> {
  const args = [p.request.requestId, requestStruct(p.request)];
  return sendEnding(contract, sender, p.request, { method: 'refund', args, status: 'refunded' });
}

/** The events that tell each item's outcome in a `fulfillBatch` receipt. */
const mintFulfilled = eventDecoder(collectionInterface, 'MintFulfilled');
const fulfillSkipped = eventDecoder(collectionInterface, 'FulfillSkipped');
const unknownRequest = collectionInterface.getError('AIGCUnknownRequest')!.selector;
const requestExpired = collectionInterface.getError('AIGCRequestExpired')!.selector;
const FULFILL_BATCH = collectionInterface.getFunction('fulfillBatch')!;

export type FulfillBatcherOptions = {
  contract: Contract;
  sender: TxSender;
  /** Most fulfilments per transaction (the node passes `fulfill.batchSize`, 20 by default). */
  batchSize: number;
  /** How long the first item waits for others when no batch is in flight (the node passes `fulfill.batchWindowMs`, 100 by default). */
  batchWindowMs: number;
  logger: Logger;
  /** Called after each mined batch (metrics); `skipped` names the contract error of each item it skipped. */
  onBatch?: (info: { size: number; minted: number; gasUsed: bigint; skipped: string[] }) => void;
  /** Called with the number of items left out of a batch because their request had closed on chain meanwhile. */
  onDropped?: (count: number) => void;
};

export type FulfillBatcher = {
  /** Queues one signed fulfilment; resolves when its batch is mined. */
  add(item: FulfilmentItem): Promise<FulfillOutcome>;
  /** Sends what is queued now. */
  flush(): Promise<void>;
};

type Pending = { item: FulfilmentItem; resolve: (o: FulfillOutcome) => void; reject: (e: unknown) => void };

/**
 * Collects fulfilments for up to `batchWindowMs` or `batchSize` items and sends them in one `fulfillBatch`.
 * The contract skips items that are no longer pending (with `FulfillSkipped`), so each item's outcome is read from
 * the receipt: minted, already ended on chain, or an error for that item alone.
 */
export function createFulfillBatcher(o: FulfillBatcherOptions): FulfillBatcher {
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  const iface = o.contract.interface;

  async function settle(batch: Pending[], receipt: Receipt): Promise<void> {
    const minted = new Set<string>();
    const skipped = new Map<string, string>();
    for (const log of receipt.logs) {
      // A batch also logs Transfer and AigcData per token; only these two tell outcomes.
      const mint = mintFulfilled.decode(log);
      if (mint) minted.add(String(mint.requestId));
      const skip = fulfillSkipped.decode(log);
      if (skip) skipped.set(String(skip.requestId), skip.reason as string);
    }
    const skippedNames = [...skipped.values()].map((reason) => iface.getError(reason)?.name ?? reason);
    o.onBatch?.({ size: batch.length, minted: minted.size, gasUsed: receipt.gasUsed, skipped: skippedNames });
    for (const p of batch) {
      const id = p.item.request.requestId;
      if (minted.has(id)) {
        minted.delete(id); // a duplicate of the same request in one batch is skipped on chain
        p.resolve({ status: 'minted', txHash: receipt.hash, gasUsed: receipt.gasUsed, batchSize: batch.length });
        continue;
      }
      const reason = skipped.get(id);
      if (reason === requestExpired) {
        p.resolve({ status: 'expired' });
        continue;
      }
      if (reason === unknownRequest || reason === undefined) {
        const closed = await closedState(o.contract, p.item.request).catch(() => undefined);
        if (closed) p.resolve(closed);
        else
          p.reject(
            new AigcError('CHAIN_FAILED', `request ${id} was neither minted nor closed by batch ${receipt.hash}`, { retryable: true }),
          );
        continue;
      }
      const name = iface.getError(reason)?.name ?? reason;
      p.reject(new AigcError('CHAIN_FAILED', `fulfilment of request ${id} refused by the contract: ${name}`, { retryable: false }));
    }
  }

  /**
   * The items of `batch` to send: each request's first item, if it is still pending on chain right now (read in one
   * round of concurrent `eth_call`s, after the previous batch was mined). A closed one resolves as such, without gas:
   * a new leader inherits fulfilments its predecessor may have sent already. A second item for the same request
   * waits for the next batch, where it is found closed.
   */
  async function stillPending(first: Pending[]): Promise<Pending[]> {
    const open = await Promise.all(first.map((p) => isPending(o.contract, p.item.request)));
    const closed = first.filter((_, i) => !open[i]);
    if (closed.length) {
      o.onDropped?.(closed.length);
      o.logger.info(
        { requestIds: closed.map((p) => p.item.request.requestId) },
        'requests closed on chain before their fulfilment; not sent',
      );
      await Promise.all(
        closed.map((p) =>
          endedHow(o.contract, p.item.request).then(p.resolve, () => p.resolve({ status: 'already-closed', minted: false })),
        ),
      );
    }
    return first.filter((_, i) => open[i]);
  }

  async function send(all: Pending[]): Promise<void> {
    const seen = new Set<string>();
    let batch = all.filter((p) => !seen.has(p.item.request.requestId) && seen.add(p.item.request.requestId));
    pending.unshift(...all.filter((p) => !batch.includes(p)));
    try {
      batch = await stillPending(batch);
      if (!batch.length) return;
      const items = batch.map(({ item }) => ({
        requestId: item.request.requestId,
        request: requestStruct(item.request),
        manifestId: item.manifestId,
        imageSha256: item.imageSha256,
        modelHash: item.modelHash,
        signature: item.signature,
      }));
      // Encoded straight from the ABI: the contract wrapper's populateTransaction first walks every argument
      // asynchronously to resolve addresses, which costs more than the encoding itself.
      const tx = { to: o.contract.target as string, data: collectionInterface.encodeFunctionData(FULFILL_BATCH, [items]) };
      const receipt = await o.sender.send(tx, 'fulfillBatch');
      if (receipt.status !== 1) throw new Error(`fulfillBatch ${receipt.hash} reverted`);
      await settle(batch, receipt);
    } catch (error) {
      o.logger.warn({ size: batch.length, err: errorMessage(error) }, 'fulfillBatch failed; items will retry');
      const wrapped =
        error instanceof AigcError
          ? error
          : new AigcError('CHAIN_FAILED', 'fulfillBatch failed', { cause: error, retryable: true, details: String(error) });
      for (const p of batch) p.reject(wrapped);
    }
  }

  // Group commit: one batch at a time; whatever arrives while a batch is being mined goes into the next one.
  let sending: Promise<void> | undefined;
  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    sending ??= (async () => {
      try {
        while (pending.length) {
          const batch = pending.slice(0, o.batchSize);
          pending = pending.slice(o.batchSize);
          await send(batch);
        }
      } finally {
        sending = undefined;
      }
    })();
    await sending;
  }

  return {
    add(item) {
      return new Promise<FulfillOutcome>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        // While a batch is in flight the loop picks this up next; an idle batcher waits `batchWindowMs` for company.
        if (sending) return;
        if (pending.length >= o.batchSize) void flush();
        else timer ??= setTimeout(() => void flush(), o.batchWindowMs);
      });
    },
    flush,
  };
}
