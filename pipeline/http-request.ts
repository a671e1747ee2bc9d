import http from 'node:http';
import https from 'node:https';

/** Keep-alive agents shared by every request of this process. */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

export type HttpRequest = {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Rejects with an Error named `TimeoutError` when no full answer came within this long. */
  timeoutMs: number;
};

export type HttpAnswer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

/**
 * One HTTP request over a keep-alive connection, the answer read whole. The node's hot paths (every render from
 * the gateway, megabytes of chunks a second to Arweave) use this rather than `fetch`: undici's web streams cost
 * several times more CPU per request. Rejects on network errors and timeouts; any HTTP status resolves.
 *
 * @example
 * const { status, body } = await httpRequest('http://127.0.0.1:1984/chunk', { method: 'POST', body: json, timeoutMs: 60_000 });
 */
export async function httpRequest(url: string, request: HttpRequest): Promise<HttpAnswer> {
  try {
    return await send(url, request);
  } catch (error) {
    // A kept-alive connection the server closed just as it was reused: the request never reached it, so it is
    // sent again once on a new connection (what Node's documentation advises).
    if ((error as { reusedSocket?: boolean; code?: string }).reusedSocket && (error as { code?: string }).code === 'ECONNRESET') return send(url, request);
    throw error;
  }
}

function send(url: string, { method, headers = {}, body, timeoutMs }: HttpRequest): Promise<HttpAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(target, {
      method,
      agent: agents[target.protocol as keyof typeof agents],
      headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer from ${target.origin} within ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
      });
      res.on('error', reject);
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(Object.assign(error, { reusedSocket: req.reusedSocket }));
    });
    req.end(body);
  });
}

/** POSTs a JSON body and reads the answer as text. */
export async function postJson(url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const answer = await httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/plain' }, body, timeoutMs });
  return { status: answer.status, text: answer.body.toString('utf8') };
}
