import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { NodeStatus, QueueDepth } from '../http/status';
import type { ChainRuntime } from './types';

export type NodeStatusReaderParameters = {
  redis: Redis;
  signerAddress: string;
  version: string;
  /** Every queue the node serves, read for its depth. */
  queues: () => Queue[];
  chains: ReadonlyMap<number, ChainRuntime>;
  /** The Redis key of a chain's leader lock. */
  leaderKey: (chainId: number) => string;
};

/** Jobs of each queue by state: for `/metrics` and `/v1/status` alike. */
export function queueDepths(queues: Queue[]): Promise<QueueDepth[]> {
  return Promise.all(
    queues.map(async (queue) => {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      return { name: queue.name, waiting: c.waiting, active: c.active, delayed: c.delayed, failed: c.failed, completed: c.completed };
    }),
  );
}

/**
 * Reads what `GET /v1/status` answers: queue depths, per chain whether this node leads and who holds the lease,
 * and the last block each collection's listener processed (its cursor in Redis).
 *
 * @example
 * app.use(createStatusRouter(createNodeStatusReader({ redis, signerAddress, version, queues, chains, leaderKey })));
 */
export function createNodeStatusReader(p: NodeStatusReaderParameters): () => Promise<NodeStatus> {
  return async () => ({
    version: p.version,
    signer: p.signerAddress,
    queues: await queueDepths(p.queues()),
    chains: await Promise.all(
      [...p.chains.values()].map(async (chain) => {
        // The lock's value is `<holder>:<epoch>` (see queue/leader.ts).
        const held = await p.redis.get(p.leaderKey(chain.chainId));
        const at = held?.lastIndexOf(':') ?? -1;
        return {
          chainId: chain.chainId,
          leader: chain.leadership?.isLeader ?? false,
          lease: held && at > 0 ? { holder: held.slice(0, at), epoch: Number(held.slice(at + 1)) } : null,
          collections: await Promise.all(
            chain.collections.map(async (c) => {
              const cursor = await p.redis.get(c.cursorKey);
              return { address: c.address, lastProcessedBlock: cursor === null ? null : Number(cursor) };
            }),
          ),
        };
      }),
    ),
  });
}
