/** One server-sent event. */
export type ServerSentEvent = { id?: string; event?: string; data: string };

/**
 * Reads a `text/event-stream` body (WHATWG streams: Node 18+ and browsers) and yields its events as they complete;
 * comments and `retry:` lines are skipped. Ends when the server ends the stream.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) yield event;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string): ServerSentEvent | undefined {
  const e: Partial<ServerSentEvent> = {};
  for (const line of block.split('\n')) {
    const [, field, value] = /^([a-z]+): ?(.*)$/.exec(line) ?? [];
    if (field === 'id') e.id = value;
    if (field === 'event') e.event = value;
    if (field === 'data') e.data = e.data === undefined ? value : `${e.data}\n${value}`;
  }
  return e.data === undefined ? undefined : (e as ServerSentEvent);
}
