import { Wallet } from 'ethers';
import { renderSeedOf } from '../../pipeline/chain/request';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { verifyToken } from '../../pipeline/provenance/verify';
import { type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { parseArUri } from '../../pipeline/storage/ids';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import { loadTemplate } from '../../pipeline/template';
import { framePrompt, pickTraits } from '../../pipeline/templates/traits';
import { requestMint } from '../helpers/mint';
import { events, type NodeFixture, startNodeFixture } from '../helpers/node-stack';
import { until } from '../helpers/wait';

// A node serving the avatar template: traits drawn from the render seed fill the frame, land in the manifest's
// attributes and provenance, and `aigc verify` recomputes them.
jest.setTimeout(180_000);

const avatar = loadTemplate('avatar');
let f: NodeFixture;
let node: RunningNode;
let store: ArweaveStore;

beforeAll(async () => {
  f = await startNodeFixture({ template: avatar });
  node = await startNode({ config: f.config(), template: avatar, logger: createLogger({ level: 'silent' }) });
  store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

describe('an avatar token', () => {
  let manifest: TokenManifest;
  let tokenId: bigint;
  let manifestId: string;

  it('is minted with the traits of its render seed in the prompt, the attributes and the provenance', async () => {
    const collector = new Wallet(f.stack.anvil.privateKeys[2], f.provider);
    const request = await requestMint(f.collection, collector, 'sleepy', BigInt(avatar.mint.priceWei));
    tokenId = request.requestId;
    await until('the avatar is minted', async () => (await events(f, 'MintFulfilled')).length === 1);
    manifestId = parseArUri(await f.collection.tokenURI(tokenId));
    manifest = JSON.parse(Buffer.from(await store.download(manifestId)).toString('utf8')) as TokenManifest;

    const expected = pickTraits(avatar.traits, renderSeedOf(request));
    expect(expected.map((t) => t.trait_type)).toEqual(['Species', 'Accessory', 'Palette', 'Background']);
    expect(manifest.attributes.map((a) => a.trait_type)).toEqual([
      'Model',
      'Backend',
      'Seed',
      'Size',
      ...expected.map((t) => t.trait_type),
    ]);
    expect(manifest.attributes.slice(4)).toEqual(expected);
    expect(manifest.attributes[3]).toEqual({ trait_type: 'Size', value: '768x768' });
    expect(manifest.aigc.traits).toMatchObject({ table: avatar.traits, values: expected });
    // The gateway rendered the frame with the slots filled (and normalised it).
    expect(manifest.aigc.renderedPrompt).toBe(framePrompt(avatar.render, 'sleepy', expected));
    expect(manifest.aigc.prompt).toBe('sleepy');
  });

  const verify = (download: (id: string) => Promise<Uint8Array>) =>
    verifyToken({ provider: f.provider, collection: f.collection.target as string, tokenId, download, fromBlock: f.deployBlock });
  /** Serves the token's manifest changed by `edit`, everything else as stored. */
  const tampered = (edit: (m: TokenManifest) => void) => async (id: string) => {
    if (id !== manifestId) return store.download(id);
    const m = structuredClone(manifest);
    edit(m);
    return Buffer.from(JSON.stringify(m, null, 2));
  };
  const otherValue = (name: string, current: string) =>
    avatar.traits!.find((t) => t.name === name)!.values.find((v) => v.value !== current)!.value;

  it('verifies, traits included', async () => {
    const report = await verify(store.download);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['traits are drawn from the render seed', 'attributes state the drawn traits']),
    );
    expect(report.ok).toBe(true);
  });

  it('fails verification when an attribute trait is altered', async () => {
    const report = await verify(
      tampered((m) => {
        const species = m.attributes.find((a) => a.trait_type === 'Species')!;
        species.value = otherValue('Species', String(species.value));
      }),
    );
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['attributes state the drawn traits']);
  });

  it('fails verification when the recorded draw or the trait table is altered to match', async () => {
    const recorded = await verify(
      tampered((m) => {
        const species = m.attributes.find((a) => a.trait_type === 'Species')!;
        species.value = otherValue('Species', String(species.value));
        m.aigc.traits!.values[0].value = String(species.value);
      }),
    );
    // Both are compared with the draw recomputed from the chain, not with each other.
    expect(recorded.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'traits are drawn from the render seed',
      'attributes state the drawn traits',
    ]);
    // A table that is not a valid one is refused, not drawn from.
    const broken = await verify(
      tampered((m) => {
        m.aigc.traits!.table[0].values = [{ value: 'x', weight: 0 }];
      }),
    );
    expect(broken.ok).toBe(false);
    expect(broken.checks.find((c) => !c.ok)!.detail).toMatch(/not a valid trait table/);
  });
});
