import type { Job, Queue, Worker } from 'bullmq';
import type { Contract, JsonRpcProvider, Wallet } from 'ethers';
import type { FulfillBatcher } from '../chain/fulfiller';
import type { HeadSubscription } from '../chain/heads';
import type { Listener } from '../chain/listener';
import type { TxSender } from '../chain/tx-sender';
import type { CollectionTarget } from '../config';
import type { ChainWriteJobData, GenerateJobData, MintForJobData, MintForResult } from '../queue/jobs';
import type { Leadership } from '../queue/leader';
import type { CollectionTemplate } from '../template';

/** One collection as the node serves it. */
export type CollectionRuntime = {
  target: CollectionTarget;
  chainId: number;
  address: string;
  template: CollectionTemplate;
  contract: Contract;
  batcher: FulfillBatcher;
  cursorKey: string;
  generate: (job: Job<GenerateJobData>, token?: string) => Promise<unknown>;
  fulfill: (job: Job<ChainWriteJobData>) => Promise<unknown>;
  listener?: Listener;
  heads?: HeadSubscription;
  reconcileTimer?: NodeJS.Timeout;
};

/** One chain: its provider, the signer key's serial sender, the `fulfill` queue and the leader election. */
export type ChainRuntime = {
  chainId: number;
  provider: JsonRpcProvider;
  signer: Wallet;
  sender: TxSender;
  fulfillQueue: Queue<ChainWriteJobData>;
  fulfillWorker?: Worker<ChainWriteJobData>;
  /** Pays sponsored mints (`requestMintFor`) through the same sender. */
  mintForWorker?: Worker<MintForJobData, MintForResult>;
  collections: CollectionRuntime[];
  leadership?: Leadership;
};
