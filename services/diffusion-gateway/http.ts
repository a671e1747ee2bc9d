import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AigcError } from '../../protocol/errors';
import { abortError, gatewayError } from './errors';

export type HttpCall = {
  /** Backend name, for messages. */
  backend: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON (see `jsonText`: a bigint becomes an exact integer literal). */
  body?: unknown;
  signal?: AbortSignal;
};

/** A backend's answer, read in full. */
export type BackendResponse = { status: number; headers: IncomingHttpHeaders; body: Buffer };

// Keep-alive pools with Nagle off: a backend call is one small request and one answer, and fetch's per-call cost
// (streams, WHATWG objects) showed up as gateway overhead.
const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 256 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
};
const MAX_BODY = 256 * 1024 * 1024;

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  signal?: AbortSignal,
): Promise<BackendResponse> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, agent: agents[url.protocol as 'http:'], signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('socket', (socket) => socket.setNoDelay(true));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * `JSON.stringify` that writes a bigint as an integer literal (`18446744073709551615`, not a string): JSON numbers
 * have no width limit and Python backends read them exactly, but a JS number above 2^53 would be rounded first.
 *
 * @example
 * jsonText({ seed: 2n ** 64n - 1n }); // '{"seed":18446744073709551615}'
 */
export function jsonText(value: unknown): string {
  let marker: string | undefined;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    // A fresh UUID per call: no string of the caller's can look like it. Letters, digits and - only: nothing to escape.
    marker ??= `bigint-${randomUUID()}-`;
    return `${marker}${v}`;
  });
  return marker === undefined ? text : text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

/**
 * One HTTP call to a backend with failures mapped to typed codes: unreachable → BACKEND_UNAVAILABLE,
 * 409/429/503 → BACKEND_BUSY, 500 → BACKEND_FAILED, 502+ → BACKEND_FAILED (retryable), 4xx → INVALID_REQUEST.
 * Follows up to 5 redirects of GETs (file downloads).
 *
 * @example
 * const res = await backendFetch({ backend: 'cog', url: 'http://gpu:5000/health-check' });
 */
export async function backendFetch({ backend, url, method = 'GET', headers = {}, body, signal }: HttpCall): Promise<BackendResponse> {
  const payload = body === undefined ? undefined : jsonText(body);
  const allHeaders =
    payload === undefined
      ? headers
      : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers };
  let target = new URL(url);
  let res: BackendResponse;
  for (let hop = 0; ; hop++) {
    try {
      res = await send(target, method, allHeaders, payload, signal);
    } catch (cause) {
      if (signal?.aborted) throw abortError(signal, backend);
      throw gatewayError({
        code: 'BACKEND_UNAVAILABLE',
        message: `${backend} unreachable at ${target.origin}`,
        cause,
        details: String(cause),
      });
    }
    const location = res.headers.location;
    if (method !== 'GET' || hop >= 5 || res.status < 300 || res.status >= 400 || !location) break;
    target = new URL(location, target);
  }
  if (res.status >= 200 && res.status < 300) return res;
  throw statusError({ backend, status: res.status, text: res.body.toString('utf8'), retryAfter: res.headers['retry-after'] });
}

/** Maps a backend's HTTP error status to a typed error. */
export function statusError({
  backend,
  status,
  text,
  retryAfter,
}: {
  backend: string;
  status: number;
  text: string;
  retryAfter?: string | null;
}): AigcError {
  const details = text.slice(0, 2_000);
  if (status === 409 || status === 429 || status === 503) {
    return gatewayError({
      code: 'BACKEND_BUSY',
      message: `${backend} is busy (HTTP ${status})`,
      details,
      retryAfterMs: retryAfter && Number.isFinite(Number(retryAfter)) ? Number(retryAfter) * 1000 : undefined,
    });
  }
  if (status === 504 || status === 408)
    return gatewayError({ code: 'BACKEND_TIMEOUT', message: `${backend} timed out (HTTP ${status})`, details });
  // 500: the backend ran the job and it raised (bad input for this model, OOM on this size): retrying won't help.
  // 502 and the like come from a proxy in front of it: transient.
  if (status >= 500)
    return gatewayError({ code: 'BACKEND_FAILED', message: `${backend} failed (HTTP ${status})`, details, retryable: status > 501 });
  if (status === 401 || status === 403) {
    return gatewayError({
      code: 'BACKEND_UNAVAILABLE',
      message: `${backend} refused the gateway's credentials (HTTP ${status})`,
      details,
      retryable: false,
    });
  }
  return gatewayError({ code: 'INVALID_REQUEST', message: `${backend} rejected the request (HTTP ${status})`, details });
}

/** Reads a JSON body, mapping garbage to BACKEND_FAILED. */
export async function readJson<T>(res: BackendResponse, backend: string): Promise<T> {
  const text = res.body.toString('utf8');
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
      const hinted = (error as AigcError).retryAfterMs;
      const delay = hinted ?? baseMs * 2 ** (attempt - 1) * (1 + Math.random() * 0.5);
      try {
        await sleep(Math.min(delay, 10_000), signal);
      } catch {
        throw abortError(signal!, backend);
      }
    }
  }
}
