import { AigcError } from '../../pipeline/errors';
import { abortError, gatewayError } from './errors';

export type HttpCall = {
  /** Backend name, for messages. */
  backend: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
};

/**
 * One HTTP call to a backend with failures mapped to typed codes: unreachable → BACKEND_UNAVAILABLE,
 * 409/429/503 → BACKEND_BUSY, 500 → BACKEND_FAILED, 502+ → BACKEND_FAILED (retryable), 4xx → INVALID_REQUEST.
 *
 * @example
 * const res = await backendFetch({ backend: 'cog', url: 'http://gpu:5000/health-check' });
 */
export async function backendFetch({ backend, url, method = 'GET', headers = {}, body, signal }: HttpCall): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (cause) {
    if (signal?.aborted) throw abortError(signal, backend);
    throw gatewayError({ code: 'BACKEND_UNAVAILABLE', message: `${backend} unreachable at ${new URL(url).origin}`, cause, details: String(cause) });
  }
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  throw statusError({ backend, status: res.status, text, retryAfter: res.headers.get('retry-after') });
}

/** Maps a backend's HTTP error status to a typed error. */
export function statusError({ backend, status, text, retryAfter }: { backend: string; status: number; text: string; retryAfter?: string | null }): AigcError {
  const details = text.slice(0, 2_000);
  if (status === 409 || status === 429 || status === 503) {
    return Object.assign(gatewayError({ code: 'BACKEND_BUSY', message: `${backend} is busy (HTTP ${status})`, details }), {
      retryAfterMs: retryAfter && Number.isFinite(Number(retryAfter)) ? Number(retryAfter) * 1000 : undefined,
    });
  }
  if (status === 504 || status === 408) return gatewayError({ code: 'BACKEND_TIMEOUT', message: `${backend} timed out (HTTP ${status})`, details });
  // 500: the backend ran the job and it raised (bad input for this model, OOM on this size): retrying won't help.
  // 502 and the like come from a proxy in front of it: transient.
  if (status >= 500) return gatewayError({ code: 'BACKEND_FAILED', message: `${backend} failed (HTTP ${status})`, details, retryable: status > 501 });
  if (status === 401 || status === 403) {
    return gatewayError({ code: 'BACKEND_UNAVAILABLE', message: `${backend} refused the gateway's credentials (HTTP ${status})`, details, retryable: false });
  }
  return gatewayError({ code: 'INVALID_REQUEST', message: `${backend} rejected the request (HTTP ${status})`, details });
}

/** Reads a JSON body, mapping garbage to BACKEND_FAILED. */
export async function readJson<T>(res: Response, backend: string): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw gatewayError({ code: 'BACKEND_FAILED', message: `${backend} answered with invalid JSON`, details: text.slice(0, 500), cause });
  }
}

/** Sleeps `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export type BackoffOptions = {
  backend: string;
  /** Attempts in all, the first included. @defaultValue 4 */
  attempts?: number;
  /** First delay; doubles each retry, with up to 50 % jitter. @defaultValue 250 */
  baseMs?: number;
  signal?: AbortSignal;
};

/**
 * Runs `fn`, retrying retryable backend errors (busy, 5xx, unreachable) with exponential backoff; honours a
 * busy answer's Retry-After.
 *
 * @example
 * const out = await withBackoff({ backend: 'cog', signal }, () => backendFetch({ backend: 'cog', url, method: 'PUT', body }));
 */
export async function withBackoff<T>({ backend, attempts = 4, baseMs = 250, signal }: BackoffOptions, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted) throw abortError(signal, backend);
      const retryable = error instanceof AigcError && error.retryable && error.code !== 'BACKEND_TIMEOUT';
      if (!retryable || attempt >= attempts) throw error;
      const hinted = (error as { retryAfterMs?: number }).retryAfterMs;
      const delay = hinted ?? baseMs * 2 ** (attempt - 1) * (1 + Math.random() * 0.5);
      try {
        await sleep(Math.min(delay, 10_000), signal);
      } catch {
        throw abortError(signal!, backend);
      }
    }
  }
}
