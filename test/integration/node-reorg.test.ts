import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { verifyToken } from '../../pipeline/provenance/verify';
import { createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { events, type NodeFixture, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture();
  node = await startNode({
    config: f.config({ chain: { reconcileIntervalMs: 1_000 } }),
    template,
    logger: createLogger({ level: 'silent' }),
  });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

describe('a reorg removes the block holding a request (and its mint)', () => {
  it('serves the request that replaces it exactly once, with its own prompt', async () => {
    const snapshot = await f.provider.send('evm_snapshot', []);
    const [first] = await sendRequests(f, ['a lighthouse before the reorg']);
    await until('the first mint', async () => (await events(f, 'MintFulfilled')).length === 1);

    // Drop the request, its mint and every block after, as a reorg would; the same account's request comes back
    // with the same id but another prompt in another block.
    await f.provider.send('evm_revert', [snapshot]);
    expect(await events(f, 'MintRequested')).toEqual([]);
    await f.provider.send('evm_mine', []);
    const [second] = await sendRequests(f, ['a windmill after the reorg']);
    expect(second.requestId).toBe(first.requestId);

    await until('the replacing request minted', async () => (await events(f, 'MintFulfilled')).length === 1, 60_000);
    await new Promise((r) => setTimeout(r, 2_500)); // a few more listener and reconcile rounds: still one mint
    expect((await events(f, 'MintFulfilled')).length).toBe(1);
    expect(await f.collection.ownerOf(second.requestId)).toBe(second.requester);

    const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
    const report = await verifyToken({
      provider: f.provider,
      collection: await f.collection.getAddress(),
      tokenId: second.requestId,
      download: store.download,
      fromBlock: f.deployBlock,
    });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    const manifest = JSON.parse(Buffer.from(await store.download(report.tokenURI!.slice(5))).toString('utf8'));
    expect(manifest.aigc.prompt).toBe('a windmill after the reorg');
  });
});
