/** One server-sent event. */
export type SseEvent = { id?: string; event?: string; data: string };

/** Parses complete events (blank-line terminated) out of `text`; comments and `retry:` lines are skipped. */
export function parseEvents(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => {
      const e: Partial<SseEvent> = {};
      for (const line of block.split('\n')) {
        const [, field, value] = /^([a-z]+): ?(.*)$/.exec(line) ?? [];
        if (field === 'id') e.id = value;
        if (field === 'event') e.event = value;
        if (field === 'data') e.data = e.data === undefined ? value : `${e.data}\n${value}`;
      }
      return e;
    })
    .filter((e): e is SseEvent => e.data !== undefined);
}

/**
 * Reads an event stream until the server ends it and returns its events (the `data` of `status` events parsed).
 * Throws, with what arrived, if it has not ended within `timeoutMs`.
 */
export async function readStatusStream<T>(
  url: string,
  timeoutMs = 90_000,
): Promise<{ contentType: string | null; statuses: T[]; raw: string }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const chunk = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, left)).unref()),
    ]);
    if (chunk === 'timeout') {
      await reader.cancel();
      throw new Error(`stream ${url} still open after ${timeoutMs} ms; received:\n${raw}`);
    }
    if (chunk.done) break;
    raw += decoder.decode(chunk.value, { stream: true });
  }
  const statuses = parseEvents(raw)
    .filter((e) => e.event === 'status')
    .map((e) => JSON.parse(e.data) as T);
  return { contentType: res.headers.get('content-type'), statuses, raw };
}
