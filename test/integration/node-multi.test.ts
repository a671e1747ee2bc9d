import { Bundle } from 'arbundles';
import { type Contract, type EventLog, Wallet } from 'ethers';
import { connectCollection, deployFromTemplate } from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import { type Anvil, startAnvil } from '../../pipeline/embedded/anvil';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { verifyToken } from '../../pipeline/provenance/verify';
import { createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { BUNDLE_TAGS } from '../../pipeline/storage/bundle';
import { bytes32ToArweaveId } from '../../pipeline/storage/ids';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import { type NodeFixture, PRICE, startNodeFixture, template } from '../helpers/node-stack';
import { requestMint } from '../helpers/mint';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

// One node, three collections: two on one chain, one on another (its own anvil with chain id 1337), all published
// to Arweave in ANS-104 bundle mode.
let f: NodeFixture;
let other: Anvil;
let node: RunningNode;
const collections: { chainId: number; contract: Contract; deployBlock: number; rpcUrl: string; keys: string[] }[] = [];

beforeAll(async () => {
  f = await startNodeFixture();
  other = await startAnvil({ chainId: 1337 });
  const operator = new Wallet(f.stack.anvil.privateKeys[1]).address;
  const second = await deployFromTemplate({
    deployer: new Wallet(f.stack.anvil.privateKeys[0], f.provider),
    template: { ...template, name: 'Second' },
    operator,
  });
  const otherProvider = createProvider(other.rpcUrl, 100);
  const third = await deployFromTemplate({
    deployer: new Wallet(other.privateKeys[0], otherProvider),
    template: { ...template, name: 'Third' },
    operator,
  });
  collections.push(
    { chainId: 31337, contract: f.collection, deployBlock: f.deployBlock, rpcUrl: f.stack.anvil.rpcUrl, keys: f.stack.anvil.privateKeys },
    {
      chainId: 31337,
      contract: connectCollection(second.address, f.provider),
      deployBlock: second.blockNumber,
      rpcUrl: f.stack.anvil.rpcUrl,
      keys: f.stack.anvil.privateKeys,
    },
    {
      chainId: 1337,
      contract: connectCollection(third.address, otherProvider),
      deployBlock: third.blockNumber,
      rpcUrl: other.rpcUrl,
      keys: other.privateKeys,
    },
  );
  const config = f.config({
    arweave: { mode: 'bundle', bundleWindowMs: 100 },
    generate: { concurrency: 4 },
    collections: [
      { address: second.address, startBlock: second.blockNumber },
      { address: third.address, chain: { rpcUrl: other.rpcUrl, startBlock: third.blockNumber, pollIntervalMs: 100 } },
    ],
  });
  node = await startNode({ config, template, logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.stop();
  await other?.stop();
  await f?.stop();
});

async function request(c: (typeof collections)[number], prompt: string, account: number): Promise<bigint> {
  const wallet = new Wallet(c.keys[account], c.contract.runner!.provider);
  return (await requestMint(c.contract, wallet, prompt, PRICE)).requestId;
}

describe('one node serving several collections on two chains, bundle mode', () => {
  it('mints every request in its own collection, and every token verifies from public data', async () => {
    // Accounts in parallel; each account's requests one after another (one nonce sequence per account and chain).
    const sent = (
      await Promise.all(
        [2, 3, 4].map(async (account) => {
          const mine = [];
          for (const [i, c] of collections.entries()) {
            const prompt = `collection ${i} lighthouse ${account}`;
            mine.push({ c, prompt, id: await request(c, prompt, account) });
          }
          return mine;
        }),
      )
    ).flat();
    await until(
      'all nine minted',
      async () =>
        (
          await Promise.all(
            sent.map(({ c, id }) =>
              c.contract.ownerOf(id).then(
                () => true,
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      120_000,
    );
    expect(node.collections.map((c) => c.chainId).sort()).toEqual([1337, 31337, 31337]);
    const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
    // A gateway serves bundled items once it has indexed them (arlocal: when the bundle is mined).
    const indexed = async (id: string) =>
      store.download(id).then(
        () => true,
        () => false,
      );
    await until('every manifest and image indexed', async () => {
      for (const { c, id } of sent) {
        const manifestId = ((await c.contract.tokenURI(id)) as string).slice('ar://'.length);
        if (!(await indexed(manifestId))) return false;
        const manifest = JSON.parse(Buffer.from(await store.download(manifestId)).toString()) as TokenManifest;
        if (!(await indexed(manifest.image.slice('ar://'.length)))) return false;
      }
      return true;
    });
    for (const { c, prompt, id } of sent) {
      const provider = c.contract.runner!.provider as ReturnType<typeof createProvider>;
      const report = await verifyToken({
        provider,
        collection: await c.contract.getAddress(),
        tokenId: id,
        download: store.download,
        fromBlock: c.deployBlock,
      });
      expect(report.checks.filter((x) => !x.ok)).toEqual([]);
      const manifest = JSON.parse(Buffer.from(await store.download(report.tokenURI!.slice('ar://'.length))).toString()) as TokenManifest;
      expect(manifest.aigc.chainId).toBe(c.chainId);
      expect(manifest.aigc.collection).toBe(await c.contract.getAddress());
      expect(manifest.aigc.prompt).toBe(prompt);
    }
  });

  it('published images and manifests as signed data items inside bundle transactions', async () => {
    const res = await fetch(`${f.stack.arlocal.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ transactions(first: 100, tags: [{ name: "Type", values: ["bundle"] }]) { edges { node { id tags { name value } } } } }`,
      }),
    });
    const bundles = (
      (await res.json()) as { data: { transactions: { edges: { node: { id: string; tags: { name: string; value: string }[] } }[] } } }
    ).data.transactions.edges;
    expect(bundles.length).toBeGreaterThan(0);
    expect(bundles.length).toBeLessThanOrEqual(9);
    const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
    const itemIds = new Set<string>();
    for (const { node: tx } of bundles) {
      expect(tx.tags).toEqual(expect.arrayContaining(Object.entries(BUNDLE_TAGS).map(([name, value]) => ({ name, value }))));
      const bundle = new Bundle(Buffer.from(await store.download(tx.id)));
      expect(await bundle.verify()).toBe(true);
      for (const item of bundle.items) {
        itemIds.add(item.id);
        expect(item.signatureType).toBe(3); // signed by the operator's Ethereum key
      }
    }
    // Every token's manifest (its tokenURI) and image are items of those bundles.
    for (const c of collections) {
      const fulfilled = (await c.contract.queryFilter(c.contract.filters.MintFulfilled(), c.deployBlock)) as EventLog[];
      expect(fulfilled).toHaveLength(3);
      for (const log of fulfilled) {
        const manifestId = bytes32ToArweaveId(log.args.manifestId as string);
        expect(itemIds.has(manifestId)).toBe(true);
        const manifest = JSON.parse(Buffer.from(await store.download(manifestId)).toString()) as TokenManifest;
        expect(itemIds.has(manifest.image.slice('ar://'.length))).toBe(true);
      }
    }
  });
});
