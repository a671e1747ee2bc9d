import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The node's Prometheus metrics, on one registry served at `/metrics`. */
export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    queueDepth: new Gauge({
      name: 'aigc_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: 'aigc_stage_seconds',
      help: 'Duration of a pipeline stage',
      labelNames: ['stage'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    fulfillGas: new Counter({ name: 'aigc_fulfill_gas_total', help: 'Gas used by fulfilment transactions', registers: [registry] }),
    minted: new Counter({ name: 'aigc_minted_total', help: 'Tokens minted by this node', registers: [registry] }),
    fulfilSkipped: new Counter({
      name: 'aigc_fulfil_skipped_total',
      help: 'Items of fulfilBatch transactions the contract skipped (gas spent for nothing), by contract error',
      labelNames: ['chain', 'reason'],
      registers: [registry],
    }),
    fulfilDropped: new Counter({
      name: 'aigc_fulfil_dropped_total',
      help: 'Fulfilments not sent because their request had closed on chain meanwhile (checked right before sending)',
      labelNames: ['chain'],
      registers: [registry],
    }),
    bundleUploadsResumed: new Counter({
      name: 'aigc_bundle_uploads_resumed_total',
      help: 'Bundle uploads cut by a crash or failure and finished later under the same transaction',
      registers: [registry],
    }),
    bundleUploadsAbandoned: new Counter({
      name: 'aigc_bundle_uploads_abandoned_total',
      help: 'Signed bundle transactions given up because the gateway never accepted them (their items are bundled again)',
      registers: [registry],
    }),
    bundleItemsRepublished: new Counter({
      name: 'aigc_bundle_items_republished_total',
      help: 'Data items put into a new bundle after the bundle transaction they were first signed into was abandoned',
      registers: [registry],
    }),
    failures: new Counter({
      name: 'aigc_failures_total',
      help: 'Failed stage attempts by reason',
      labelNames: ['stage', 'reason'],
      registers: [registry],
    }),
    signerBalance: new Gauge({
      name: 'aigc_signer_balance_wei',
      help: 'Balance of the signer key (pays gas) per chain',
      labelNames: ['chain'],
      registers: [registry],
    }),
    arweavePending: new Gauge({
      name: 'aigc_arweave_pending',
      help: 'Uploads of this node not yet confirmed deep enough',
      registers: [registry],
    }),
    arweaveConfirmed: new Counter({ name: 'aigc_arweave_confirmed_total', help: 'Uploads confirmed deep enough', registers: [registry] }),
    arweaveReposted: new Counter({
      name: 'aigc_arweave_reposted_total',
      help: 'Uploads the network dropped and the node posted again',
      registers: [registry],
    }),
    arweaveLost: new Gauge({
      name: 'aigc_arweave_lost',
      help: 'Dropped uploads whose kept bytes are gone (need a manual re-upload)',
      registers: [registry],
    }),
    reconcileRpcCalls: new Counter({
      name: 'aigc_reconcile_rpc_calls_total',
      help: 'JSON-RPC calls made by reconciliation (eth_blockNumber, eth_getLogs)',
      labelNames: ['chain'],
      registers: [registry],
    }),
    reconcileMarkLag: new Gauge({
      name: 'aigc_reconcile_mark_lag_blocks',
      help: 'Blocks a reconcile reads: from the low-water mark (oldest block that may hold an open request) to the head',
      labelNames: ['chain', 'collection'],
      registers: [registry],
    }),
    drops: new Counter({
      name: 'aigc_drops_total',
      help: 'Periods of a drop this node submitted (submitted), found already submitted (duplicate), or found submitted with another prompt or recipient (conflict)',
      labelNames: ['chain', 'collection', 'result'],
      registers: [registry],
    }),
    dropPeriod: new Gauge({
      name: 'aigc_drop_period',
      help: 'Latest period of a drop this node saw submitted (by itself or another node)',
      labelNames: ['chain', 'collection'],
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: 'aigc_leader',
      help: '1 while this node is the listener and writer leader of a chain',
      labelNames: ['chain'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
