/**
 * A client of the node's Web2 door as a site would write it: `POST /v1/mints` with an Idempotency-Key, retried with
 * the same key on a connection error (the node is down or restarting), a timeout, a 5xx or a 429, so that a retry
 * can never pay twice. Every attempt is recorded, so a run can tell a refused connection from an HTTP 5xx answer.
 */

/** One HTTP attempt: when it started and ended (ms on the run's clock) and how it ended. */
export type Attempt = {
  startMs: number;
  endMs: number;
  /** `answer`: the node answered (any status); `connection`: refused or reset; `timeout`: no answer in time. */
  outcome: 'answer' | 'connection' | 'timeout';
  status?: number;
  /** The error code of a connection error (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, …). */
  code?: string;
};

/** How one send of a key ended, after its retries. */
export type Sent = {
  key: string;
  /** The last attempt's HTTP status; undefined when every attempt failed without an answer. */
  status?: number;
  /** The mint id of a 2xx answer. */
  id?: string;
  /** The answer carried `idempotent-replayed: true`. */
  replayed: boolean;
  /** The last answer's error code (`{ error: { code } }`) when it was not 2xx. */
  errorCode?: string;
  attempts: Attempt[];
};

export type ClientOptions = {
  /** The node's base URL. */
  url: string;
  apiKey: string;
  /** The run's clock, in ms. */
  now: () => number;
  /** How long one send keeps retrying before it gives up. @defaultValue 120_000 */
  giveUpAfterMs?: number;
  /** How long one attempt waits for an answer. @defaultValue 30_000 */
  attemptTimeoutMs?: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The code of a failed `fetch` (undici puts the socket's error in `cause`). */
function errorCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.name ?? e.name ?? 'UNKNOWN';
}

const isTimeout = (error: unknown) => ['TimeoutError', 'AbortError'].includes((error as { name?: string }).name ?? '');

/** Wait before retry `n` (from 0): the answer's Retry-After when given (at most 5 s), else 50 ms doubling to 1 s, with jitter. */
function backoffMs(n: number, retryAfter: string | null): number {
  const told = retryAfter === null ? NaN : Number(retryAfter) * 1_000;
  if (Number.isFinite(told) && told >= 0) return Math.min(told, 5_000);
  return Math.min(1_000, 50 * 2 ** n) * (0.5 + Math.random() / 2);
}

/** Statuses worth the same request again: the node may answer otherwise in a moment. */
const retryable = (status: number) => status >= 500 || status === 429;

/**
 * Sends `body` under Idempotency-Key `key` until the node gives a final answer (2xx or a 4xx other than 429) or
 * `giveUpAfterMs` passes.
 *
 * @example
 * const sent = await postMint({ url, apiKey, now: () => performance.now() }, 'order-1', { to, prompt });
 * if (sent.id) console.log(`mint ${sent.id}`);
 */
export async function postMint(options: ClientOptions, key: string, body: { to: string; prompt: string }): Promise<Sent> {
  const { url, apiKey, now, giveUpAfterMs = 120_000, attemptTimeoutMs = 30_000 } = options;
  const sent: Sent = { key, replayed: false, attempts: [] };
  const giveUpAt = now() + giveUpAfterMs;
  for (let n = 0; ; n++) {
    const startMs = now();
    let retryAfter: string | null = null;
    try {
      const res = await fetch(`${url}/v1/mints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(attemptTimeoutMs),
      });
      // Read in the try: a node killed mid-answer resets the connection while the body streams.
      const answer = (await res.json().catch(() => ({}))) as { id?: string; error?: { code?: string } };
      sent.attempts.push({ startMs, endMs: now(), outcome: 'answer', status: res.status });
      sent.status = res.status;
      if (res.ok) {
        sent.id = answer.id;
        sent.replayed = res.headers.get('idempotent-replayed') === 'true';
        sent.errorCode = undefined;
        return sent;
      }
      sent.errorCode = answer.error?.code;
      if (!retryable(res.status)) return sent;
      retryAfter = res.headers.get('retry-after');
    } catch (error) {
      sent.attempts.push(
        isTimeout(error)
          ? { startMs, endMs: now(), outcome: 'timeout' }
          : { startMs, endMs: now(), outcome: 'connection', code: errorCode(error) },
      );
    }
    if (now() > giveUpAt) return sent;
    await sleep(backoffMs(n, retryAfter));
  }
}

/**
 * `GET path` as JSON, retried on connection errors, timeouts and 5xx until `giveUpAfterMs`; a 4xx is returned.
 *
 * @example
 * const { status, body } = await getJson(url, `/v1/mints/${id}`);
 */
export async function getJson<T>(url: string, path: string, giveUpAfterMs = 60_000): Promise<{ status: number; body: T }> {
  const giveUpAt = Date.now() + giveUpAfterMs;
  for (let n = 0; ; n++) {
    try {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
      const body = (await res.json()) as T;
      if (!retryable(res.status) || Date.now() > giveUpAt) return { status: res.status, body };
    } catch (error) {
      if (Date.now() > giveUpAt) throw new Error(`GET ${path} failed for ${giveUpAfterMs} ms: ${errorCode(error)}`);
    }
    await sleep(backoffMs(n, null));
  }
}
