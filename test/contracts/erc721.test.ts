import { AbiCoder, type Contract, ContractFactory, hexlify, type InterfaceAbi, randomBytes, toUtf8Bytes, type TransactionReceipt, type Wallet, ZeroAddress } from 'ethers';
import { parseMintRequested } from '../../pipeline/chain/request';
import * as Good from '../artifacts/GoodReceiver';
import * as Non from '../artifacts/NonReceiver';
import * as Reverting from '../artifacts/RevertingReceiver';
import * as Wrong from '../artifacts/WrongSelectorReceiver';
import { type ChainFixture, newCollection, PRICE, send, signedFulfillment, startChain } from '../helpers/collection';
import { requestMint } from '../helpers/mint';

// What marketplaces and wallets rely on from the collection's ERC-721 side: balances, owners, transfers and
// approvals, safe transfers and receiver checks, ERC-165 ids and metadata URIs.

let chain: ChainFixture;
let c: Contract;
let address: string;
let alice: Wallet;
let bob: Wallet;
let carol: Wallet;
let dave: Wallet;
/** Minted tokens: two owned by alice, one by bob. */
const tokens: { id: bigint; manifestId: string; prompt: string; seed: string; modelHash: string; imageSha256: string; signature: string }[] = [];
let pendingId: bigint; // a request that is open, not minted
let snapshot: string;

async function mint(to: Wallet, prompt: string) {
  const r = await requestMint(c, to, prompt);
  const f = await signedFulfillment(r, chain.operator, { collection: address });
  await send(c, chain.wallets[9], 'fulfill', f);
  tokens.push({ id: r.requestId, manifestId: f.manifestId, prompt, seed: r.seed, modelHash: f.modelHash, imageSha256: f.imageSha256, signature: f.signature });
}

async function deploy(artifact: { abi: unknown; bytecode: string }): Promise<Contract> {
  const contract = await new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode, chain.wallets[8]).deploy();
  while (!(await chain.provider.getTransactionReceipt(contract.deploymentTransaction()!.hash))) await new Promise((resolve) => setTimeout(resolve, 10));
  return contract as unknown as Contract;
}

/** The collection's events in `receipt`, as [name, ...args]. */
function events(receipt: TransactionReceipt) {
  return receipt.logs.flatMap((l) => {
    const e = c.interface.parseLog(l);
    return e ? [[e.name, ...e.args]] : [];
  });
}

/** Expects a state-changing call to revert (checked by a static call, which leaves nothing behind). */
async function refused(wallet: Wallet, method: string, args: unknown[], name?: string) {
  const call = (c.connect(wallet) as Contract).getFunction(method).staticCall(...args);
  if (name) await expect(call).rejects.toMatchObject({ revert: { name } });
  else await expect(call).rejects.toMatchObject({ code: 'CALL_EXCEPTION' });
}

const safe3 = 'safeTransferFrom(address,address,uint256)';
const safe4 = 'safeTransferFrom(address,address,uint256,bytes)';


beforeAll(async () => {
  chain = await startChain();
  [alice, bob, carol, dave] = chain.wallets.slice(2, 6);
  c = await newCollection(chain, { walletLimit: 5 });
  address = await c.getAddress();
  await mint(alice, 'first');
  await mint(alice, 'second');
  await mint(bob, 'third');
  pendingId = (await requestMint(c, carol, 'still open')).requestId;
});
afterAll(() => chain?.stop());
beforeEach(async () => {
  snapshot = await chain.provider.send('evm_snapshot', []);
});
afterEach(async () => {
  await chain.provider.send('evm_revert', [snapshot]);
});

describe('ERC-721: balances and owners', () => {
  it('balanceOf counts tokens only (not the wallet-limit count kept in the same slot) and refuses the zero address', async () => {
    expect(await c.balanceOf(alice.address)).toBe(2n);
    expect(await c.balanceOf(bob.address)).toBe(1n);
    // carol has an open request counted against her limit, and no token.
    expect(await c.requestsOf(carol.address)).toBe(1n);
    expect(await c.balanceOf(carol.address)).toBe(0n);
    expect(await c.requestsOf(alice.address)).toBe(2n);
    await expect(c.balanceOf(ZeroAddress)).rejects.toMatchObject({ revert: { name: 'BalanceQueryForZeroAddress' } });
  });

  it('ownerOf names the recipient of a minted token and reverts for an open request and an unknown id', async () => {
    expect(await c.ownerOf(tokens[0].id)).toBe(alice.address);
    expect(await c.ownerOf(tokens[2].id)).toBe(bob.address);
    for (const id of [pendingId, 999n, 0n]) await expect(c.ownerOf(id)).rejects.toMatchObject({ revert: { name: 'TokenDoesNotExist' } });
  });
});

describe('ERC-721: transfers and approvals', () => {
  it('transferFrom by the owner moves the token, updates balances and emits Transfer', async () => {
    const id = tokens[0].id;
    const receipt = await send(c, alice, 'transferFrom', alice.address, dave.address, id);
    expect(events(receipt)).toEqual([['Transfer', alice.address, dave.address, id]]);
    expect(await c.ownerOf(id)).toBe(dave.address);
    expect([await c.balanceOf(alice.address), await c.balanceOf(dave.address)]).toEqual([1n, 1n]);
    // The wallet-limit counts sit beside the balances and do not move with tokens.
    expect([await c.requestsOf(alice.address), await c.requestsOf(dave.address)]).toEqual([2n, 0n]);
  });

  it('a transfer keeps the token verifiable (the provenance commitment stays in the owner slot)', async () => {
    const t = tokens[1];
    const aigcData = AbiCoder.defaultAbiCoder().encode(['uint256', 'bytes32', 'bytes32', 'bytes32', 'bytes32'], [t.id, t.seed, t.modelHash, t.imageSha256, t.manifestId]);
    expect(await c.verify(toUtf8Bytes(t.prompt), aigcData, t.signature)).toBe(true);
    await send(c, alice, 'transferFrom', alice.address, dave.address, t.id);
    await send(c, dave, safe3, dave.address, bob.address, t.id);
    expect(await c.verify(toUtf8Bytes(t.prompt), aigcData, t.signature)).toBe(true);
  });

  it('an approved address may transfer once; the approval is cleared by the transfer', async () => {
    const id = tokens[0].id;
    expect(await c.getApproved(id)).toBe(ZeroAddress);
    const approval = await send(c, alice, 'approve', carol.address, id);
    expect(events(approval)).toEqual([['Approval', alice.address, carol.address, id]]);
    expect(await c.getApproved(id)).toBe(carol.address);
    const receipt = await send(c, carol, 'transferFrom', alice.address, dave.address, id);
    expect(events(receipt)).toEqual([['Transfer', alice.address, dave.address, id]]);
    expect(await c.ownerOf(id)).toBe(dave.address);
    expect(await c.getApproved(id)).toBe(ZeroAddress);
    await refused(carol, 'transferFrom', [dave.address, carol.address, id], 'NotOwnerNorApproved');
  });

  it('approve is refused to others than the owner or an operator, and getApproved reverts for an unknown id', async () => {
    await refused(bob, 'approve', [bob.address, tokens[0].id], 'NotOwnerNorApproved');
    await expect(c.getApproved(999n)).rejects.toMatchObject({ revert: { name: 'TokenDoesNotExist' } });
    // An operator may approve on the owner's behalf.
    await send(c, alice, 'setApprovalForAll', bob.address, true);
    await send(c, bob, 'approve', carol.address, tokens[0].id);
    expect(await c.getApproved(tokens[0].id)).toBe(carol.address);
  });

  it('an operator (setApprovalForAll) may transfer all of the owner tokens until revoked', async () => {
    const set = await send(c, alice, 'setApprovalForAll', carol.address, true);
    expect(events(set)).toEqual([['ApprovalForAll', alice.address, carol.address, true]]);
    expect(await c.isApprovedForAll(alice.address, carol.address)).toBe(true);
    await send(c, carol, 'transferFrom', alice.address, dave.address, tokens[0].id);
    expect(await c.ownerOf(tokens[0].id)).toBe(dave.address);
    const unset = await send(c, alice, 'setApprovalForAll', carol.address, false);
    expect(events(unset)).toEqual([['ApprovalForAll', alice.address, carol.address, false]]);
    expect(await c.isApprovedForAll(alice.address, carol.address)).toBe(false);
    await refused(carol, 'transferFrom', [alice.address, dave.address, tokens[1].id], 'NotOwnerNorApproved');
    // Another owner's tokens were never the operator's to move.
    await refused(carol, 'transferFrom', [bob.address, dave.address, tokens[2].id], 'NotOwnerNorApproved');
  });

  it('refuses ether sent with approve and the transfers (nothing could take it out again)', async () => {
    const before = await chain.provider.getBalance(address);
    await refused(alice, 'approve', [carol.address, tokens[0].id, { value: 1n }], 'AIGCUnexpectedValue');
    await refused(alice, 'transferFrom', [alice.address, dave.address, tokens[1].id, { value: 2n }], 'AIGCUnexpectedValue');
    await refused(bob, safe3, [bob.address, dave.address, tokens[2].id, { value: 3n }], 'AIGCUnexpectedValue');
    await refused(bob, 'safeTransferFrom(address,address,uint256,bytes)', [bob.address, dave.address, tokens[2].id, '0x01', { value: 4n }], 'AIGCUnexpectedValue');
    expect(await chain.provider.getBalance(address)).toBe(before);
  });

  it('refuses a transfer by a stranger, from a wrong owner, to the zero address, and of a non-existent token', async () => {
    const id = tokens[0].id;
    await refused(bob, 'transferFrom', [alice.address, bob.address, id], 'NotOwnerNorApproved');
    await refused(alice, 'transferFrom', [bob.address, dave.address, id], 'TransferFromIncorrectOwner');
    await refused(alice, 'transferFrom', [alice.address, ZeroAddress, id], 'TransferToZeroAddress');
    await refused(alice, 'transferFrom', [alice.address, dave.address, pendingId], 'TokenDoesNotExist');
    await refused(alice, safe3, [alice.address, bob.address, 999n], 'TokenDoesNotExist');
    expect(await c.ownerOf(id)).toBe(alice.address);
  });
});

describe('ERC-721: safe transfers', () => {
  it('safeTransferFrom (both overloads) to an EOA', async () => {
    const r1 = await send(c, alice, safe3, alice.address, dave.address, tokens[0].id);
    expect(events(r1)).toEqual([['Transfer', alice.address, dave.address, tokens[0].id]]);
    const r2 = await send(c, alice, safe4, alice.address, dave.address, tokens[1].id, '0xc0ffee');
    expect(events(r2)).toEqual([['Transfer', alice.address, dave.address, tokens[1].id]]);
    expect(await c.balanceOf(dave.address)).toBe(2n);
  });

  it('to a receiver contract, which is told the operator, the previous owner, the id and the data', async () => {
    const receiver = await deploy(Good);
    const to = await receiver.getAddress();
    await send(c, alice, safe3, alice.address, to, tokens[0].id);
    expect(await c.ownerOf(tokens[0].id)).toBe(to);
    expect([await receiver.lastOperator(), await receiver.lastFrom(), await receiver.lastTokenId(), await receiver.lastData()]).toEqual([alice.address, alice.address, tokens[0].id, '0x']);

    // Through an approved operator, with data: the operator is the caller, `from` the owner.
    await send(c, alice, 'setApprovalForAll', carol.address, true);
    const data = hexlify(randomBytes(70)); // longer than one word
    await send(c, carol, safe4, alice.address, to, tokens[1].id, data);
    expect([await receiver.lastOperator(), await receiver.lastFrom(), await receiver.lastTokenId(), await receiver.lastData()]).toEqual([carol.address, alice.address, tokens[1].id, data]);
    expect(await receiver.calls()).toBe(2n);
    expect(await c.balanceOf(to)).toBe(2n);
  });

  it('is refused to a receiver answering a wrong selector, to one that reverts (its error bubbles up) and to a contract without the function', async () => {
    const id = tokens[0].id;
    const wrong = await (await deploy(Wrong)).getAddress();
    const reverting = await deploy(Reverting);
    const none = await (await deploy(Non)).getAddress();
    for (const method of [safe3, safe4]) {
      const extra = method === safe4 ? ['0x01'] : [];
      await refused(alice, method, [alice.address, wrong, id, ...extra], 'TransferToNonERC721ReceiverImplementer');
      await refused(alice, method, [alice.address, none, id, ...extra], 'TransferToNonERC721ReceiverImplementer');
      const error = await (c.connect(alice) as Contract).getFunction(method).staticCall(alice.address, await reverting.getAddress(), id, ...extra).catch((e: { data?: string }) => e);
      expect(reverting.interface.parseError((error as { data: string }).data)).toMatchObject({ name: 'ReceiverRefused', args: [id] });
    }
    expect(await c.ownerOf(id)).toBe(alice.address);
    // A plain transferFrom does not ask the receiver: it succeeds, as ERC-721 specifies.
    await send(c, alice, 'transferFrom', alice.address, none, id);
    expect(await c.ownerOf(id)).toBe(none);
  });

  it('a fulfilment mints to a recipient contract without calling it (a refusing recipient cannot block a mint)', async () => {
    const none = await (await deploy(Non)).getAddress();
    const receipt = await send(c, dave, 'requestMintFor', none, toUtf8Bytes('for a contract'), { value: PRICE });
    const r = parseMintRequested(receipt.logs[0]);
    await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r, chain.operator, { collection: address }));
    expect(await c.ownerOf(r.requestId)).toBe(none);
  });
});

describe('ERC-721: ERC-165 and metadata', () => {
  it('supports ERC-165, ERC-721 and ERC-721 Metadata', async () => {
    for (const id of ['0x01ffc9a7', '0x80ac58cd', '0x5b5e139f']) expect(await c.supportsInterface(id)).toBe(true);
    for (const id of ['0xffffffff', '0x00000000', '0x780e9d63' /* ERC-721 Enumerable: not implemented */]) expect(await c.supportsInterface(id)).toBe(false);
  });

  it('name, symbol, and tokenURI = ar:// + base64url of the manifest id; tokenURI of a non-existent token reverts', async () => {
    expect(await c.name()).toBe('Genesis Dreams');
    expect(await c.symbol()).toBe('DREAM');
    for (const t of tokens) {
      const uri = `ar://${Buffer.from(t.manifestId.slice(2), 'hex').toString('base64url')}`;
      expect(uri).toMatch(/^ar:\/\/[A-Za-z0-9_-]{43}$/);
      expect(await c.tokenURI(t.id)).toBe(uri);
    }
    for (const id of [pendingId, 999n]) await expect(c.tokenURI(id)).rejects.toMatchObject({ revert: { name: 'TokenDoesNotExist' } });
  });
});
