import { AbiCoder, type Contract, ContractFactory, getBytes, hexlify, keccak256, randomBytes, toUtf8Bytes, Wallet, ZeroAddress, ZeroHash } from 'ethers';
import { deployFactory, SignerKind } from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import { type MintRequest, parseMintRequested, requestKey, requestStruct } from '../../pipeline/chain/request';
import { startAnvil } from '../../pipeline/embedded/anvil';
import { abi as attackerAbi, bytecode as attackerBytecode } from '../artifacts/Reentrant';
import { advanceTime, type ChainFixture, newCollection, PRICE, send, signedFulfillment, startChain } from '../helpers/collection';
import { requestMint } from '../helpers/mint';

// One test per finding of the contract review (issue "Contracts v2"): each would pass on the v1 contract's behaviour
// only if the attack or fault it describes still worked.

let chain: ChainFixture;
beforeAll(async () => {
  chain = await startChain(12);
});
afterAll(() => chain?.stop());

const coder = AbiCoder.defaultAbiCoder();
const REQUEST = 'tuple(address requester,uint96 paid,address recipient,uint64 deadline,uint8 counted,bytes32 seed,bytes32 promptHash)';

async function expectRevert(contract: Contract, wallet: Wallet, method: string, args: unknown[], name: string, value?: bigint) {
  const fn = (contract.connect(wallet) as Contract).getFunction(method);
  await expect(fn.staticCall(...args, ...(value === undefined ? [] : [{ value }]))).rejects.toMatchObject({ revert: { name } });
}

/** Parses every log of `receipt` that `c` knows. */
function events(c: Contract, receipt: { logs: readonly unknown[] }) {
  return receipt.logs.map((l) => c.interface.parseLog(l as never)).filter((e) => e !== null);
}

/** A contract requester: requests through `attack`, and with `reentry` empty it simply accepts ether. */
async function contractRequester(): Promise<Contract> {
  const attacker = await new ContractFactory(attackerAbi, attackerBytecode, chain.wallets[8]).deploy();
  await attacker.waitForDeployment();
  return attacker as unknown as Contract;
}

describe('1. a minted token never passes as a pending request', () => {
  it('the forged-preimage drain: fulfil with manifestId = key(fake request), then reject or refund it — refused', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 60 } });
    const address = await c.getAddress();
    const attacker = chain.operator; // holds a signer key
    // Victims' escrow in the contract.
    await requestMint(c, chain.wallets[2]);
    await requestMint(c, chain.wallets[3]);
    const target = await requestMint(c, chain.wallets[4]);
    const balance = await chain.provider.getBalance(address);
    expect(balance).toBe(PRICE * 3n);

    const fake = { requester: attacker.address, paid: balance, recipient: attacker.address, deadline: 1n, counted: 0, seed: ZeroHash, promptHash: ZeroHash };
    const fakeKey = keccak256(coder.encode([REQUEST], [fake]));
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(target, attacker, { collection: address, manifestId: fakeKey }));
    expect(await c.manifestOf(target.requestId)).toBe(fakeKey); // the slot now holds the forged key

    expect(await c.isPending(target.requestId, fake)).toBe(false);
    await expectRevert(c, attacker, 'reject', [target.requestId, fake, 0], 'AIGCUnknownRequest');
    await advanceTime(chain.provider, 61);
    await expectRevert(c, attacker, 'refund', [target.requestId, fake], 'AIGCUnknownRequest');
    // And a second "fulfil" of the minted token with the forged preimage is refused too.
    const asPending = { ...target, ...fake, requestId: target.requestId } as unknown as MintRequest;
    await expectRevert(c, chain.wallets[9], 'fulfill', [await signedFulfillment(asPending, attacker, { collection: address })], 'AIGCUnknownRequest');
    expect(await chain.provider.getBalance(address)).toBe(balance);
    expect((await c.requestCounts())[1]).toBe(3n);
  });
});

describe('2. a requester that refuses ether cannot block the end of its request', () => {
  it('reject and refund credit it instead; it claims to another address', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 60 } });
    const address = await c.getAddress();
    const requester = await contractRequester();
    const requesterAddress = await requester.getAddress();
    const mint = c.interface.encodeFunctionData('requestMint', [toUtf8Bytes('no refunds please')]);
    const rs: MintRequest[] = [];
    for (let i = 0; i < 2; i++) {
      const receipt = await send(requester, chain.wallets[8], 'attack', address, mint, '0x', { value: PRICE });
      rs.push(parseMintRequested(receipt.logs.find((l) => l.address === address)!));
    }
    // Make its receive() revert from now on.
    await chain.provider.send('anvil_setCode', [requesterAddress, '0x60006000fd']); // PUSH1 0 PUSH1 0 REVERT

    const rejected = events(c, await send(c, chain.operator, 'reject', rs[0].requestId, requestStruct(rs[0]), 3));
    expect(rejected.map((e) => e.name)).toEqual(['MintRejected', 'CreditAdded']);
    await advanceTime(chain.provider, 61);
    const refunded = events(c, await send(c, chain.wallets[9], 'refund', rs[1].requestId, requestStruct(rs[1])));
    expect(refunded.map((e) => e.name)).toEqual(['MintRefunded', 'CreditAdded']);
    expect(await c.creditOf(requesterAddress)).toBe(PRICE * 2n);
    expect((await c.requestCounts())[1]).toBe(0n); // supply places freed

    // The requester (as code that can call) claims to an address that accepts ether.
    await chain.provider.send('anvil_setCode', [requesterAddress, await chain.provider.getCode(await (await contractRequester()).getAddress())]);
    const payTo = Wallet.createRandom().address;
    await send(requester, chain.wallets[8], 'attack', address, c.interface.encodeFunctionData('claim', [payTo]), '0x');
    expect(await chain.provider.getBalance(payTo)).toBe(PRICE * 2n);
    expect(await c.creditOf(requesterAddress)).toBe(0n);
    await expectRevert(c, chain.wallets[8], 'claim', [payTo], 'AIGCNothingToClaim');
    expect(await chain.provider.getBalance(address)).toBe(0n);
  });

  it('a receiver that burns all gas cannot make a refund cost more than the push allowance', async () => {
    const c = await newCollection(chain);
    const r = await requestMint(c, chain.wallets[2], 'x', PRICE, chain.wallets[2].address);
    // Requester's address becomes code that loops forever.
    await chain.provider.send('anvil_setCode', [chain.wallets[2].address, '0x5b600056']); // JUMPDEST PUSH1 0 JUMP
    const receipt = await send(c, chain.operator, 'reject', r.requestId, requestStruct(r), 2);
    expect(receipt.gasUsed).toBeLessThan(140_000n);
    expect(await c.creditOf(chain.wallets[2].address)).toBe(PRICE);
    await chain.provider.send('anvil_setCode', [chain.wallets[2].address, '0x']);
  });
});

describe('3. earnings go to a payee the owner names, and survive the key', () => {
  it('anyone can trigger withdraw(signer); the payee is paid; a payee change never redirects earned money', async () => {
    const c = await newCollection(chain);
    const address = await c.getAddress();
    const teeKey = Wallet.createRandom(); // made anew at every start, as a TEE key is
    const payee = Wallet.createRandom().address;
    await send(c, chain.owner, 'setSigner', teeKey.address, SignerKind.TEE, hexlify(randomBytes(32)), payee);
    expect((await c.signerInfo(teeKey.address))[3]).toBe(payee);
    const r = await requestMint(c, chain.wallets[2]);
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r, teeKey, { collection: address }));
    // The key is gone (restart); anyone calls withdraw for it; the payee gets the money.
    const receipt = await send(c, chain.wallets[10], 'withdraw', teeKey.address);
    expect(events(c, receipt).map((e) => [e.name, e.args.signer, e.args.payee, e.args.amount])).toEqual([['EarningsWithdrawn', teeKey.address, payee, PRICE]]);
    expect(await chain.provider.getBalance(payee)).toBe(PRICE);
    // Item 9: nothing to withdraw is an error, not an empty event.
    await expectRevert(c, chain.wallets[10], 'withdraw', [teeKey.address], 'AIGCNothingToWithdraw');

    // Earnings accrued for payee A stay A's when the owner changes the payee to B.
    const r2 = await requestMint(c, chain.wallets[3]);
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r2, teeKey, { collection: address }));
    const b = Wallet.createRandom().address;
    await send(c, chain.owner, 'setSigner', teeKey.address, SignerKind.TEE, ZeroHash, b);
    expect(await c.creditOf(payee)).toBe(PRICE);
    expect((await c.signerInfo(teeKey.address))[1]).toBe(0n);
    const r3 = await requestMint(c, chain.wallets[4]);
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r3, teeKey, { collection: address }));
    await send(c, chain.wallets[10], 'withdraw', teeKey.address);
    expect(await chain.provider.getBalance(b)).toBe(PRICE);
    expect(await chain.provider.getBalance(address)).toBe(PRICE); // A's credit, waiting for A's claim
    await expectRevert(c, chain.wallets[2], 'claim', [ZeroAddress], 'AIGCInvalidClaimTarget');

    // Naming the signer itself as payee, where none was set, changes nobody's money.
    const r4 = await requestMint(c, chain.wallets[5]);
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r4, chain.operator, { collection: address }));
    const earned = (await c.signerInfo(chain.operator.address))[1];
    await send(c, chain.owner, 'setSigner', chain.operator.address, SignerKind.OPERATOR, ZeroHash, chain.operator.address);
    expect((await c.signerInfo(chain.operator.address))[1]).toBe(earned);
    expect(await c.creditOf(chain.operator.address)).toBe(0n);
  });
});

describe('4. the wallet-limit count is always right, and nobody exhausts another’s limit', () => {
  it('turning the limit on and off with requests open never underflows or locks a wallet out', async () => {
    const c = await newCollection(chain, { walletLimit: 0, mint: { refundDelay: 60 } });
    const config = (await c.mintConfig())[0].toObject();
    const w = chain.wallets[2];
    const before = await requestMint(c, w); // made without a limit: not counted
    expect(before.counted).toBe(0);
    await send(c, chain.owner, 'setMintConfig', config, 2);
    const during = await requestMint(c, w); // counted against the payer
    expect(during.counted).toBe(1);
    expect(await c.requestsOf(w.address)).toBe(1n);
    await send(c, chain.owner, 'setMintConfig', config, 0);
    await send(c, chain.operator, 'reject', during.requestId, requestStruct(during), 1);
    await send(c, chain.operator, 'reject', before.requestId, requestStruct(before), 1); // v1 underflowed here
    expect(await c.requestsOf(w.address)).toBe(0n);
    await send(c, chain.owner, 'setMintConfig', config, 1);
    await requestMint(c, w); // not locked out
    await expectRevert(c, w, 'requestMint', [toUtf8Bytes('x')], 'AIGCWalletLimit', PRICE);
  });

  it('a third party paying for someone uses its own limit; the operator sponsoring uses the recipient’s', async () => {
    const c = await newCollection(chain, { walletLimit: 1 });
    const victim = chain.wallets[2];
    const griefer = chain.wallets[3];
    const gift = await requestMint(c, griefer, 'gift', PRICE, victim.address);
    expect(gift.counted).toBe(1); // the payer's count
    expect(await c.requestsOf(victim.address)).toBe(0n);
    await requestMint(c, victim); // the victim's own place is still free
    await expectRevert(c, griefer, 'requestMintFor', [victim.address, toUtf8Bytes('again')], 'AIGCWalletLimit', PRICE);
    const other = chain.wallets[4];
    const sponsored = await requestMint(c, chain.operator, 'sponsored', PRICE, other.address);
    expect(sponsored.counted).toBe(2); // the recipient's count
    expect(await c.requestsOf(other.address)).toBe(1n);
    expect(await c.requestsOf(chain.operator.address)).toBe(0n);
    await expectRevert(c, other, 'requestMint', [toUtf8Bytes('x')], 'AIGCWalletLimit', PRICE);
  });
});

describe('5 and 6. deadlines are fixed at request time, and fulfil and refund never overlap', () => {
  it('a later refundDelay change moves no open request; fulfil before the deadline only, refund from it only', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 600 } });
    const [config] = await c.mintConfig();
    const r = await requestMint(c, chain.wallets[2]);
    const block = await chain.provider.getBlock(r.blockNumber);
    expect(r.deadline).toBe(BigInt(block!.timestamp + 600));
    // The owner tries to freeze escrow, then to make everything refundable at once: neither reaches r.
    await send(c, chain.owner, 'setMintConfig', { ...config.toObject(), refundDelay: 30 * 24 * 3600 }, 0);
    await expectRevert(c, chain.owner, 'setMintConfig', [{ ...config.toObject(), refundDelay: 100 * 365 * 24 * 3600 }, 0], 'AIGCInvalidConfig');
    await send(c, chain.owner, 'setMintConfig', { ...config.toObject(), refundDelay: 60 }, 0);
    await expectRevert(c, chain.wallets[9], 'refund', [r.requestId, requestStruct(r)], 'AIGCRefundTooEarly');
    const signed = await signedFulfillment(r, chain.operator, { collection: await c.getAddress() });
    await advanceTime(chain.provider, 601);
    // The deadline has come: the image may be public, but the fulfilment is refused and the refund goes through.
    await expectRevert(c, chain.wallets[9], 'fulfill', [signed], 'AIGCRequestExpired');
    const batch = events(c, await send(c, chain.wallets[9], 'fulfillBatch', [signed]));
    expect(batch.map((e) => [e.name, e.args.reason])).toEqual([['FulfillSkipped', c.interface.getError('AIGCRequestExpired')!.selector]]);
    await send(c, chain.wallets[9], 'refund', r.requestId, requestStruct(r));
  });
});

describe('7. verify is true only for the values minted, and survives a routine key rotation', () => {
  it('another authorised signer re-signing other values for a minted token does not verify; NONE keeps, COMPROMISED drops', async () => {
    const c = await newCollection(chain);
    const address = await c.getAddress();
    const prompt = 'a heron in fog';
    const r = await requestMint(c, chain.wallets[2], prompt);
    const f = await signedFulfillment(r, chain.operator, { collection: address });
    await send(c, chain.wallets[9], 'fulfill', f);
    const aigcData = (seed: string, model: string, image: string) => coder.encode(['uint256', 'bytes32', 'bytes32', 'bytes32', 'bytes32'], [r.requestId, seed, model, image, f.manifestId]);
    const real = aigcData(r.seed, f.modelHash, f.imageSha256);
    expect(await c.verify(toUtf8Bytes(prompt), real, f.signature)).toBe(true);

    // A second authorised signer signs a different prompt / model / image / seed for the same token and manifest.
    const other = Wallet.createRandom();
    await send(c, chain.owner, 'setSigner', other.address, SignerKind.OPERATOR, ZeroHash, ZeroAddress);
    const forge = async (o: { promptHash?: string; modelHash?: string; imageSha256?: string; seed?: string }) =>
      (await signedFulfillment(r, other, { collection: address, manifestId: f.manifestId, imageSha256: f.imageSha256, modelHash: f.modelHash, ...o })).signature;
    const otherPrompt = 'a heron in sunshine';
    expect(await c.verify(toUtf8Bytes(otherPrompt), real, await forge({ promptHash: keccak256(toUtf8Bytes(otherPrompt)) }))).toBe(false);
    const model = hexlify(randomBytes(32));
    expect(await c.verify(toUtf8Bytes(prompt), aigcData(r.seed, model, f.imageSha256), await forge({ modelHash: model }))).toBe(false);
    const image = hexlify(randomBytes(32));
    expect(await c.verify(toUtf8Bytes(prompt), aigcData(r.seed, f.modelHash, image), await forge({ imageSha256: image }))).toBe(false);
    const seed = hexlify(randomBytes(32));
    expect(await c.verify(toUtf8Bytes(prompt), aigcData(seed, f.modelHash, f.imageSha256), await forge({ seed }))).toBe(false);
    // Even the same values signed by the other key: the commitment names the key that minted.
    expect(await c.verify(toUtf8Bytes(prompt), real, await forge({}))).toBe(false);
    // addAigcData cannot emit any of them.
    await expectRevert(c, chain.wallets[9], 'addAigcData', [r.requestId, toUtf8Bytes(otherPrompt), real, await forge({ promptHash: keccak256(toUtf8Bytes(otherPrompt)) })], 'AIGCInvalidAigcData');

    // Routine rotation: the key is retired (NONE); its tokens still verify.
    await send(c, chain.owner, 'setSigner', chain.operator.address, SignerKind.NONE, ZeroHash, ZeroAddress);
    expect(await c.verify(toUtf8Bytes(prompt), real, f.signature)).toBe(true);
    // A compromised key: every token it signed fails verify.
    await send(c, chain.owner, 'setSigner', chain.operator.address, SignerKind.COMPROMISED, ZeroHash, ZeroAddress);
    expect(await c.verify(toUtf8Bytes(prompt), real, f.signature)).toBe(false);
    // …and it can no longer act.
    await expectRevert(c, chain.operator, 'reject', [r.requestId, requestStruct(r), 1], 'AIGCUnauthorizedSigner');
    await send(c, chain.owner, 'setSigner', chain.operator.address, SignerKind.OPERATOR, ZeroHash, ZeroAddress);
  });
});

describe('8. the render seed is not the requester’s to choose', () => {
  it('the same sender, prompt and id give another render seed in another block', async () => {
    const { renderSeedOf } = await import('../../pipeline/chain/request');
    const c = await newCollection(chain);
    const snapshot = await chain.provider.send('evm_snapshot', []);
    const a = await requestMint(c, chain.wallets[2], 'same');
    await chain.provider.send('evm_revert', [snapshot]);
    await chain.provider.send('evm_mine', []); // the same transaction lands one block later
    const b = await requestMint(c, chain.wallets[2], 'same');
    expect(a.requestId).toBe(b.requestId);
    expect(a.blockHash).not.toBe(b.blockHash);
    expect(renderSeedOf(a)).not.toBe(renderSeedOf(b));
    expect(renderSeedOf(a)).toBe(keccak256(coder.encode(['bytes32', 'bytes32'], [a.seed, a.blockHash])));
  });
});

describe('9. smaller fixes', () => {
  it('royalty is capped and announced; a receiver with 0 bps or bps without a receiver is refused', async () => {
    const c = await newCollection(chain, { royaltyBps: 1_000, royaltyReceiver: chain.wallets[7].address });
    expect(await c.royaltyInfo(1, 10_000n)).toEqual([chain.wallets[7].address, 1_000n]);
    await expectRevert(c, chain.owner, 'setRoyalty', [chain.wallets[7].address, 1_001], 'AIGCInvalidRoyalty');
    await expectRevert(c, chain.owner, 'setRoyalty', [chain.wallets[7].address, 0], 'AIGCInvalidRoyalty');
    await expectRevert(c, chain.owner, 'setRoyalty', [ZeroAddress, 100], 'AIGCInvalidRoyalty');
    const set = events(c, await send(c, chain.owner, 'setRoyalty', chain.wallets[8].address, 250));
    expect(set.map((e) => [e.name, e.args.receiver, e.args.bps])).toEqual([['RoyaltySet', chain.wallets[8].address, 250n]]);
    await send(c, chain.owner, 'setRoyalty', ZeroAddress, 0); // off
    expect(await c.royaltyInfo(1, 10_000n)).toEqual([ZeroAddress, 0n]);
    await expect(newCollection(chain, { royaltyBps: 0, royaltyReceiver: chain.wallets[7].address })).rejects.toThrow();
  });

  it('ending events name the recipient; a mint emits no MetadataUpdate', async () => {
    const c = await newCollection(chain);
    const r = await requestMint(c, chain.wallets[2], 'x', PRICE, chain.wallets[3].address);
    const [rejected] = events(c, await send(c, chain.operator, 'reject', r.requestId, requestStruct(r), 1));
    expect([rejected.args.requester, rejected.args.recipient]).toEqual([chain.wallets[2].address, chain.wallets[3].address]);
    const r2 = await requestMint(c, chain.wallets[4]);
    const minted = events(c, await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r2, chain.operator, { collection: await c.getAddress() })));
    expect(minted.map((e) => e.name)).toEqual(['Transfer', 'MintFulfilled', 'AigcData']);
  });

  it('ERC-7572 contractURI is set at creation and changed by the owner only, announced', async () => {
    const id = hexlify(randomBytes(32));
    const c = await newCollection(chain, { contractManifest: id });
    expect(await c.contractURI()).toBe(`ar://${Buffer.from(getBytes(id)).toString('base64url')}`);
    await expectRevert(c, chain.wallets[2], 'setContractURI', [id], 'OwnableUnauthorizedAccount');
    const next = hexlify(randomBytes(32));
    expect(events(c, await send(c, chain.owner, 'setContractURI', next)).map((e) => e.name)).toEqual(['ContractURIUpdated']);
    expect(await c.contractURI()).toBe(`ar://${Buffer.from(getBytes(next)).toString('base64url')}`);
    expect(await (await newCollection(chain)).contractURI()).toBe('');
  });

  it('the request key the node computes is what the contract stores', async () => {
    const c = await newCollection(chain);
    const r = await requestMint(c, chain.wallets[2]);
    expect(await c.isPending(r.requestId, requestStruct(r))).toBe(true);
    expect(requestKey(r)).toBe(keccak256(coder.encode([REQUEST], [requestStruct(r)])));
  });
});

describe('10. chains without Cancun opcodes are refused before deploying', () => {
  it('deployFactory on a Shanghai chain fails with CHAIN_UNSUPPORTED, and nothing is deployed', async () => {
    const old = await startAnvil({ accounts: 1, hardfork: 'shanghai' });
    const provider = createProvider(old.rpcUrl, 50);
    try {
      const deployer = new Wallet(old.privateKeys[0], provider);
      await expect(deployFactory(deployer)).rejects.toMatchObject({ code: 'CHAIN_UNSUPPORTED' });
      expect(await provider.getTransactionCount(deployer.address)).toBe(0);
    } finally {
      provider.destroy();
      await old.stop();
    }
  });
});
