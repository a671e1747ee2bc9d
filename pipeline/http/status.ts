import { Router } from 'express';
import { AigcError, errorMessage } from '../errors';

/** Jobs of one queue by state. */
export type QueueDepth = { name: string; waiting: number; active: number; delayed: number; failed: number; completed: number };

/** `GET /v1/status`: what `aigc status` shows of a node. */
export type NodeStatus = {
  version: string;
  /** The address the node signs provenance and sends transactions with. */
  signer: string;
  queues: QueueDepth[];
  chains: {
    chainId: number;
    /** Whether this node is the chain's leader (listener and only writer). */
    leader: boolean;
    /** The lease in Redis, whichever node holds it: its holder id and fencing epoch; null when nobody leads. */
    lease: { holder: string; epoch: number } | null;
    /** The last block each collection's listener has processed (null before the first). */
    collections: { address: string; lastProcessedBlock: number | null }[];
  }[];
};

/**
 * `GET /v1/status`: the node's queue depths, leadership and listener progress as JSON, read-only, for `aigc status`
 * (Prometheus has the same figures at `/metrics`, in a form a person or a CLI cannot read at a glance).
 *
 * @example
 * app.use(createStatusRouter(() => readStatus()));
 */
export function createStatusRouter(read: () => Promise<NodeStatus>): Router {
  const router = Router();
  router.get('/v1/status', async (_req, res) => {
    try {
      res.json(await read());
    } catch (error) {
      const e =
        error instanceof AigcError ? error : new AigcError('REDIS_UNAVAILABLE', `cannot read the node's status: ${errorMessage(error)}`);
      res.status(503).json({ error: { code: e.code, message: e.shortMessage, retryable: true } });
    }
  });
  return router;
}
