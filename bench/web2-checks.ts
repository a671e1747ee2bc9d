import type { Sent } from './web2-client';

/**
 * The invariants of a load run at the Web2 door with the node killed under it, as a pure function of what the
 * client saw, what the API reports and what the chain holds: each key is one mint, paid and minted once.
 */

/** A key of the run: its recipient and every send of it (two for a duplicated key). */
export type KeyRecord = { key: string; to: string; sends: Sent[] };

/** From a SIGKILL to the restarted node serving HTTP again (ms on the run's clock). */
export type KillWindow = { fromMs: number; toMs: number };

/** A mint's final answer from `GET /v1/mints/:id`. */
export type MintRecord = { status: string; to: string; requestId?: string; error?: string };

/** What the collection holds once the run is over. */
export type ChainRecord = {
  /** The signer that pays sponsored mints. */
  operator: string;
  /** `MintRequested` events, each request id with its payer and recipient. */
  requested: { requestId: string; requester: string; recipient: string }[];
  /** Request ids of `MintFulfilled` events, one per event. */
  fulfilled: string[];
  /** `ownerOf` of each minted token, by request id. */
  owners: Map<string, string>;
};

/**
 * HTTP statuses a client may meet and retry at this door: 503 (the node cannot reach Redis or the chain for a moment;
 * `retryable: true`) and 429 (too many calls; `Retry-After`). Anything else not 2xx is a fault of the run.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** At most this many lines per kind of violation, then a count of the rest. */
const MAX_LINES = 10;

/**
 * Every broken invariant, one line each (empty when the run is sound):
 * - each key got a 2xx answer, every answer for it names one mint id, and no two keys share one;
 * - at most one answer per key lacks `idempotent-replayed: true` (the call that queued the mint);
 * - answers other than 2xx are 503 or 429 only; connection errors and timeouts happen only within a kill window;
 * - each mint ended `minted`, for its key's recipient;
 * - on chain the operator paid one request per key's recipient and none for anyone else, each was fulfilled once,
 *   and the token is owned by the recipient; nothing else was minted.
 */
export function checkRun({
  keys,
  killWindows,
  mints,
  chain,
}: {
  keys: KeyRecord[];
  killWindows: KillWindow[];
  mints: Map<string, MintRecord | undefined>;
  chain: ChainRecord;
}): string[] {
  const found = new Map<string, string[]>();
  const add = (kind: string, line: string) => found.set(kind, [...(found.get(kind) ?? []), line]);
  const inKillWindow = (a: { startMs: number; endMs: number }) => killWindows.some((w) => a.startMs <= w.toMs && a.endMs >= w.fromMs);

  const keyOfId = new Map<string, string>();
  for (const { key, to, sends } of keys) {
    for (const s of sends) {
      if (!s.id) add('unanswered', `key ${key}: no 2xx answer (last: ${s.status ?? 'no answer'}${s.errorCode ? ` ${s.errorCode}` : ''})`);
      for (const a of s.attempts) {
        if (a.outcome === 'answer' && (a.status! < 200 || a.status! > 299) && !RETRYABLE_STATUSES.has(a.status!))
          add(`http ${a.status}`, `key ${key}: HTTP ${a.status}${s.errorCode ? ` ${s.errorCode}` : ''} at ${Math.round(a.startMs)} ms`);
        if (a.outcome !== 'answer' && !inKillWindow(a))
          add(
            'connection',
            `key ${key}: ${a.code ?? a.outcome} at ${Math.round(a.startMs)}–${Math.round(a.endMs)} ms, outside every kill window`,
          );
      }
    }
    const ids = [...new Set(sends.flatMap((s) => (s.id ? [s.id] : [])))];
    if (ids.length > 1) add('ids', `key ${key}: answered with ${ids.length} mint ids (${ids.join(', ')})`);
    // One call queued the mint; every other answer is its replay. (None may say so, when that call's answer was lost.)
    const queued = sends.filter((s) => s.id && !s.replayed).length;
    if (queued > 1) add('replay', `key ${key}: ${queued} answers without idempotent-replayed, as if each had queued the mint`);
    const id = ids[0];
    if (!id) continue;
    const other = keyOfId.get(id);
    if (other !== undefined) add('ids', `keys ${other} and ${key} share mint ${id}`);
    keyOfId.set(id, key);
    const mint = mints.get(id);
    if (!mint) add('status', `mint ${id} (key ${key}): no status`);
    else if (mint.status !== 'minted') add('status', `mint ${id} (key ${key}): ${mint.status}${mint.error ? `: ${mint.error}` : ''}`);
    else if (mint.to.toLowerCase() !== to.toLowerCase()) add('status', `mint ${id} (key ${key}): for ${mint.to}, sent for ${to}`);
  }

  // On chain: one paid request per recipient, one fulfilment per request, the token with its recipient.
  const recipients = new Map(keys.map((k) => [k.to.toLowerCase(), k.key]));
  const paidFor = new Map<string, string[]>();
  for (const r of chain.requested) {
    if (r.requester.toLowerCase() !== chain.operator.toLowerCase()) continue;
    const to = r.recipient.toLowerCase();
    if (!recipients.has(to)) add('chain', `request ${r.requestId}: the operator paid for ${r.recipient}, which no key asked for`);
    paidFor.set(to, [...(paidFor.get(to) ?? []), r.requestId]);
  }
  for (const [to, key] of recipients) {
    const paid = paidFor.get(to) ?? [];
    if (paid.length !== 1) add('chain', `key ${key}: the operator paid ${paid.length} requests for ${to} (${paid.join(', ') || 'none'})`);
  }
  const fulfilments = new Map<string, number>();
  for (const id of chain.fulfilled) fulfilments.set(id, (fulfilments.get(id) ?? 0) + 1);
  const requestOf = new Map<string, string>(); // request id → key
  for (const { key, to, sends } of keys) {
    const id = sends.find((s) => s.id)?.id;
    const requestId = id ? mints.get(id)?.requestId : undefined;
    if (requestId === undefined) continue;
    const other = requestOf.get(requestId);
    if (other !== undefined) add('chain', `keys ${other} and ${key} share request ${requestId}`);
    requestOf.set(requestId, key);
    const times = fulfilments.get(requestId) ?? 0;
    if (times !== 1) add('chain', `key ${key}: request ${requestId} fulfilled ${times} times`);
    const owner = chain.owners.get(requestId);
    if (times === 1 && owner?.toLowerCase() !== to.toLowerCase())
      add('chain', `key ${key}: token ${requestId} is owned by ${owner ?? 'nobody'}, not ${to}`);
  }
  for (const [requestId] of fulfilments)
    if (!requestOf.has(requestId)) add('chain', `request ${requestId} was minted but no key's mint names it`);

  return [...found.values()].flatMap((lines) =>
    lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `… and ${lines.length - MAX_LINES} more like these`] : lines,
  );
}
