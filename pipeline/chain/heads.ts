import WebSocket from 'ws';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';

export type HeadSubscription = { stop(): void };

/**
 * Calls `onHead` at every new block, through an `eth_subscribe("newHeads")` WebSocket. It only wakes the listener
 * sooner than its poll timer would: polling stays the source of truth, so a dropped socket costs latency, never a
 * request. Reconnects with backoff (up to 30 s) for as long as it runs.
 *
 * @example
 * const heads = subscribeHeads({ url: 'ws://127.0.0.1:8545', onHead: () => listener.wake(), logger });
 */
export function subscribeHeads({ url, onHead, logger }: { url: string; onHead(): void; logger: Logger }): HeadSubscription {
  let stopped = false;
  let socket: WebSocket | undefined;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  const connect = () => {
    if (stopped) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })));
    ws.on('message', (message: Buffer) => {
      const body = JSON.parse(message.toString('utf8')) as { id?: number; method?: string; error?: { message: string } };
      if (body.id === 1 && body.error) {
        logger.warn({ url, err: body.error.message }, 'node refused the newHeads subscription; polling only');
        stopped = true;
        ws.close();
      } else if (body.method === 'eth_subscription') {
        failures = 0;
        onHead();
      }
    });
    ws.on('error', (error) => logger.debug({ url, err: errorMessage(error) }, 'head subscription error'));
    ws.on('close', () => {
      if (stopped) return;
      const delay = Math.min(30_000, 500 * 2 ** failures++);
      logger.warn({ url, retryInMs: delay }, 'head subscription closed; polling meanwhile, reconnecting');
      retry = setTimeout(connect, delay);
    });
  };
  connect();

  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    },
  };
}
