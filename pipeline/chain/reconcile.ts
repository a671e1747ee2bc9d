import type { Contract, EventLog } from 'ethers';
import { type MintRequest, parseMintRequested } from './request';

export type FindOpenRequestsParameters = {
  contract: Contract;
  fromBlock: number;
  /** Last block whose requests count (the confirmed head). Endings are read up to the latest block. */
  toBlock: number;
  latestBlock: number;
  maxBlockRange: number;
};

async function query(contract: Contract, event: string, from: number, to: number, step: number): Promise<EventLog[]> {
  const out: EventLog[] = [];
  for (let start = from; start <= to; start += step) {
    const end = Math.min(to, start + step - 1);
    out.push(...((await contract.queryFilter(contract.filters[event](), start, end)) as EventLog[]));
  }
  return out;
}

/**
 * Every request that is still open on chain (requested, not fulfilled, rejected or refunded) in a block range.
 * The chain is the durable log: a node that restarts, or loses its Redis, rebuilds its work from this.
 *
 * @example
 * const open = await findOpenRequests({ contract, fromBlock: deployBlock, toBlock: head, latestBlock: head, maxBlockRange: 2000 });
 */
export async function findOpenRequests({ contract, fromBlock, toBlock, latestBlock, maxBlockRange }: FindOpenRequestsParameters): Promise<MintRequest[]> {
  if (toBlock < fromBlock) return [];
  const [requested, fulfilled, rejected, refunded] = await Promise.all([
    query(contract, 'MintRequested', fromBlock, toBlock, maxBlockRange),
    ...['MintFulfilled', 'MintRejected', 'MintRefunded'].map((e) => query(contract, e, fromBlock, latestBlock, maxBlockRange)),
  ]);
  const ended = new Set([...fulfilled, ...rejected, ...refunded].map((l) => l.args.requestId.toString()));
  return requested.map(parseMintRequested).filter((r) => !ended.has(r.requestId.toString()));
}
