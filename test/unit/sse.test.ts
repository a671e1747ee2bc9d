import type { AddressInfo, Server } from 'node:net';
import express from 'express';
import { streamStatus } from '../../pipeline/http/sse';
import { sleep } from '../helpers/wait';

type S = { status: string; n?: number };

/** A server whose one route streams the statuses `next()` yields; counts reads so polling after close shows. */
async function serve(next: () => S | undefined, options: { pollMs?: number; keepAliveMs?: number } = {}) {
  const state = { reads: 0 };
  const app = express();
  app.get('/events', (req, res) => {
    const read = async () => {
      state.reads++;
      return next();
    };
    void read().then((first) => streamStatus({ req, res, read, isFinal: (s) => s.status === 'done', ...options }, first!));
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Reads the whole stream (it must end within `ms`). */
async function readAll(
  url: string,
  headers: Record<string, string> = {},
  ms = 5_000,
): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(ms) });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const events = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.includes('event: status'))
    .map(
      (block) =>
        JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ) as S,
    );

describe('status event stream', () => {
  it('sends the current status at once, then each change (not repeats), and ends after a final status', async () => {
    const script: S[] = [
      { status: 'a' },
      { status: 'a' },
      { status: 'b' },
      { status: 'b' },
      { status: 'b', n: 1 },
      { status: 'done' },
      { status: 'after' },
    ];
    let i = 0;
    const s = await serve(() => script[Math.min(i++, script.length - 1)], { pollMs: 20 });
    try {
      const { status, type, text } = await readAll(s.url);
      expect(status).toBe(200);
      expect(type).toMatch(/^text\/event-stream/);
      expect(events(text)).toEqual([{ status: 'a' }, { status: 'b' }, { status: 'b', n: 1 }, { status: 'done' }]);
      expect(text).toMatch(/id: end\nevent: status\ndata: \{"status":"done"\}/);
      await sleep(100); // checks that nothing happens: no read after the final status
      expect(s.state.reads).toBe(6); // no read after the final status
    } finally {
      await s.close();
    }
  });

  it('sends keep-alive comments while nothing changes, and stops polling when the client goes away', async () => {
    const s = await serve(() => ({ status: 'waiting' }), { pollMs: 20, keepAliveMs: 50 });
    try {
      const controller = new AbortController();
      const res = await fetch(s.url, { signal: controller.signal });
      const reader = res.body!.getReader();
      let text = '';
      while ((text.match(/: keep-alive/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
      expect(events(text)).toEqual([{ status: 'waiting' }]);
      controller.abort();
      await sleep(100); // the server sees the abort at its next write; no event tells the test when
      const reads = s.state.reads;
      await sleep(200); // checks that nothing happens: no more reads after the client left
      expect(s.state.reads).toBe(reads);
    } finally {
      await s.close();
    }
  });

  it('answers 204 to a browser reconnecting after the final event, so EventSource stops', async () => {
    const s = await serve(() => ({ status: 'done' }));
    try {
      expect((await readAll(s.url, { 'last-event-id': 'end' })).status).toBe(204);
      expect(events((await readAll(s.url, { 'last-event-id': '3' })).text)).toEqual([{ status: 'done' }]);
    } finally {
      await s.close();
    }
  });
});
