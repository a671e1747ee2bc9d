import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type RpcCall = { method: string; params: unknown[]; at: number };

/**
 * A loopback JSON-RPC proxy that records every call it forwards, to count what a component asks of a provider.
 *
 * It can also lengthen the chain it shows by runs of empty blocks (`addEmptyBlocks`): anvil mines them in time
 * that grows with the chain's height (Prague's block-hash history contract), so a history of hundreds of
 * thousands of blocks cannot be mined in a test. The proxy shifts `eth_blockNumber` and the ranges and block
 * numbers of `eth_getLogs` (the calls a reconcile makes) around the runs; everything else passes unchanged.
 */
export type RpcCounter = {
  url: string;
  calls: RpcCall[];
  /** Calls of `method` (all calls without one) since the last `reset`. */
  count(method?: string): number;
  reset(): void;
  /** Shows `blocks` empty blocks after anvil's current head. */
  addEmptyBlocks(blocks: number): Promise<void>;
  /** The height the proxy shows for anvil's block `real`. */
  shown(real: number): number;
  close(): Promise<void>;
};

type Rpc = { jsonrpc: '2.0'; id: unknown; method: string; params?: unknown[] };
type Gap = { after: number; blocks: number };

export async function startRpcCounter(targetUrl: string): Promise<RpcCounter> {
  const calls: RpcCall[] = [];
  const gaps: Gap[] = [];
  const shown = (real: number) => real + gaps.filter((g) => g.after < real).reduce((n, g) => n + g.blocks, 0);
  /** anvil's block for a shown height: exact, or inside a run the one before (`down`) or after it. */
  const real = (height: number, down: boolean) => {
    let offset = 0;
    for (const g of gaps) {
      if (height <= g.after + offset) break;
      if (height <= g.after + offset + g.blocks) return down ? g.after : g.after + 1;
      offset += g.blocks;
    }
    return height - offset;
  };
  const upstream = async (body: unknown) => {
    const res = await fetch(targetUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as { result?: unknown; error?: unknown };
  };
  const hex = (n: number) => `0x${n.toString(16)}`;
  const headOf = async () => Number((await upstream({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] })).result);

  const handle = async (m: Rpc): Promise<unknown> => {
    calls.push({ method: m.method, params: m.params ?? [], at: Date.now() });
    if (!gaps.length) return upstream(m);
    if (m.method === 'eth_blockNumber') {
      const head = await headOf();
      return { jsonrpc: '2.0', id: m.id, result: hex(head + gaps.filter((g) => g.after <= head).reduce((n, g) => n + g.blocks, 0)) };
    }
    if (m.method === 'eth_getLogs') {
      const filter = m.params![0] as { fromBlock: string; toBlock: string };
      const from = real(Number(filter.fromBlock), false);
      const to = real(Number(filter.toBlock), true);
      if (from > to) return { jsonrpc: '2.0', id: m.id, result: [] };
      const res = await upstream({ ...m, params: [{ ...filter, fromBlock: hex(from), toBlock: hex(to) }] });
      const logs = res.result as { blockNumber: string }[] | undefined;
      return logs ? { ...res, result: logs.map((l) => ({ ...l, blockNumber: hex(shown(Number(l.blockNumber))) })) } : res;
    }
    return upstream(m);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Rpc | Rpc[];
      (Array.isArray(body) ? Promise.all(body.map(handle)) : handle(body))
        .then((out) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(out));
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    count: (method) => calls.filter((c) => method === undefined || c.method === method).length,
    reset: () => void calls.splice(0),
    async addEmptyBlocks(blocks) {
      const after = await headOf();
      const last = gaps[gaps.length - 1];
      if (last && last.after === after) last.blocks += blocks;
      else gaps.push({ after, blocks });
    },
    shown,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
