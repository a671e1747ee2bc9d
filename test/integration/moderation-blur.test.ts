import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { verifyToken } from '../../pipeline/provenance/verify';
import { createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { parseArUri } from '../../pipeline/storage/ids';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import type { CollectionTemplate } from '../../pipeline/template';
import { generate } from '../helpers/gateway';
import { events, type NodeFixture, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { fixturePhoto, photoBackend } from '../helpers/photo-backend';
import { until } from '../helpers/wait';

jest.setTimeout(300_000);

// The real gateway in front of a backend that renders a real photograph (the rocket launch fixture, scored ~0.79
// "drawing" by the classifier), under a collection whose moderation blurs drawing ≥ 0.5. Checked with the compiled
// `aigc verify` too (run `npm run build` first).
const CLI = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');
const photo = photoBackend(fixturePhoto('rocket.jpg'));
const blurring: CollectionTemplate = { ...template, moderation: { policy: 'blur', thresholds: { drawing: 0.5 } } };

let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture({ backend: photo, template: blurring });
  node = await startNode({ config: f.config(), template: blurring, logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

/** Greyscale pixels of an image, and its detail: the sum of absolute differences between neighbouring pixels. */
async function pixels(image: Uint8Array): Promise<{ width: number; height: number; grey: Buffer; detail: number }> {
  const { data, info } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
  let detail = 0;
  for (let i = 1; i < data.length; i++) detail += Math.abs(data[i] - data[i - 1]);
  return { width: info.width, height: info.height, grey: data, detail };
}

const aigcVerify = (tokenId: bigint, collection: string) =>
  new Promise<{ status: number; stdout: string }>((resolve) => {
    const args = [CLI, 'verify', String(tokenId), '--json', '--collection', collection, '--rpc', f.stack.anvil.rpcUrl];
    args.push('--arweave', f.stack.arlocal.url, '--from-block', String(f.deployBlock));
    execFile(process.execPath, args, (error, stdout) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }));
  });

it('an image over a blur threshold is minted blurred, the manifest records the blur, and the token verifies', async () => {
  const [request] = await sendRequests(f, ['a launch at dawn']);
  await until('the mint', async () => (await events(f, 'MintFulfilled')).length === 1, 240_000);
  expect((await events(f, 'MintRejected')).length).toBe(0);
  const [fulfilled] = await events(f, 'MintFulfilled');
  const collection = await f.collection.getAddress();
  const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
  const manifest = JSON.parse(
    Buffer.from(await store.download(parseArUri(await f.collection.tokenURI(request.requestId)))).toString('utf8'),
  ) as TokenManifest;

  // The manifest says what moderation scored, under which policy, and that it blurred.
  const moderation = manifest.aigc.moderation!;
  expect(moderation).toMatchObject({ policy: 'blur', action: 'blurred', crossed: ['drawing'], thresholds: { drawing: 0.5 } });
  expect(moderation.classifier).toMatch(/^nsfwjs\/MobileNetV2@tfjs-/);
  expect(moderation.scores.drawing).toBeGreaterThanOrEqual(0.5);
  expect(Object.values(moderation.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);

  // The stored image is the blurred one: its hash is the one signed on chain, and it is the same render as the
  // gateway gives without moderation, blurred (same size, different pixels, far less detail).
  const minted = await store.download(parseArUri(manifest.image));
  expect(`0x${createHash('sha256').update(minted).digest('hex')}`).toBe(fulfilled.args.imageSha256);
  const res = await generate(f.stack.gatewayUrl, {
    prompt: manifest.aigc.renderedPrompt,
    negativePrompt: manifest.aigc.negativePrompt,
    seed: BigInt(manifest.aigc.renderSeed).toString(),
    width: manifest.aigc.params.width,
    height: manifest.aigc.params.height,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-moderation')).toBeNull();
  const plain = await pixels(new Uint8Array(await res.arrayBuffer()));
  const blurred = await pixels(minted);
  expect([blurred.width, blurred.height]).toEqual([plain.width, plain.height]);
  expect(blurred.grey.equals(plain.grey)).toBe(false);
  expect(blurred.detail).toBeLessThan(plain.detail / 4);

  // Every provenance check passes, through the library and through the CLI.
  const report = await verifyToken({
    provider: f.provider,
    collection,
    tokenId: request.requestId,
    download: store.download,
    fromBlock: f.deployBlock,
  });
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.ok).toBe(true);
  const cli = await aigcVerify(request.requestId, collection);
  expect(cli.status).toBe(0);
  expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true });
});
