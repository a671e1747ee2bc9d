import { type Contract, hexlify, randomBytes, toUtf8Bytes, type TransactionReceipt, Wallet, ZeroAddress, ZeroHash } from 'ethers';
import { connectCollection, SignerKind } from '../../pipeline/chain/collection';
import { requestStruct } from '../../pipeline/chain/request';
import { advanceTime, type ChainFixture, newCollection, PRICE, send, signedFulfillment, startChain } from '../helpers/collection';
import { requestMint } from '../helpers/mint';

let chain: ChainFixture;
beforeAll(async () => {
  chain = await startChain();
});
afterAll(() => chain?.stop());

/** Calls `method` as a static call from `wallet` and expects the custom error `name`. */
async function expectRevert(contract: Contract, wallet: Wallet, method: string, args: unknown[], name: string, value?: bigint) {
  const fn = (contract.connect(wallet) as Contract).getFunction(method);
  await expect(fn.staticCall(...args, ...(value === undefined ? [] : [{ value }]))).rejects.toMatchObject({ revert: { name } });
}

describe('AIGCCollection: requests', () => {
  it('refuses a wrong payment, an empty or too long prompt, and a zero recipient', async () => {
    const c = await newCollection(chain, { mint: { maxPromptBytes: 10 } });
    const w = chain.wallets[2];
    await expectRevert(c, w, 'requestMint', [toUtf8Bytes('hi')], 'AIGCWrongPayment', 0n);
    await expectRevert(c, w, 'requestMint', [toUtf8Bytes('hi')], 'AIGCWrongPayment', PRICE + 1n);
    await expectRevert(c, w, 'requestMint', ['0x'], 'AIGCPromptLength', PRICE);
    await expectRevert(c, w, 'requestMint', [toUtf8Bytes('12345678901')], 'AIGCPromptLength', PRICE);
    await expectRevert(c, w, 'requestMintFor', [ZeroAddress, toUtf8Bytes('hi')], 'AIGCInvalidRecipient', PRICE);
    const r = await requestMint(c, w, '1234567890'); // exactly the cap
    expect(r.prompt).toBe('1234567890');
  });

  it('stops at max supply, counting open requests, and frees a place on refund', async () => {
    const c = await newCollection(chain, { mint: { maxSupply: 2, refundDelay: 60 } });
    const r1 = await requestMint(c, chain.wallets[2]);
    await requestMint(c, chain.wallets[3]);
    await expectRevert(c, chain.wallets[4], 'requestMint', [toUtf8Bytes('x')], 'AIGCSoldOut', PRICE);
    await advanceTime(chain.provider, 61);
    await send(c, chain.wallets[9], 'refund', r1.requestId, requestStruct(r1));
    await requestMint(c, chain.wallets[4]);
  });

  it('honours the mint window', async () => {
    const now = (await chain.provider.getBlock('latest'))!.timestamp;
    const early = await newCollection(chain, { mint: { mintStart: now + 3_600, mintEnd: now + 7_200 } });
    await expectRevert(early, chain.wallets[2], 'requestMint', [toUtf8Bytes('x')], 'AIGCMintNotOpen', PRICE);
    const closed = await newCollection(chain, { mint: { mintStart: 0, mintEnd: now - 1 } });
    await expectRevert(closed, chain.wallets[2], 'requestMint', [toUtf8Bytes('x')], 'AIGCMintClosed', PRICE);
  });

  it('enforces a per-wallet limit on the payer, or on the recipient of an operator-sponsored mint', async () => {
    const c = await newCollection(chain, { walletLimit: 1 });
    const collector = chain.wallets[2];
    await requestMint(c, collector);
    await expectRevert(c, collector, 'requestMint', [toUtf8Bytes('x')], 'AIGCWalletLimit', PRICE);
    // The operator (an authorised signer) sponsors a mint for the collector: it counts against the collector.
    await expectRevert(c, chain.operator, 'requestMintFor', [collector.address, toUtf8Bytes('x')], 'AIGCWalletLimit', PRICE);
    expect(await c.requestsOf(collector.address)).toBe(1n);
  });

  it('refuses new requests while paused but keeps fulfilment and refunds working', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 60 } });
    const r = await requestMint(c, chain.wallets[2]);
    const r2 = await requestMint(c, chain.wallets[3]);
    await expectRevert(c, chain.wallets[2], 'pause', [], 'OwnableUnauthorizedAccount');
    await send(c, chain.owner, 'pause');
    await expectRevert(c, chain.wallets[2], 'requestMint', [toUtf8Bytes('x')], 'AIGCPaused', PRICE);
    await send(c, chain.wallets[5], 'fulfill', await signedFulfillment(r, chain.operator, { collection: await c.getAddress() }));
    await advanceTime(chain.provider, 61);
    await send(c, chain.wallets[5], 'refund', r2.requestId, requestStruct(r2));
    await send(c, chain.owner, 'unpause');
    await requestMint(c, chain.wallets[2]);
  });

  it('fixes a different seed per request, bound to chain, collection, id and requester', async () => {
    const c = await newCollection(chain);
    const a = await requestMint(c, chain.wallets[2]);
    const b = await requestMint(c, chain.wallets[2]);
    expect(a.seed).not.toBe(b.seed);
    expect(a.seed).toMatch(/^0x[0-9a-f]{64}$/);
  });
});

describe('AIGCCollection: fulfilment', () => {
  it('mints to the recipient with an ar:// tokenURI and credits the signer', async () => {
    const c = await newCollection(chain);
    const address = await c.getAddress();
    const r = await requestMint(c, chain.wallets[2], 'for a friend', PRICE, chain.wallets[3].address);
    expect([r.requester, r.recipient]).toEqual([chain.wallets[2].address, chain.wallets[3].address]);
    const manifestId = `0x${Buffer.from('x'.repeat(32)).toString('hex')}`;
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r, chain.operator, { collection: address, manifestId }));
    expect(await c.ownerOf(r.requestId)).toBe(chain.wallets[3].address);
    expect(await c.tokenURI(r.requestId)).toBe(`ar://${Buffer.from('x'.repeat(32)).toString('base64url')}`);
    const [kind, earnings] = await c.signerInfo(chain.operator.address);
    expect([kind, earnings]).toEqual([BigInt(SignerKind.OPERATOR), PRICE]);
  });

  it('refuses unauthorised signers, replays from another collection, chain or request, and a second fulfil', async () => {
    const c = await newCollection(chain);
    const other = await newCollection(chain);
    const address = await c.getAddress();
    const r = await requestMint(c, chain.wallets[2]);
    const r2 = await requestMint(c, chain.wallets[2], 'another prompt');
    const caller = chain.wallets[9];
    await expectRevert(c, caller, 'fulfill', [await signedFulfillment(r, Wallet.createRandom(), { collection: address })], 'AIGCUnauthorizedSigner');
    await expectRevert(c, caller, 'fulfill', [await signedFulfillment(r, chain.operator, { collection: await other.getAddress() })], 'AIGCUnauthorizedSigner');
    await expectRevert(c, caller, 'fulfill', [await signedFulfillment(r, chain.operator, { collection: address, chainId: 1 })], 'AIGCUnauthorizedSigner');
    // A valid signature for request 2 presented for request 1 (same preimage fields swapped in) fails.
    const forR2 = await signedFulfillment(r2, chain.operator, { collection: address });
    await expectRevert(c, caller, 'fulfill', [{ ...forR2, requestId: r.requestId }], 'AIGCUnknownRequest');
    await expectRevert(c, caller, 'fulfill', [{ ...forR2, request: requestStruct(r) }], 'AIGCUnknownRequest');
    const tampered = { ...requestStruct(r2), paid: 1n };
    await expectRevert(c, caller, 'fulfill', [{ ...forR2, request: tampered }], 'AIGCUnknownRequest');
    await expectRevert(c, caller, 'fulfill', [{ ...(await signedFulfillment(r, chain.operator, { collection: address, manifestId: ZeroHash })) }], 'AIGCInvalidManifest');
    await expectRevert(c, caller, 'fulfill', [{ ...forR2, signature: '0x1234' }], 'AIGCInvalidSignature');

    const good = await signedFulfillment(r, chain.operator, { collection: address });
    await send(c, caller, 'fulfill', good);
    await expectRevert(c, caller, 'fulfill', [good], 'AIGCUnknownRequest');
    await expectRevert(c, caller, 'fulfill', [await signedFulfillment(r, chain.operator, { collection: address })], 'AIGCUnknownRequest');
  });

  it('revokes a signer: its signatures stop working, its earnings stay withdrawable', async () => {
    const c = await newCollection(chain);
    const address = await c.getAddress();
    const [r1, r2] = [await requestMint(c, chain.wallets[2]), await requestMint(c, chain.wallets[3])];
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r1, chain.operator, { collection: address }));
    await send(c, chain.owner, 'setSigner', chain.operator.address, SignerKind.NONE, ZeroHash, ZeroAddress);
    await expectRevert(c, chain.wallets[9], 'fulfill', [await signedFulfillment(r2, chain.operator, { collection: address })], 'AIGCUnauthorizedSigner');
    const before = await chain.provider.getBalance(await c.getAddress());
    await send(c, chain.operator, 'withdraw', chain.operator.address);
    expect(await chain.provider.getBalance(address)).toBe(before - PRICE);
  });

  it('fulfillBatch mints the valid items and skips the rest with FulfillSkipped', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 60 } });
    const address = await c.getAddress();
    const rs = [];
    for (let i = 0; i < 5; i++) rs.push(await requestMint(c, chain.wallets[2 + i], `prompt ${i}`));
    const items = await Promise.all(rs.map((r) => signedFulfillment(r, chain.operator, { collection: address })));
    await send(c, chain.wallets[9], 'fulfill', items[0]); // already minted
    items[2] = await signedFulfillment(rs[2], Wallet.createRandom(), { collection: address }); // bad signer
    const receipt = await send(c, chain.wallets[9], 'fulfillBatch', [...items, items[3]]); // duplicate at the end
    const parsed = receipt.logs.map((l) => c.interface.parseLog(l)).filter((e) => e !== null);
    const skipped = parsed.filter((e) => e.name === 'FulfillSkipped').map((e) => [e.args.requestId, e.args.reason]);
    expect(skipped).toEqual([
      [rs[0].requestId, c.interface.getError('AIGCUnknownRequest')!.selector],
      [rs[2].requestId, c.interface.getError('AIGCUnauthorizedSigner')!.selector],
      [rs[3].requestId, c.interface.getError('AIGCUnknownRequest')!.selector],
    ]);
    for (const i of [1, 3, 4]) expect(await c.ownerOf(rs[i].requestId)).toBe(chain.wallets[2 + i].address);
    const [, earnings] = await c.signerInfo(chain.operator.address);
    expect(earnings).toBe(PRICE * 4n);
  });
});

describe('AIGCCollection: rejections and refunds', () => {
  it('lets a signer reject with an immediate refund, once', async () => {
    const c = await newCollection(chain);
    const w = chain.wallets[4];
    const r = await requestMint(c, w);
    await expectRevert(c, chain.wallets[5], 'reject', [r.requestId, requestStruct(r), 1], 'AIGCUnauthorizedSigner');
    const receiptEvents = async (receipt: TransactionReceipt) => receipt.logs.map((l) => c.interface.parseLog(l)!);
    const before = await chain.provider.getBalance(w.address);
    const [rejected] = await receiptEvents(await send(c, chain.operator, 'reject', r.requestId, requestStruct(r), 1));
    expect([rejected.name, rejected.args.requester, rejected.args.recipient, rejected.args.refunded, rejected.args.reason]).toEqual(['MintRejected', w.address, w.address, PRICE, 1n]);
    expect(await chain.provider.getBalance(w.address)).toBe(before + PRICE);
    await expectRevert(c, chain.operator, 'reject', [r.requestId, requestStruct(r), 1], 'AIGCUnknownRequest');
    await expectRevert(c, chain.wallets[9], 'fulfill', [await signedFulfillment(r, chain.operator, { collection: await c.getAddress() })], 'AIGCUnknownRequest');
  });

  it('refunds to the requester after the deadline only, and never after a fulfil', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 600 } });
    const [r1, r2] = [await requestMint(c, chain.wallets[2]), await requestMint(c, chain.wallets[3])];
    await expectRevert(c, chain.wallets[9], 'refund', [r1.requestId, requestStruct(r1)], 'AIGCRefundTooEarly');
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r2, chain.operator, { collection: await c.getAddress() }));
    await advanceTime(chain.provider, 601);
    await expectRevert(c, chain.wallets[9], 'refund', [r2.requestId, requestStruct(r2)], 'AIGCUnknownRequest');
    const before = await chain.provider.getBalance(chain.wallets[2].address);
    await send(c, chain.wallets[9], 'refund', r1.requestId, requestStruct(r1));
    expect(await chain.provider.getBalance(chain.wallets[2].address)).toBe(before + PRICE);
    await expectRevert(c, chain.wallets[9], 'refund', [r1.requestId, requestStruct(r1)], 'AIGCUnknownRequest');
  });
});

describe('AIGCCollection: clones, admin, interfaces', () => {
  it('cannot be initialised twice, nor the implementation at all', async () => {
    const c = await newCollection(chain);
    const params = { name: 'x', symbol: 'X', owner: chain.wallets[5].address, mint: { price: 0n, maxSupply: 1, maxPromptBytes: 1, refundDelay: 60, mintStart: 0, mintEnd: 0 }, walletLimit: 0, royaltyReceiver: ZeroAddress, royaltyBps: 0, signer: ZeroAddress, payee: ZeroAddress, contractManifest: ZeroHash };
    await expectRevert(c, chain.wallets[5], 'initialize', [params], 'AIGCAlreadyInitialized');
    const factory = new (await import('ethers')).Contract(chain.factory, ['function implementation() view returns (address)'], chain.provider);
    const impl = connectCollection(await factory.implementation(), chain.provider);
    await expectRevert(impl, chain.wallets[5], 'initialize', [params], 'AIGCAlreadyInitialized');
  });

  it('hands ownership over in two steps and stores TEE attestation hashes', async () => {
    const c = await newCollection(chain);
    const next = chain.wallets[6];
    await send(c, chain.owner, 'transferOwnership', next.address);
    expect(await c.owner()).toBe(chain.owner.address);
    await send(c, next, 'acceptOwnership');
    expect(await c.owner()).toBe(next.address);
    const tee = Wallet.createRandom().address;
    const attestation = hexlify(randomBytes(32));
    const receipt = await send(c, next, 'setSigner', tee, SignerKind.TEE, attestation, ZeroAddress);
    const event = c.interface.parseLog(receipt.logs[0])!;
    expect([event.name, event.args.signer, event.args.kind, event.args.attestationHash]).toEqual(['SignerSet', tee, BigInt(SignerKind.TEE), attestation]);
    expect(await c.signerInfo(tee)).toEqual([BigInt(SignerKind.TEE), 0n, attestation, tee]);
    // Only the pending owner can accept; the old owner lost its rights.
    await expectRevert(c, chain.owner, 'pause', [], 'OwnableUnauthorizedAccount');
    await expectRevert(c, chain.wallets[7], 'acceptOwnership', [], 'OwnableUnauthorizedAccount');
  });

  it('supports ERC-165 ids of ERC-721, metadata, ERC-2981, ERC-4906 and ERC-7007, and pays royalties', async () => {
    const c = await newCollection(chain, { royaltyBps: 500, royaltyReceiver: chain.wallets[7].address });
    for (const id of ['0x01ffc9a7', '0x80ac58cd', '0x5b5e139f', '0x2a55205a', '0x49064906', '0x702c55a6']) expect(await c.supportsInterface(id)).toBe(true);
    expect(await c.supportsInterface('0xffffffff')).toBe(false);
    expect(await c.royaltyInfo(1, 10_000n)).toEqual([chain.wallets[7].address, 500n]);
  });
});
