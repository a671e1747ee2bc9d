import http from 'node:http';
import https from 'node:https';
import { AigcError, type ErrorCode } from '../errors';

/** Keep-alive agents shared by every client of this process. */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

export type HttpClientOptions = {
  /** Where the service is; a request's path is appended to it (a path prefix in it is kept), `''` is it. */
  baseUrl: string;
  /** What the service is, for error messages: `gateway`, `Arweave gateway`. */
  name: string;
  /** The code of the AigcError a network failure becomes (the service's own: `GATEWAY_FAILED`, `ARWEAVE_FAILED`). */
  errorCode: ErrorCode;
  /** No full answer within this long fails the request; a request may set its own. */
  timeoutMs: number;
  /** The code of the AigcError a timeout becomes. @defaultValue errorCode */
  timeoutCode?: ErrorCode;
  /** Sent with every request (authorization); a request's own headers win. */
  headers?: Record<string, string>;
};

export type HttpRequestOptions = {
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
};

/** An answer, read whole. */
export type HttpResponse = {
  status: number;
  /** A 2xx status. */
  ok: boolean;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** One header; several values joined with `, `. */
  header(name: string): string | undefined;
  text(): string;
  json<T>(): T;
};

export type HttpClient = {
  /** The absolute URL of `path` on this service. */
  url(path: string): string;
  /** Resolves with any HTTP status; rejects with a retryable AigcError (`timeoutCode` or `errorCode`) when no answer came. */
  request(method: 'GET' | 'POST', path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  get(path: string, options?: Omit<HttpRequestOptions, 'body'>): Promise<HttpResponse>;
  post(path: string, body: string | Buffer, options?: Omit<HttpRequestOptions, 'body'>): Promise<HttpResponse>;
};

/**
 * The node's one client for outbound HTTP (the diffusion gateway, Arweave gateways): keep-alive connections,
 * a timeout on the whole answer, one resend when a reused connection turns out closed, failures as typed
 * AigcErrors. It uses `node:http` rather than `fetch` on the hot paths (every render, megabytes of chunks a second
 * to Arweave): undici's web streams cost several times more CPU per request.
 *
 * @example
 * const arweave = createHttpClient({ baseUrl: 'http://127.0.0.1:1984', name: 'Arweave gateway', errorCode: 'ARWEAVE_FAILED', timeoutMs: 60_000 });
 * const res = await arweave.get(`tx/${id}/status`);
 * if (res.ok) console.log(res.text());
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  // An empty path is the base URL itself, untouched (a JSON-RPC URL with a key in its path or query).
  const url = (path: string) => (path === '' ? options.baseUrl : `${base}/${path.replace(/^\/+/, '')}`);
  const request: HttpClient['request'] = async (method, path, { headers, body, timeoutMs = options.timeoutMs } = {}) => {
    const target = new URL(url(path));
    const send = () => sendOnce(target, method, { ...options.headers, ...headers }, body, timeoutMs);
    try {
      try {
        return await send();
      } catch (error) {
        // A kept-alive connection the server closed just as it was reused: the request never reached it, so it is
        // sent again once on a new connection (what Node's documentation advises).
        if ((error as Reset).reusedSocket && (error as Reset).code === 'ECONNRESET') return await send();
        throw error;
      }
    } catch (cause) {
      if ((cause as Error).name === 'TimeoutError') {
        throw new AigcError(options.timeoutCode ?? options.errorCode, `${options.name} ${base} timed out after ${timeoutMs} ms`, {
          cause,
          retryable: true,
        });
      }
      throw new AigcError(options.errorCode, `${options.name} ${base} unreachable`, {
        cause,
        retryable: true,
        details: (cause as Error).message,
      });
    }
  };
  return {
    url,
    request,
    get: (path, o) => request('GET', path, o),
    post: (path, body, o) => request('POST', path, { ...o, body }),
  };
}

type Reset = { reusedSocket?: boolean; code?: string };

function sendOnce(
  target: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  timeoutMs: number,
): Promise<HttpResponse> {
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(target, {
      method,
      agent: agents[target.protocol as keyof typeof agents],
      headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error(`no answer from ${target.origin} within ${timeoutMs} ms`), { name: 'TimeoutError' })),
      timeoutMs,
    );
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        clearTimeout(timer);
        resolve(answer(res.statusCode ?? 0, res.headers, Buffer.concat(parts)));
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(Object.assign(error, { reusedSocket: req.reusedSocket }));
    });
    req.end(body);
  });
}

function answer(status: number, headers: http.IncomingHttpHeaders, body: Buffer): HttpResponse {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    body,
    header: (name) => {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}
