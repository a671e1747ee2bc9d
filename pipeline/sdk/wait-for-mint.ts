import type { EventLog } from 'ethers';
import { collectionReads } from '../chain/typed-reads';
import { REJECT_REASON } from '../queue/jobs';
import type { RequestStatus } from '../requests/status';
import { AigcError, type ErrorCode } from '../errors';
import { MintFailedError } from './errors';
import { readEvents } from './sse';
import type { ClientContext } from './types';

/** A status the node reported (`event: status` of `/v1/requests/:requestId/events`). */
export type MintStatusUpdate = Pick<RequestStatus, 'status' | 'tokenId' | 'tokenURI' | 'image' | 'error'>;

export type WaitForMintParameters = {
  requestId: bigint;
  /** Give up (a `TIMEOUT` MintFailedError) after this long. The request stays open on chain. */
  timeoutMs: number;
  /** Block of the request (`request.blockNumber`): where the chain search starts. Else found from `MintRequested`. */
  fromBlock?: number;
  /** Each status the node streams (`requested`, `rendering`, `rendered`, then the final one). */
  onStatus?: (status: MintStatusUpdate) => void;
  /** How often the chain is polled when there is no node to follow. @defaultValue 2000 */
  pollIntervalMs?: number;
};

export type WaitForMintReturnType = {
  requestId: bigint;
  /** Equal to the request id. */
  tokenId: bigint;
  tokenURI: string;
  /** Hash of the fulfilment transaction. */
  txHash: string;
};

const REJECT_WORDS: Record<number, { code: ErrorCode; words: string }> = {
  [REJECT_REASON.INVALID_PROMPT]: { code: 'INVALID_REQUEST', words: 'the prompt is invalid' },
  [REJECT_REASON.GENERATION_FAILED]: { code: 'BACKEND_FAILED', words: 'generation failed' },
  [REJECT_REASON.CONTENT_REJECTED]: { code: 'CONTENT_REJECTED', words: 'the content was rejected by moderation' },
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Waits until request `requestId` is minted and resolves its token. It follows the node's status stream when the
 * client has a `nodeUrl` (reporting each stage to `onStatus`), and polls the chain's `MintFulfilled`, `MintRejected`
 * and `MintRefunded` logs otherwise or when the stream fails. Rejects with a `MintFailedError`: outcome `rejected`
 * (the operator's reason, code by reason), `refunded` (code `TIMEOUT`: not minted before the deadline) or `timeout`.
 *
 * @example
 * const { tokenId, tokenURI } = await client.waitForMint({ requestId, timeoutMs: 120_000, onStatus: (s) => console.log(s.status) });
 */
export async function waitForMint(ctx: ClientContext, parameters: WaitForMintParameters): Promise<WaitForMintReturnType> {
  const { requestId, timeoutMs } = parameters;
  const deadline = Date.now() + timeoutMs;
  if (ctx.nodeUrl) {
    const viaNode = await followNode(ctx, parameters, deadline);
    if (viaNode) return viaNode;
  }
  const fromBlock = parameters.fromBlock ?? (await requestBlock(ctx, requestId));
  for (;;) {
    const outcome = await outcomeOnChain(ctx, requestId, fromBlock);
    if (outcome) return outcome;
    if (Date.now() >= deadline) throw timeoutError(requestId, timeoutMs);
    await sleep(Math.min(parameters.pollIntervalMs ?? 2_000, deadline - Date.now()));
  }
}

function timeoutError(requestId: bigint, timeoutMs: number) {
  return new MintFailedError('TIMEOUT', `request ${requestId} was not minted within ${timeoutMs} ms (it is still open on chain)`, {
    outcome: 'timeout',
    requestId,
  });
}

/** The final outcome from the node's stream; undefined when the stream cannot be used (then the chain is polled). */
async function followNode(
  ctx: ClientContext,
  { requestId, timeoutMs, onStatus, fromBlock }: WaitForMintParameters,
  deadline: number,
): Promise<WaitForMintReturnType | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
  const url = `${ctx.nodeUrl!.replace(/\/+$/, '')}/v1/requests/${requestId}/events?collection=${ctx.collection}`;
  let final: MintStatusUpdate | undefined;
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    if (res.status !== 200 || !res.body) return undefined;
    for await (const event of readEvents(res.body)) {
      if (event.event !== 'status') continue;
      const status = JSON.parse(event.data) as MintStatusUpdate;
      onStatus?.(status);
      if (['minted', 'rejected', 'refunded'].includes(status.status)) {
        final = status;
        break;
      }
    }
  } catch {
    if (abort.signal.aborted) throw timeoutError(requestId, timeoutMs);
    return undefined; // the stream failed: the chain has the answer too
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  if (!final) return undefined;
  if (final.status === 'minted') return (await outcomeOnChain(ctx, requestId, fromBlock ?? 0, { onlyMinted: true })) ?? undefined;
  if (final.status === 'rejected') {
    // The node gives the reason in words; the chain's reason code gives the error code.
    const onChain = await outcomeOnChain(ctx, requestId, fromBlock ?? 0).catch((e: unknown) => e);
    const fromChain = onChain instanceof MintFailedError && onChain.outcome === 'rejected' ? onChain : undefined;
    const reason = final.error ?? fromChain?.reason ?? 'rejected by the operator';
    throw new MintFailedError(
      fromChain?.code ?? 'CONTENT_REJECTED',
      `request ${requestId} was rejected: ${reason}; the payment was refunded`,
      {
        outcome: 'rejected',
        requestId,
        reason,
      },
    );
  }
  throw refundedError(requestId);
}

function refundedError(requestId: bigint) {
  return new MintFailedError('TIMEOUT', `request ${requestId} was not minted before its deadline and was refunded`, {
    outcome: 'refunded',
    requestId,
  });
}

/** Block of the request's `MintRequested`. */
async function requestBlock(ctx: ClientContext, requestId: bigint): Promise<number> {
  const [log] = await ctx.contract.queryFilter(ctx.contract.filters.MintRequested(requestId));
  if (!log) throw new AigcError('NOT_FOUND', `no request ${requestId} on collection ${ctx.collection}`);
  return log.blockNumber;
}

/** The request's end from the chain's logs: its token, a thrown MintFailedError, or undefined while it is open. */
async function outcomeOnChain(
  ctx: ClientContext,
  requestId: bigint,
  fromBlock: number,
  { onlyMinted = false } = {},
): Promise<WaitForMintReturnType | undefined> {
  const c = ctx.contract;
  const [fulfilled] = (await c.queryFilter(c.filters.MintFulfilled(requestId), fromBlock)) as EventLog[];
  if (fulfilled) {
    const tokenURI = await collectionReads(c).tokenURI(requestId);
    return { requestId, tokenId: requestId, tokenURI, txHash: fulfilled.transactionHash };
  }
  if (onlyMinted) return undefined;
  const [rejected] = (await c.queryFilter(c.filters.MintRejected(requestId), fromBlock)) as EventLog[];
  if (rejected) {
    const code = Number(rejected.args.reason);
    const known = REJECT_WORDS[code];
    const reason = known?.words ?? `operator reason code ${code}`;
    throw new MintFailedError(known?.code ?? 'CONTENT_REJECTED', `request ${requestId} was rejected: ${reason}; the payment was refunded`, {
      outcome: 'rejected',
      requestId,
      reason,
    });
  }
  const [refunded] = await c.queryFilter(c.filters.MintRefunded(requestId), fromBlock);
  if (refunded) throw refundedError(requestId);
  return undefined;
}
