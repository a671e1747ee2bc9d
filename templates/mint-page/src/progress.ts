import { outcome } from './chain';
import type { Rpc } from './rpc';

/** A status the node streams (`/v1/requests/:id/events`), or one the chain shows. */
export type Progress = {
  status: 'requested' | 'rendering' | 'rendered' | 'minted' | 'rejected' | 'refunded';
  image?: string;
  error?: string;
  /** The chain's reject reason code, when the chain told. */
  reason?: number;
  /** Where it came from: the node's stream or chain polling. */
  via: 'node' | 'chain';
};

const FINAL = new Set(['minted', 'rejected', 'refunded']);

/**
 * Follows request `requestId` to its end: the node's server-sent events when a node is given (each stage), else, or
 * when the stream fails, the chain's logs every `pollMs` (only the end is visible there). Returns a stop function.
 */
export function followRequest(
  o: { node?: string; rpc: Rpc; address: string; requestId: bigint; fromBlock: number; pollMs?: number },
  onProgress: (p: Progress) => void,
  /** The node's stream failed: from now on only the chain tells, and only the end. */
  onChainFallback?: () => void,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const source = o.node ? new EventSource(`${o.node}/v1/requests/${o.requestId}/events?collection=${o.address}`) : undefined;
  const stop = () => {
    stopped = true;
    source?.close();
    clearTimeout(timer);
  };
  const poll = async () => {
    if (stopped) return;
    try {
      const end = await outcome(o.rpc, o.address, o.requestId, o.fromBlock);
      if (end && !stopped) {
        stop();
        onProgress({ status: end.kind, via: 'chain', ...(end.kind === 'rejected' ? { reason: end.reason } : {}) });
        return;
      }
    } catch {
      // the RPC failed this time; try again at the next poll
    }
    if (!stopped) timer = setTimeout(() => void poll(), o.pollMs ?? 2_000);
  };
  if (!source) {
    void poll();
    return stop;
  }
  source.addEventListener('status', (event) => {
    const p = JSON.parse((event as MessageEvent<string>).data) as Omit<Progress, 'via'>;
    if (FINAL.has(p.status)) stop();
    onProgress({ ...p, via: 'node' });
  });
  let polling = false;
  source.onerror = () => {
    // A node that is down or does not know the request: the chain has the answer too. The stream keeps retrying
    // (EventSource reconnects) while the chain is polled; whichever sees the end first reports it.
    if (stopped || polling) return;
    polling = true;
    onChainFallback?.();
    void poll();
  };
  return stop;
}
