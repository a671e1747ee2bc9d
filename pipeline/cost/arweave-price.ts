import { AigcError } from '../errors';
import { createHttpClient } from '../net/http-client';
import { pricedSize } from '../storage/arweave';

export type ArweavePrice = {
  bytes: number;
  /** The size priced: whole 256 KiB chunks, as the node's uploader asks (see `pricedSize`). */
  pricedBytes: number;
  winston: bigint;
};

/**
 * The fee of one Arweave transaction carrying `bytes`, from the gateway's `GET /price/{bytes}` — for whole chunks,
 * which is what the node's uploader pays (and what arweave.net charges for any size).
 *
 * @example
 * const { winston } = await arweavePrice('https://arweave.net', 400_000);
 */
export async function arweavePrice(gateway: string, bytes: number): Promise<ArweavePrice> {
  const pricedBytes = pricedSize(bytes);
  const http = createHttpClient({ baseUrl: gateway, name: 'Arweave gateway', errorCode: 'ARWEAVE_FAILED', timeoutMs: 20_000 });
  const url = http.url(`price/${pricedBytes}`);
  let text: string;
  try {
    const res = await http.get(`price/${pricedBytes}`);
    text = res.text().trim();
    if (!res.ok) throw new Error(`HTTP ${res.status} ${text.slice(0, 100)}`);
  } catch (cause) {
    const reason = cause instanceof AigcError ? (cause.details ?? cause.shortMessage) : (cause as Error).message;
    throw new AigcError('ARWEAVE_FAILED', `cannot get a price from ${url}: ${reason}; check --arweave`, { cause, retryable: true });
  }
  if (!/^\d+$/.test(text))
    throw new AigcError('ARWEAVE_FAILED', `${url} did not answer a winston amount: ${JSON.stringify(text.slice(0, 60))}`);
  return { bytes, pricedBytes, winston: BigInt(text) };
}
