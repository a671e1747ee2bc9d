import { type Contract, ContractFactory, toUtf8Bytes } from 'ethers';
import { requestStruct } from '../../pipeline/chain/request';
import { parseMintRequested } from '../../pipeline/chain/request';
import { abi, bytecode } from '../artifacts/Reentrant';
import { advanceTime, type ChainFixture, newCollection, PRICE, send, signedFulfillment, startChain } from '../helpers/collection';

let chain: ChainFixture;
beforeAll(async () => {
  chain = await startChain();
});
afterAll(() => chain?.stop());

async function deployAttacker(): Promise<Contract> {
  const attacker = await new ContractFactory(abi, bytecode, chain.wallets[8]).deploy();
  await attacker.waitForDeployment();
  return attacker as unknown as Contract;
}

describe('reentrancy', () => {
  it('a requester contract re-entering refund on receipt gets one refund, not two', async () => {
    const c = await newCollection(chain, { mint: { refundDelay: 60 } });
    const address = await c.getAddress();
    const attacker = await deployAttacker();
    const attackerAddress = await attacker.getAddress();
    const mint = c.interface.encodeFunctionData('requestMint', [toUtf8Bytes('attack')]);
    const requests = [];
    for (let i = 0; i < 2; i++) {
      const receipt = await send(attacker, chain.wallets[8], 'attack', address, mint, '0x', { value: PRICE });
      requests.push(parseMintRequested(receipt.logs.find((l) => l.address === address)!));
    }
    expect(requests.map((r) => r.requester)).toEqual([attackerAddress, attackerAddress]);
    await advanceTime(chain.provider, 61);

    // Refund #1 to the attacker; in receive() it tries to refund #2 within the same call.
    const [r1, r2] = requests;
    const reenter = c.interface.encodeFunctionData('refund', [r2.requestId, requestStruct(r2)]);
    const first = c.interface.encodeFunctionData('refund', [r1.requestId, requestStruct(r1)]);
    await send(attacker, chain.wallets[8], 'attack', address, first, reenter);
    expect(await attacker.reentered()).toBe(true);
    expect(await attacker.reentrySucceeded()).toBe(false);
    expect(c.interface.parseError(await attacker.reentryError())!.name).toBe('ReentrancyGuardReentrantCall');
    expect(await attacker.received()).toBe(PRICE);
    expect(await chain.provider.getBalance(address)).toBe(PRICE); // #2 still in escrow
    // #2 is still open and refundable normally, exactly once.
    await send(c, chain.wallets[9], 'refund', r2.requestId, requestStruct(r2));
    expect(await attacker.received()).toBe(PRICE * 2n);
    expect(await chain.provider.getBalance(address)).toBe(0n);
  });

  it('an operator whose address runs code that re-enters withdraw is paid once', async () => {
    const c = await newCollection(chain);
    const address = await c.getAddress();
    const collector = chain.wallets[2];
    for (let i = 0; i < 2; i++) {
      const receipt = await send(c, collector, 'requestMint', toUtf8Bytes(`p${i}`), { value: PRICE });
      const r = parseMintRequested(receipt.logs[0]);
      await send(c, chain.wallets[9], 'fulfill', await signedFulfillment(r, chain.operator, { collection: address }));
    }
    expect((await c.signerInfo(chain.operator.address))[1]).toBe(PRICE * 2n);

    // Turn the operator's address into the attacker (as an EIP-7702 delegation or a compromised payee would).
    const attacker = await deployAttacker();
    const code = await chain.provider.getCode(await attacker.getAddress());
    await chain.provider.send('anvil_setCode', [chain.operator.address, code]);
    const asOperator = attacker.attach(chain.operator.address) as Contract;
    const withdraw = c.interface.encodeFunctionData('withdraw', [chain.operator.address]);
    await send(asOperator, chain.wallets[8], 'attack', address, withdraw, withdraw);

    expect(await asOperator.reentered()).toBe(true);
    expect(await asOperator.reentrySucceeded()).toBe(false);
    expect(await asOperator.received()).toBe(PRICE * 2n);
    expect((await c.signerInfo(chain.operator.address))[1]).toBe(0n);
    expect(await chain.provider.getBalance(address)).toBe(0n);
    await chain.provider.send('anvil_setCode', [chain.operator.address, '0x']);
  });
});

describe('reentrancy on claim', () => {
  it('a credited contract re-entering claim from its receive is paid its credit once', async () => {
    const c = await newCollection(chain);
    const address = await c.getAddress();
    const attacker = await deployAttacker();
    const attackerAddress = await attacker.getAddress();
    const mint = c.interface.encodeFunctionData('requestMint', [toUtf8Bytes('credit me')]);
    const receipt = await send(attacker, chain.wallets[8], 'attack', address, mint, '0x', { value: PRICE });
    const r = parseMintRequested(receipt.logs.find((l) => l.address === address)!);
    // While its code refuses ether, a rejection credits it.
    const code = await chain.provider.getCode(attackerAddress);
    await chain.provider.send('anvil_setCode', [attackerAddress, '0x60006000fd']);
    await send(c, chain.operator, 'reject', r.requestId, requestStruct(r), 1);
    expect(await c.creditOf(attackerAddress)).toBe(PRICE);
    await chain.provider.send('anvil_setCode', [attackerAddress, code]);
    // claim(to = itself): receive() tries claim again within the same call.
    const claim = c.interface.encodeFunctionData('claim', [attackerAddress]);
    await send(attacker, chain.wallets[8], 'attack', address, claim, claim);
    expect(await attacker.reentered()).toBe(true);
    expect(await attacker.reentrySucceeded()).toBe(false);
    expect(c.interface.parseError(await attacker.reentryError())!.name).toBe('ReentrancyGuardReentrantCall');
    expect(await c.creditOf(attackerAddress)).toBe(0n);
    expect(await chain.provider.getBalance(address)).toBe(0n);
  });
});
