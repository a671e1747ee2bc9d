import type { JsonRpcProvider } from 'ethers';

type Reading = { at: number; timestamp: Promise<number> };
const readings = new WeakMap<JsonRpcProvider, Reading>();

/**
 * The timestamp (Unix seconds) of the chain's latest block, read at most once per `maxAgeMs` per provider: every
 * request asks before it is rendered whether its deadline leaves time to mint, and one `eth_getBlockByNumber` through
 * ethers' block formatting cost ~0.7 ms of CPU each. The answer may be up to `maxAgeMs` old, far inside the minute of
 * margin the question allows; a failed read is not kept.
 *
 * @example
 * const left = Number(request.deadline) - (await headTimestamp(provider));
 */
export function headTimestamp(provider: JsonRpcProvider, maxAgeMs = 1_000): Promise<number> {
  const now = Date.now();
  const last = readings.get(provider);
  if (last && now - last.at < maxAgeMs) return last.timestamp;
  const timestamp = (provider.send('eth_getBlockByNumber', ['latest', false]) as Promise<{ timestamp?: string } | null>).then((block) => {
    if (!block?.timestamp) throw new Error('the chain has no latest block');
    return Number(block.timestamp);
  });
  const reading = { at: now, timestamp };
  readings.set(provider, reading);
  timestamp.catch(() => {
    if (readings.get(provider) === reading) readings.delete(provider);
  });
  return timestamp;
}
