import { type Contract, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { connectCollection, deployFromTemplate } from '../../pipeline/chain/collection';
import { requestStruct } from '../../pipeline/chain/request';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { REJECT_REASON } from '../../pipeline/queue/jobs';
import { type AigcClient, createClient, MintFailedError, type MintStatusUpdate } from '../../pipeline/sdk';
import { type NodeFixture, PRICE, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

// The SDK as a site uses it: a plain JsonRpcProvider and Wallet, against the real stack and a running node
// (collection A), and against a second collection no node serves (B: timeouts, refusals, a rejection by hand).
jest.setTimeout(90_000);

const local = createLocalBackend();
const backend: DiffusionBackend = {
  ...local,
  async render(input) {
    if (input.prompt.includes('unrenderable')) throw new Error('CUDA out of memory');
    return local.render(input);
  },
};

let f: NodeFixture;
let node: RunningNode;
let provider: JsonRpcProvider;
let client: AigcClient; // collection A, following the node
let unserved: Contract; // collection B, bound to its owner
let operatorB: Wallet;
let clientB: AigcClient; // collection B, chain only

beforeAll(async () => {
  f = await startNodeFixture({ backend });
  node = await startNode({ config: f.config(), template, logger: createLogger({ level: 'silent' }) });
  provider = new JsonRpcProvider(f.stack.anvil.rpcUrl);
  const keys = f.stack.anvil.privateKeys;
  const collector = new Wallet(keys[2], provider);
  client = createClient({
    collection: await f.collection.getAddress(),
    provider,
    signer: collector,
    nodeUrl: node.httpUrl,
    arweaveUrl: f.stack.arlocal.url,
  });
  // Set-up transactions go through the fixture's provider (ethers caches identical reads such as nonces for 250 ms).
  operatorB = new Wallet(keys[3], f.provider);
  const owner = new Wallet(keys[0], f.provider);
  const b = await deployFromTemplate({ deployer: owner, template, operator: operatorB.address });
  unserved = connectCollection(b.address, owner);
  clientB = createClient({
    collection: b.address,
    provider,
    signer: new NonceManager(new Wallet(keys[4], provider)),
    arweaveUrl: f.stack.arlocal.url,
  });
  await until('leader elected', async () => node.isLeader);
});
afterAll(async () => {
  provider?.destroy();
  await node?.stop();
  await f?.stop();
});

describe('createClient with a plain provider and wallet', () => {
  it('quotes, mints and waits through the node stream, and reads the token back', async () => {
    const q = await client.quote();
    expect(q.priceWei).toBe(PRICE);
    expect(q.gas).toBeGreaterThan(21_000n);

    const statuses: MintStatusUpdate[] = [];
    const minted = await client.mintAndWait({ prompt: 'a small red boat', timeoutMs: 60_000, onStatus: (s) => statuses.push(s) });
    expect(minted.tokenId).toBe(minted.request.requestId);
    expect(minted.tokenURI).toMatch(/^ar:\/\//);
    expect(minted.txHash).not.toBe(minted.requestTxHash);
    expect(statuses.at(-1)?.status).toBe('minted');

    const token = await client.getToken(minted.tokenId);
    expect(token.owner).toBe(await client.context.signer!.getAddress());
    expect(token.tokenURI).toBe(minted.tokenURI);
    expect(token.manifest.aigc.prompt).toBe('a small red boat');
    expect((await fetch(token.imageUrl)).status).toBe(200);

    // Without a node URL the chain answers the same.
    const chainOnly = createClient({ collection: client.collection, provider });
    expect(await chainOnly.waitForMint({ requestId: minted.tokenId, timeoutMs: 5_000, pollIntervalMs: 200 })).toEqual({
      requestId: minted.tokenId,
      tokenId: minted.tokenId,
      tokenURI: minted.tokenURI,
      txHash: minted.txHash,
    });
    expect((await client.verifyToken(minted.tokenId, { fromBlock: f.deployBlock })).ok).toBe(true);
  });

  it('rejects with the operator reason when the node rejects the request', async () => {
    const error = await client.mintAndWait({ prompt: 'an unrenderable scene', timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MintFailedError);
    // The node's words (the gateway's answer), with the code of the on-chain reason (GENERATION_FAILED).
    expect(error).toMatchObject({ code: 'BACKEND_FAILED', outcome: 'rejected', reason: expect.stringMatching(/gateway/) });
    expect((error as MintFailedError).shortMessage).toMatch(/was rejected: .+; the payment was refunded/);
  });

  it('rejects with the reason code in words when the chain shows a rejection (no node)', async () => {
    const { request } = await clientB.requestMint({ prompt: 'a calm lake' });
    await (
      await (unserved.connect(operatorB) as Contract).reject(request.requestId, requestStruct(request), REJECT_REASON.CONTENT_REJECTED)
    ).wait();
    await expect(clientB.waitForMint({ requestId: request.requestId, timeoutMs: 5_000, pollIntervalMs: 200 })).rejects.toMatchObject({
      code: 'CONTENT_REJECTED',
      outcome: 'rejected',
      reason: 'the content was rejected by moderation',
    });
  });

  it('times out with a TIMEOUT error when nobody serves the collection', async () => {
    const started = Date.now();
    const { request } = await clientB.requestMint({ prompt: 'a quiet field', to: Wallet.createRandom().address });
    await expect(
      clientB.waitForMint({ requestId: request.requestId, fromBlock: request.blockNumber, timeoutMs: 1_500, pollIntervalMs: 200 }),
    ).rejects.toMatchObject({ code: 'TIMEOUT', outcome: 'timeout', requestId: request.requestId });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses, before paying, a prompt the node would refund or the contract refuse', async () => {
    const collector = new Wallet(f.stack.anvil.privateKeys[2], provider);
    const nonce = await provider.getTransactionCount(collector.address);
    await expect(client.requestMint({ prompt: ' \u200B\uFE0F ' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      shortMessage: expect.stringMatching(/^invalid prompt: empty after normalisation/),
    });
    await expect(client.requestMint({ prompt: 'x'.repeat(template.mint.maxPromptBytes + 1) })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      shortMessage: expect.stringContaining(`takes at most ${template.mint.maxPromptBytes}`),
    });
    expect(await provider.getTransactionCount(collector.address)).toBe(nonce);
  });

  it('turns a contract refusal into one line naming the custom error', async () => {
    await (await unserved.pause()).wait();
    const error = await clientB.requestMint({ prompt: 'a paused mint' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'CONFLICT',
      shortMessage: 'requestMint refused: AIGCPaused: minting is paused by the collection owner',
    });
    expect((error as Error).message).not.toContain('\n');
    await expect(clientB.quote()).rejects.toMatchObject({ shortMessage: expect.stringContaining('AIGCPaused') });
  });
});
