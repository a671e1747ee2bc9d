import http from 'node:http';
import https from 'node:https';

/** Keep-alive agents shared by every upload of this process. */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/**
 * POSTs a JSON body and reads the answer as text. Uploads send megabytes of chunk JSON a second; Node's `http`
 * costs a fraction of `fetch` (undici's web streams, and arweave-js clones each answer to try JSON first).
 * Rejects on network errors and after `timeoutMs`; any HTTP status resolves.
 *
 * @example
 * const { status } = await postJson('http://127.0.0.1:1984/chunk', body, 60_000);
 */
export function postJson(url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as keyof typeof agents],
        headers: { 'content-type': 'application/json', accept: 'application/json, text/plain', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
