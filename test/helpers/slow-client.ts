import net from 'node:net';

export type SlowClientResult = {
  /** Milliseconds from connecting until the server closed the connection; undefined when the client ran out first. */
  closedAfterMs?: number;
  /** Pieces written before the server closed (of `count`). */
  sent: number;
  /** What the server wrote back (a 408 when it timed the request out). */
  answer: string;
};

/**
 * A slow-loris client: a raw TCP connection to `url` that writes `head`, then `piece(i)` every `everyMs` ms, `count`
 * times, and never completes its request. Resolves when the server closes the connection, or `everyMs` after the
 * last piece (then it closes it itself and `closedAfterMs` is undefined).
 *
 * @example
 * // Headers that never end: a header line every 500 ms.
 * await slowClient({ url, head: 'GET / HTTP/1.1\r\nHost: x\r\n', piece: (i) => `X-Slow-${i}: 1\r\n`, count: 20, everyMs: 500 });
 */
export function slowClient({
  url,
  head,
  piece,
  count,
  everyMs,
}: {
  url: string;
  head: string;
  piece: (i: number) => string;
  count: number;
  everyMs: number;
}): Promise<SlowClientResult> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answer = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (result: SlowClientResult) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = net.connect(Number(port), hostname, () => {
      started = performance.now();
      socket.setNoDelay(true);
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= count) return finish({ sent, answer });
        socket.write(piece(sent++));
      }, everyMs);
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    // Writing to a socket the server has just closed fails; the close that follows is the result.
    socket.on('error', (error) => {
      if (!started) reject(error);
    });
    socket.on('close', () => finish({ closedAfterMs: performance.now() - started, sent, answer }));
  });
}

/** 20 header lines, one every 500 ms (10 s in all), to `path` of the server at `url`. */
export function slowHeaders(url: string, path: string): Promise<SlowClientResult> {
  return slowClient({
    url,
    head: `POST ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n`,
    piece: (i) => `X-Slow-${i}: 1\r\n`,
    count: 20,
    everyMs: 500,
  });
}

/** A JSON body announced as 1,000 bytes, sent one byte every 500 ms, to `path` with bearer `key`. */
export function slowBody(url: string, path: string, key: string): Promise<SlowClientResult> {
  return slowClient({
    url,
    head: `POST ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
    piece: () => ' ',
    count: 20,
    everyMs: 500,
  });
}
