/** The one call a JSON-RPC endpoint and an EIP-1193 wallet share. */
export type Rpc = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };

/** An error a JSON-RPC endpoint or a wallet answered with (EIP-1193 codes: 4001 refused, 4902 unknown chain). */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A read-only JSON-RPC client over fetch, for the page's public RPC URL. */
export function httpRpc(url: string): Rpc {
  let id = 0;
  return {
    async request({ method, params = [] }) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
      });
      if (!res.ok) throw new RpcError(`RPC answered HTTP ${res.status}`);
      const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
      if (body.error) throw new RpcError(body.error.message, body.error.code, body.error.data);
      return body.result;
    },
  };
}

/** The EIP-1193 error code of `error`, wherever a wallet put it. */
export function errorCode(error: unknown): number | undefined {
  const e = error as { code?: unknown; data?: { originalError?: { code?: unknown } }; cause?: { code?: unknown } };
  for (const c of [e?.code, e?.data?.originalError?.code, e?.cause?.code]) if (typeof c === 'number') return c;
  return undefined;
}

/** The revert data (0x…) carried by a failed call or estimate, wherever the endpoint or wallet put it. */
export function revertData(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (v: unknown): string | undefined => {
    if (typeof v === 'string') return /^0x[0-9a-fA-F]{8,}$/.test(v) ? v : undefined;
    if (!v || typeof v !== 'object' || seen.has(v)) return undefined;
    seen.add(v);
    for (const k of ['data', 'error', 'cause', 'originalError', 'info']) {
      const found = walk((v as Record<string, unknown>)[k]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(error);
}

const toHex = (n: bigint | number) => `0x${n.toString(16)}`;
export { toHex };
