import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Contract, dataSlice, getBytes, keccak256, Wallet } from 'ethers';
import { createAttester } from '../../pipeline/attest/create';
import { attestationHash, checkAttestationDocument } from '../../pipeline/attest/document';
import { createOperatorAttester } from '../../pipeline/attest/operator';
import { registerTeeSigner } from '../../pipeline/attest/register';
import { createTeeAttester } from '../../pipeline/attest/tee';
import { SignerKind } from '../../pipeline/chain/collection';
import { loadConfig } from '../../pipeline/config';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import { AigcError } from '../../pipeline/errors';
import { type ArweaveStore, arweaveClient, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { type ChainFixture, newCollection, startChain } from '../helpers/collection';
import { FAKE_REPORT_DATA_OFFSET, type FakeTsm, startFakeTsm } from '../helpers/fake-tsm';

jest.setTimeout(60_000);

let dataDir: string;
let arlocal: ArlocalHandle;
let store: ArweaveStore;
let chain: ChainFixture;
let collection: Contract;
const fakes: FakeTsm[] = [];
const fakeTsm = (o?: Parameters<typeof startFakeTsm>[0]) => {
  const fake = startFakeTsm(o);
  fakes.push(fake);
  return fake;
};

/** keccak256 of the public key's X‖Y, then 32 zero bytes: computed here independently of pipeline/attest. */
const expectedReportData = (publicKey: string) =>
  Buffer.concat([Buffer.from(getBytes(keccak256(dataSlice(publicKey, 1)))), Buffer.alloc(32)]);

async function rejection(promise: Promise<unknown>): Promise<AigcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AigcError);
  return error as AigcError;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-tee-'));
  arlocal = await startArlocal({ dbPath: path.join(dataDir, 'arlocal') });
  const jwk = await loadWallet(path.join(dataDir, 'wallet.json'), { create: true });
  await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000`);
  store = await createArweaveStore({ url: arlocal.url, jwk });
  chain = await startChain(4);
  collection = await newCollection(chain);
});

afterAll(async () => {
  fakes.forEach((f) => f.stop());
  await chain?.stop();
  await arlocal?.stop();
});

describe('tee attester through configfs-tsm', () => {
  it('binds a key generated in the process: the quote carries keccak256 of its public key, and the key touches no file', async () => {
    const fake = fakeTsm({ provider: 'tdx_guest' });
    const attester = await createTeeAttester({ store, tsmPath: fake.path });
    const { document, wallet } = attester;
    const quote = Buffer.from(document.quote, 'base64');
    const offset = FAKE_REPORT_DATA_OFFSET.tdx_guest;
    expect(quote.subarray(offset, offset + 64).equals(expectedReportData(wallet.signingKey.publicKey))).toBe(true);
    expect(document).toMatchObject({ provider: 'tdx_guest', address: wallet.address, publicKey: wallet.signingKey.publicKey });
    expect(attester.attestation).toEqual({ type: 'tee', document: expect.stringMatching(/^[\w-]{43}$/), provider: 'tdx_guest' });
    expect(attester.registration).toEqual({
      signer: wallet.address,
      kind: SignerKind.TEE,
      attestationHash: attestationHash(attester.documentBytes),
    });
    expect(checkAttestationDocument(document, wallet.address).every((c) => c.ok)).toBe(true);
    // The private key was never written: not in the configfs entry, not in arlocal's database, not in the document.
    const files = [fake.path, dataDir].flatMap((d) =>
      fs
        .readdirSync(d, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name)),
    );
    expect(files.length).toBeGreaterThan(3);
    const secret = wallet.privateKey.slice(2);
    for (const file of files)
      expect(fs.readFileSync(file).includes(secret) || fs.readFileSync(file).includes(Buffer.from(secret, 'hex'))).toBe(false);
  });

  it('reads SEV-SNP reports too (report data at 0x50)', async () => {
    const attester = await createTeeAttester({ store, tsmPath: fakeTsm({ provider: 'sev_guest' }).path });
    const quote = Buffer.from(attester.document.quote, 'base64');
    expect(quote.subarray(0x50, 0x90).equals(expectedReportData(attester.wallet.signingKey.publicKey))).toBe(true);
    expect(attester.attestation.provider).toBe('sev_guest');
  });

  it('detects another writer on the entry (generation moved by two) and retries with a fresh entry', async () => {
    const always = fakeTsm({ races: 100 });
    const error = await rejection(createTeeAttester({ store, tsmPath: always.path, attempts: 2 }));
    expect(error.code).toBe('ATTESTATION_FAILED');
    expect(error.shortMessage).toMatch(/was written by another process while the report was made \(generation 0 → 2, expected 1\)/);
    expect(always.entries).toHaveLength(2);

    const once = fakeTsm({ races: 1 });
    const attester = await createTeeAttester({ store, tsmPath: once.path });
    expect(once.entries).toHaveLength(2);
    const quote = Buffer.from(attester.document.quote, 'base64');
    expect(quote.subarray(568, 632).equals(expectedReportData(attester.wallet.signingKey.publicKey))).toBe(true);
  });

  it('names AIGC_TSM_PATH when there is no configfs-tsm, and refuses a plain directory', async () => {
    const config = loadConfig({ env: { AIGC_ATTESTER: 'tee', AIGC_TSM_PATH: path.join(dataDir, 'no-such-tsm') } });
    const missing = await rejection(createAttester(config, { store }));
    expect(missing.code).toBe('CONFIG_INVALID');
    expect(missing.shortMessage).toMatch(/^no configfs-tsm report directory at .*no-such-tsm: .*TDX.*SEV-SNP.*set AIGC_TSM_PATH/);

    const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-not-tsm-'));
    const error = await rejection(createTeeAttester({ store, tsmPath: plain, timeoutMs: 300 }));
    expect(error.shortMessage).toMatch(/has no "generation" attribute: .* \(AIGC_TSM_PATH\) is not a configfs-tsm report directory/);
  });

  it('stores a document that downloads back identical, whose SHA-256 the collection holds after registerTeeSigner', async () => {
    const attester = await createAttester(loadConfig({ env: { AIGC_ATTESTER: 'tee', AIGC_TSM_PATH: fakeTsm().path } }), { store });
    const downloaded = await store.download(attester.attestation.document!);
    expect(Buffer.from(downloaded).equals((attester as Awaited<ReturnType<typeof createTeeAttester>>).documentBytes)).toBe(true);

    await registerTeeSigner({ collection: await collection.getAddress(), owner: chain.owner, attester });
    const [kind, , onChain] = (await collection.signerInfo(attester.wallet.address)) as [bigint, bigint, string];
    expect(kind).toBe(BigInt(SignerKind.TEE));
    expect(onChain).toBe(`0x${createHash('sha256').update(downloaded).digest('hex')}`);
  });

  it('lets only the owner register, and only tee attesters as TEE signers', async () => {
    const attester = await createTeeAttester({ store, tsmPath: fakeTsm().path });
    const address = await collection.getAddress();
    const notOwner = await rejection(registerTeeSigner({ collection: address, owner: chain.wallets[2], attester }));
    expect(notOwner.shortMessage).toMatch(/only the owner of 0x\w+ \(0x\w+\) can register signers/);
    const operator = await createOperatorAttester({ privateKey: Wallet.createRandom().privateKey });
    expect((await rejection(registerTeeSigner({ collection: address, owner: chain.owner, attester: operator }))).code).toBe(
      'INVALID_REQUEST',
    );
  });
});
