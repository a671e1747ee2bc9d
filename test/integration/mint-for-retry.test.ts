import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { type Contract, type EventLog, keccak256, toUtf8Bytes, Wallet } from 'ethers';
import IORedis from 'ioredis';
import { createTxSender, type SignedTx } from '../../pipeline/chain/tx-sender';
import { deleteKeys, ensureRedis, type RedisHandle } from '../../pipeline/embedded/redis';
import { createLogger } from '../../pipeline/logger';
import { type MintForJobData, type MintForResult, QUEUE } from '../../pipeline/queue/jobs';
import { createMintForProcessor, mintForTxKey } from '../../pipeline/sponsored/mint-for-stage';
import { type ChainFixture, newCollection, PRICE, startChain } from '../helpers/collection';

// A mint-for job that runs again after its process died must not pay a second time, wherever the crash came:
// after its transaction was signed and recorded but not yet broadcast, or after it was mined. Only when the
// recorded transaction can no longer be mined (its nonce went to another transaction) does it pay anew.
jest.setTimeout(60_000);

const logger = createLogger({ level: 'silent' });
const prefix = `aigc-mint-for-${process.pid}-${Date.now()}`;
let chain: ChainFixture;
let collection: Contract;
let redisHandle: RedisHandle;
let redis: IORedis;
let queue: Queue<MintForJobData, MintForResult>;
let processor: ReturnType<typeof createMintForProcessor>;

beforeAll(async () => {
  chain = await startChain(4);
  collection = await newCollection(chain);
  redisHandle = await ensureRedis({ url: process.env.REDIS_URL || undefined });
  redis = new IORedis(redisHandle.url, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE.mintFor, { connection: redis, prefix });
  const address = await collection.getAddress();
  processor = createMintForProcessor({
    chainId: 31337,
    collection: address,
    contract: collection.connect(chain.operator) as Contract,
    provider: chain.provider,
    signerAddress: chain.operator.address,
    sender: createTxSender({ wallet: chain.operator, provider: chain.provider, logger }),
    redis,
    prefix,
    settleTimeoutMs: 10_000,
    logger,
  });
});
afterAll(async () => {
  await queue?.close();
  if (redis) {
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
  await redisHandle?.stop();
  await chain?.stop();
});

async function newJob() {
  const to = Wallet.createRandom().address;
  const data: MintForJobData = {
    chainId: 31337,
    collection: await collection.getAddress(),
    to,
    prompt: 'a kite over the dunes',
    keyId: 'test',
    createdAt: new Date().toISOString(),
  };
  return queue.add('mint-for', data, { jobId: `m-${randomBytes(16).toString('hex')}` });
}

/** What a run that died right after recording its transaction leaves behind: a signed, recorded, unsent tx. */
async function recordSigned(job: Awaited<ReturnType<typeof newJob>>): Promise<SignedTx> {
  const op = chain.operator;
  const tx = await (collection.connect(op) as Contract).requestMintFor.populateTransaction(job.data.to, toUtf8Bytes(job.data.prompt), {
    value: PRICE,
  });
  const fee = await chain.provider.getFeeData();
  const nonce = await chain.provider.getTransactionCount(op.address, 'pending');
  const populated = await op.populateTransaction({
    ...tx,
    nonce,
    gasLimit: 300_000n,
    maxFeePerGas: fee.maxFeePerGas,
    maxPriorityFeePerGas: fee.maxPriorityFeePerGas,
    type: 2,
  });
  const raw = await op.signTransaction(populated);
  const signed = { hash: keccak256(raw), nonce, raw };
  await redis.hset(mintForTxKey(prefix, job.id!), signed.hash, JSON.stringify(signed));
  return signed;
}

const requestsFor = async (to: string) =>
  ((await collection.queryFilter(collection.filters.MintRequested(null, null, to))) as EventLog[]).map((e) => e.args.requestId as bigint);

describe('a mint-for job run again after a crash', () => {
  it('sends the recorded transaction if it never reached the chain, and pays once', async () => {
    const job = await newJob();
    const signed = await recordSigned(job);
    expect(await chain.provider.getTransaction(signed.hash)).toBeNull();
    const result = await processor(job);
    expect(result.txHash).toBe(signed.hash);
    expect(await requestsFor(job.data.to)).toEqual([BigInt(result.requestId)]);
  });

  it('returns the request of a recorded transaction that was mined, without paying again', async () => {
    const job = await newJob();
    const signed = await recordSigned(job);
    await (await chain.provider.broadcastTransaction(signed.raw)).wait();
    const balance = await chain.provider.getBalance(chain.operator.address);
    const result = await processor(job);
    expect(result.txHash).toBe(signed.hash);
    expect(await requestsFor(job.data.to)).toEqual([BigInt(result.requestId)]);
    expect(await chain.provider.getBalance(chain.operator.address)).toBe(balance);
  });

  it('pays anew when the recorded transaction can no longer be mined (its nonce was used by another)', async () => {
    const job = await newJob();
    const signed = await recordSigned(job);
    // Another transaction of the signer takes the nonce first.
    await (await chain.operator.sendTransaction({ to: chain.owner.address, value: 1n, nonce: signed.nonce })).wait();
    const result = await processor(job);
    expect(result.txHash).not.toBe(signed.hash);
    expect(await chain.provider.getTransactionReceipt(signed.hash)).toBeNull();
    expect(await requestsFor(job.data.to)).toEqual([BigInt(result.requestId)]);
  });
});
