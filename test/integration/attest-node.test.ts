import { execFile } from 'node:child_process';
import path from 'node:path';
import { hexlify, parseEther, randomBytes, Wallet, ZeroHash } from 'ethers';
import { registerSigner, registerTeeSigner } from '../../pipeline/attest/register';
import { createTeeAttester, type TeeAttester } from '../../pipeline/attest/tee';
import { SignerKind } from '../../pipeline/chain/collection';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { verifyToken } from '../../pipeline/provenance/verify';
import { type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import { parseArUri } from '../../pipeline/storage/ids';
import { type FakeTsm, startFakeTsm } from '../helpers/fake-tsm';
import { events, type NodeFixture, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

// Nodes signing with a TEE attester (configfs-tsm emulated) and a simulated one; tokens checked by verifyToken and
// by the compiled `aigc verify` (run `npm run build` first).
jest.setTimeout(120_000);

const CLI = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');
let f: NodeFixture;
let store: ArweaveStore;
let owner: Wallet;
let tsm: FakeTsm;
const nodes: RunningNode[] = [];

beforeAll(async () => {
  f = await startNodeFixture();
  store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
  owner = new Wallet(f.stack.anvil.privateKeys[0], f.provider);
  tsm = startFakeTsm({ provider: 'sev_guest' });
});
afterAll(async () => {
  for (const node of nodes) await node.stop();
  tsm?.stop();
  await f?.stop();
});

const download = (id: string) => store.download(id);
const fund = async (address: string) => (await owner.sendTransaction({ to: address, value: parseEther('1') })).wait();
const verify = (tokenId: bigint) =>
  verifyToken({ provider: f.provider, collection: f.config().collection.address!, tokenId, download, fromBlock: f.deployBlock });
const runVerify = (tokenId: bigint) =>
  new Promise<{ status: number; stdout: string }>((resolve) => {
    const args = [
      CLI,
      'verify',
      String(tokenId),
      '--collection',
      f.config().collection.address!,
      '--rpc',
      f.stack.anvil.rpcUrl,
      '--arweave',
      f.stack.arlocal.url,
      '--from-block',
      String(f.deployBlock),
    ];
    execFile(process.execPath, args, (error, stdout) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }));
  });
async function mintOne(prompt: string) {
  const [request] = await sendRequests(f, [prompt]);
  await until(`token ${request.requestId} minted`, async () =>
    (await events(f, 'MintFulfilled')).some((e) => e.args.requestId === request.requestId),
  );
  return request.requestId;
}

describe('a node with a TEE attester', () => {
  let attester: TeeAttester;
  let tokenId: bigint;

  it('mints tokens whose manifests name the attestation document, which verify checks against the chain', async () => {
    attester = await createTeeAttester({ store, tsmPath: tsm.path });
    await registerTeeSigner({ collection: await f.collection.getAddress(), owner, attester });
    await fund(attester.wallet.address);
    nodes.push(await startNode({ config: f.config(), template, attester, logger: createLogger({ level: 'silent' }) }));
    expect(nodes[0].signerAddress).toBe(attester.wallet.address);
    tokenId = await mintOne('a lantern in the fog');

    const manifest = JSON.parse(Buffer.from(await download(parseArUri(await f.collection.tokenURI(tokenId)))).toString()) as TokenManifest;
    expect(manifest.aigc.attestation).toEqual({ type: 'tee', document: attester.attestation.document, provider: 'sev_guest' });
    const report = await verify(tokenId);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'signer is (or was, and was retired) a TEE signer on chain',
        'attestation document hashes to the on-chain signerInfo attestation',
        'report data is keccak256 of the public key',
        'sev_guest quote carries the report data',
      ]),
    );
    expect(report.attestation).toMatchObject({
      type: 'tee',
      hardware: true,
      provider: 'sev_guest',
      document: attester.attestation.document,
    });
    expect(report.ok).toBe(true);
  });

  it('fails verification once the registered hash no longer matches the document', async () => {
    await registerSigner({
      collection: await f.collection.getAddress(),
      owner,
      registration: { signer: attester.wallet.address, kind: SignerKind.TEE, attestationHash: hexlify(randomBytes(32)) },
    });
    const report = await verify(tokenId);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'attestation document hashes to the on-chain signerInfo attestation',
    ]);
    const cli = await runVerify(tokenId);
    expect(cli.status).toBe(4);
    expect(cli.stdout).toMatch(
      /✗ attestation document hashes to the on-chain signerInfo attestation \(document 0x[0-9a-f]{64}, chain 0x[0-9a-f]{64}\)/,
    );
    expect(cli.stdout).toMatch(/attestation: tee — sev_guest quote, document ar:\/\//);
  });
});

describe('a node with the simulated attester', () => {
  it('labels its manifests simulated, and `aigc verify` says it is not a real attestation', async () => {
    await nodes.pop()!.stop();
    const node = await startNode({
      config: f.config({ redis: { prefix: 'aigc-sim' }, signer: { attester: 'simulated' } }),
      template,
      logger: createLogger({ level: 'silent' }),
    });
    nodes.push(node);
    await registerSigner({
      collection: await f.collection.getAddress(),
      owner,
      registration: { signer: node.signerAddress, kind: SignerKind.OPERATOR, attestationHash: ZeroHash },
    });
    await fund(node.signerAddress);
    const tokenId = await mintOne('a paper boat on a puddle');

    const report = await verify(tokenId);
    expect(report.signer).toBe(node.signerAddress);
    expect(report.attestation).toMatchObject({ type: 'simulated', hardware: false });
    expect(report.ok).toBe(true);
    const cli = await runVerify(tokenId);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('attestation: simulated — a development key, NOT a real attestation');
  });
});
