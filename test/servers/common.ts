import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** The gateway fields of a render request in the A1111/Cog/Replicate input shape (`negative_prompt`, Python ints). */
export function lastRender(input: Record<string, unknown>): NonNullable<WireServer['last']> {
  return {
    prompt: String(input.prompt),
    negativePrompt: String(input.negative_prompt ?? ''),
    seed: pyInt(input.seed) ?? -1n,
    width: Number(input.width),
    height: Number(input.height),
  };
}

/** What a wire-protocol test server received, in the gateway's terms, and the faults it should inject. */
export type WireServer = {
  url: string;
  /** "METHOD /path" of every request, in order. */
  calls: string[];
  /** The last render request, mapped back to gateway fields. */
  last?: { prompt: string; negativePrompt: string; seed: bigint; width: number; height: number };
  /** Ids of jobs the client cancelled. */
  cancelled: string[];
  /** Set by close(): hanging jobs end so nothing outlives the test. */
  closed: boolean;
  faults: {
    /** Answer "busy" (the protocol's way) this many times before accepting. */
    busy: number;
    /** The job fails on the backend. */
    fail: boolean;
    /** The job never finishes (until cancelled). */
    hang: boolean;
    /** Render time. */
    delayMs: number;
  };
  close(): Promise<void>;
};

// From test/servers/ in Jest, or dist/test/servers/ when the benchmark runs compiled.
const PHOTO = [join(__dirname, '../fixtures/photos/chelsea.png'), join(__dirname, '../../../test/fixtures/photos/chelsea.png')].find((p) =>
  existsSync(p),
)!;

const photoCache = new Map<string, Promise<Buffer>>();

/** A real photo (Chelsea the cat, CC0) cropped to `width`×`height` as PNG, like a backend's render. */
export function photo(width: number, height: number): Promise<Buffer> {
  const key = `${width}x${height}`;
  let p = photoCache.get(key);
  if (!p) {
    p = sharp(PHOTO).resize({ width, height, fit: 'cover' }).png().toBuffer();
    photoCache.set(key, p);
  }
  return p;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * JSON.parse as Python's `json` reads it: integer literals beyond 2^53 come back exact, as bigints (JSON.parse would
 * round them to the nearest double). The backends these servers stand for are Python servers.
 */
export function parseJsonExact(text: string): unknown {
  const marker = `bigint-${randomUUID()}-`;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // Copy a string literal as is, escapes included.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const number = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
      number.lastIndex = i;
      const [literal, fraction, exponent] = number.exec(text) ?? [c];
      out += !fraction && !exponent && !Number.isSafeInteger(Number(literal)) ? `"${marker}${literal}"` : literal;
      i += literal.length;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(marker) ? BigInt(value.slice(marker.length)) : value,
  );
}

/** An integer as Python's `int(value)` reads a JSON value (int, float truncated, or a string of digits); undefined when it raises. */
export function pyInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(value)) return BigInt(value.trim().replace(/_/g, ''));
  return undefined;
}

/** JSON as Python's `json.dumps` writes it: bigints as exact integer literals. */
export function jsonExact(body: unknown): string {
  const marker = `bigint-${randomUUID()}-`;
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? `${marker}${value}` : value));
  return text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = jsonExact(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts `handler` on 127.0.0.1 at a free port and returns the server with its fault controls. */
export async function startWireServer(
  handler: (req: IncomingMessage, res: ServerResponse, state: WireServer) => Promise<void>,
  setup?: (server: Server, state: WireServer) => void,
): Promise<WireServer> {
  const state: WireServer = {
    url: '',
    calls: [],
    cancelled: [],
    closed: false,
    faults: { busy: 0, fail: false, hang: false, delayMs: 0 },
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    state.calls.push(`${req.method} ${req.url}`);
    handler(req, res, state).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  setup?.(server, state);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      state.closed = true;
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Waits `ms`, or until `isCancelled()` turns true (checked every 10 ms); returns whether it was cancelled. */
export async function renderTime(ms: number, hang: boolean, isCancelled: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  while (hang || Date.now() < until) {
    if (isCancelled()) return true;
    await wait(Math.min(10, Math.max(1, until - Date.now())));
  }
  return isCancelled();
}
