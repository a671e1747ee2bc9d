import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { modelHash } from '../../pipeline/provenance/model-hash';
import { verifyToken } from '../../pipeline/provenance/verify';
import { renderSeedOf } from '../../pipeline/chain/request';
import { createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { parseArUri } from '../../pipeline/storage/ids';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import { BINDING_LABEL } from '../../pipeline/credentials/credentials';
import { loadTemplate } from '../../pipeline/template';
import { events, type NodeFixture, sendRequests, startNodeFixture } from '../helpers/node-stack';
import { readWithC2paRs } from '../helpers/c2pa-reader';
import { until } from '../helpers/wait';

/** The shipped default, as the embedded stack serves it (the node fixtures' own template has moderation off). */
const template = loadTemplate('open-prompt');

jest.setTimeout(300_000);

// The embedded stack with the default template (open-prompt: moderation and Content Credentials on), its
// development CA and leaf made in the data dir.
let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture({ template });
  node = await startNode({ config: f.config(), template, logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

it('a minted token’s image carries valid C2PA credentials bound to it, and verify reports them', async () => {
  expect(template.credentials?.c2pa).toBe(true);
  expect(template.moderation?.policy).toBe('reject');
  const [request] = await sendRequests(f, ['a lighthouse at dusk']);
  await until('the mint', async () => (await events(f, 'MintFulfilled')).length === 1, 240_000);
  const [fulfilled] = await events(f, 'MintFulfilled');
  const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
  const manifest = JSON.parse(
    Buffer.from(await store.download(parseArUri(await f.collection.tokenURI(request.requestId)))).toString('utf8'),
  ) as TokenManifest;
  const image = await store.download(parseArUri(manifest.image));
  // The hash on chain is of the final bytes, credentials included.
  expect(`0x${createHash('sha256').update(image).digest('hex')}`).toBe(fulfilled.args.imageSha256);
  expect(manifest.aigc.credentials).toMatchObject({ c2pa: 'embedded' });
  expect(manifest.aigc.moderation).toMatchObject({ policy: 'reject', action: 'passed' });

  // An independent reader (c2pa-rs) finds a valid, trusted (with the dev CA) manifest bound to this token.
  const store2 = await readWithC2paRs(image, manifest.aigc.image.mime, fs.readFileSync(f.stack.c2pa.caPath, 'utf8'));
  expect(store2.validation_state).toBe('Trusted');
  const active = store2.manifests[store2.active_manifest!];
  expect(active.assertions.find((a) => a.label === BINDING_LABEL)?.data).toEqual({
    chainId: 31337,
    collection: await f.collection.getAddress(),
    requestId: request.requestId.toString(),
    seed: request.seed,
    renderSeed: renderSeedOf(request),
    modelHash: modelHash(manifest.aigc.model),
  });

  const report = await verifyToken({
    provider: f.provider,
    collection: await f.collection.getAddress(),
    tokenId: request.requestId,
    download: store.download,
    fromBlock: f.deployBlock,
  });
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.checks.map((c) => c.name)).toEqual(
    expect.arrayContaining([
      'C2PA credentials are present in the image',
      'C2PA signature and data hash are valid',
      'C2PA binding names this token (chain, collection, token id, seed, model hash)',
    ]),
  );
  expect(report.credentials).toMatchObject({ present: true, valid: true });
  expect(report.credentials?.signer).toMatch(/DEVELOPMENT ONLY/);
  expect(report.ok).toBe(true);

  // A verifier given the image bytes of another token's credentials... here: one flipped byte fails the C2PA check too.
  const tampered = Buffer.from(image);
  tampered[tampered.length - 40] ^= 1;
  const bad = await verifyToken({
    provider: f.provider,
    collection: await f.collection.getAddress(),
    tokenId: request.requestId,
    download: async (id) => (id === parseArUri(manifest.image) ? tampered : store.download(id)),
    fromBlock: f.deployBlock,
  });
  expect(bad.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
    'image bytes hash to the signed imageSha256',
    'C2PA signature and data hash are valid',
  ]);
});

it('refuses to start a node whose template asks for credentials it does not have', async () => {
  await expect(
    startNode({
      config: { ...f.config({ redis: { prefix: 'nocreds' } }), credentials: {} },
      template,
      logger: createLogger({ level: 'silent' }),
    }),
  ).rejects.toThrow(/asks for C2PA Content Credentials \(credentials\.c2pa\): set AIGC_C2PA_CERT and AIGC_C2PA_KEY/);
});
