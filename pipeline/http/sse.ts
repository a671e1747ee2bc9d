import type { Request, Response } from 'express';

export type StatusStreamOptions<T> = {
  req: Request;
  res: Response;
  /** The current status. Called at once, then every `pollMs`; undefined ends the stream (the thing is gone). */
  read(): Promise<T | undefined>;
  /** A final status is sent, then the stream ends. */
  isFinal(status: T): boolean;
  /** @defaultValue 500 */
  pollMs?: number;
  /** A `: keep-alive` comment is sent this often so proxies keep the connection open. @defaultValue 15_000 */
  keepAliveMs?: number;
  /** A failed `read()` between two polls (it is retried at the next one). */
  onError?(error: unknown): void;
};

/** Event id of the last event of a stream; a client that reconnects with it gets 204, which stops EventSource. */
const FINAL_EVENT_ID = 'end';

/**
 * Answers a request with a server-sent-events stream of status changes: the current status at once (event
 * `status`), then each change found by polling `read()`, a keep-alive comment every `keepAliveMs`, and the end of
 * the stream after a final status. The first read must succeed (404 is the caller's job); polling stops when the
 * client goes away.
 *
 * Browsers' `EventSource` reconnects when a stream ends; the final event has id `end`, and a reconnect carrying
 * `Last-Event-ID: end` is answered 204, which makes it stop.
 *
 * @example
 * const first = await status.mint(id);
 * if (!first) return res.status(404).json(…);
 * streamStatus({ req, res, read: () => status.mint(id), isFinal: (s) => isFinalStatus(s.status) }, first);
 */
export function streamStatus<T>(o: StatusStreamOptions<T>, first: T): void {
  const { req, res } = o;
  if (req.get('last-event-id') === FINAL_EVENT_ID && o.isFinal(first)) {
    res.status(204).end();
    return;
  }
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);

  let closed = false;
  let sent = '';
  let count = 0;
  let poll: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(poll);
    clearInterval(keepAlive);
    if (!res.writableEnded) res.end();
  };
  const send = (status: T) => {
    const data = JSON.stringify(status);
    if (data === sent) return;
    sent = data;
    const final = o.isFinal(status);
    res.write(`id: ${final ? FINAL_EVENT_ID : ++count}\nevent: status\ndata: ${data}\n\n`);
    if (final) close();
  };
  const tick = async () => {
    try {
      const status = await o.read();
      if (closed) return;
      if (status === undefined) return close();
      send(status);
    } catch (error) {
      o.onError?.(error);
    }
    if (!closed) poll = setTimeout(() => void tick(), o.pollMs ?? 500);
  };
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), o.keepAliveMs ?? 15_000);
  res.on('close', close);

  res.write('retry: 2000\n\n');
  send(first);
  if (!closed) poll = setTimeout(() => void tick(), o.pollMs ?? 500);
}
