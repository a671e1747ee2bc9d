import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { AigcError } from '../../pipeline/errors';
import { createHttpClient } from '../../pipeline/net/http-client';

/** A server that answers the n-th request of each connection with `handle(n)`, or drops the connection on null. */
async function serve(
  handle: (nOnSocket: number) => string | null | 'hang',
): Promise<{ url: string; server: Server; connections: () => number }> {
  const counts = new WeakMap<Socket, number>();
  let connections = 0;
  const server = createServer((req, res) => {
    const n = (counts.get(req.socket) ?? 0) + 1;
    counts.set(req.socket, n);
    const answer = handle(n);
    if (answer === null) req.socket.destroy();
    else if (answer !== 'hang') res.end(answer);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, connections: () => connections };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('http client (outbound HTTP of the node)', () => {
  it('sends a request again once on a new connection when a reused kept-alive one is reset', async () => {
    const s = await serve((n) => (n === 1 ? 'first' : null));
    try {
      const client = createHttpClient({ baseUrl: s.url, name: 'test', errorCode: 'GATEWAY_FAILED', timeoutMs: 5_000 });
      expect((await client.get('/a')).text()).toBe('first');
      const again = await client.post('b', 'body');
      expect({ ok: again.ok, text: again.text(), connections: s.connections() }).toEqual({ ok: true, text: 'first', connections: 2 });
    } finally {
      await close(s.server);
    }
  });

  it('fails with typed, retryable errors: the timeout code, or the client code when unreachable', async () => {
    const s = await serve(() => 'hang');
    const client = createHttpClient({ baseUrl: s.url, name: 'test', errorCode: 'ARWEAVE_FAILED', timeoutCode: 'TIMEOUT', timeoutMs: 200 });
    try {
      await expect(client.get('x')).rejects.toMatchObject({
        code: 'TIMEOUT',
        retryable: true,
        shortMessage: `test ${s.url} timed out after 200 ms`,
      });
    } finally {
      await close(s.server);
    }
    const error = await client.get('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AigcError);
    expect(error).toMatchObject({ code: 'ARWEAVE_FAILED', retryable: true });
  });

  it('joins paths to the base URL and keeps the base itself for an empty path', () => {
    const client = createHttpClient({ baseUrl: 'https://host/prefix/?key=1', name: 'test', errorCode: 'CHAIN_FAILED', timeoutMs: 1 });
    expect(client.url('')).toBe('https://host/prefix/?key=1');
    expect(createHttpClient({ baseUrl: 'https://host/prefix/', name: 'test', errorCode: 'CHAIN_FAILED', timeoutMs: 1 }).url('/tx/1')).toBe(
      'https://host/prefix/tx/1',
    );
  });
});
