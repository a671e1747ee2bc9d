import { AbiCoder, keccak256, toUtf8Bytes } from 'ethers';
import { type MintRequest, requestKey } from '../../pipeline/chain/request';
import { requestJobId } from '../../pipeline/queue/jobs';
import { newCollection, PRICE, startChain, type ChainFixture } from '../helpers/collection';
import { requestMint } from '../helpers/mint';

let chain: ChainFixture;
beforeAll(async () => {
  chain = await startChain(4);
});
afterAll(() => chain?.stop());

describe('request identity', () => {
  it('requestKey equals what the contract stores as pending', async () => {
    const c = await newCollection(chain);
    const r = await requestMint(c, chain.wallets[2], 'a kite over dunes');
    const slot = await c.isPending(r.requestId, { requester: r.requester, paid: r.paid, recipient: r.recipient, deadline: r.deadline, counted: r.counted, seed: r.seed, promptHash: r.promptHash });
    expect(slot).toBe(true);
    // _slots sits at storage slot 7, after _config, _state, the royalty, _pendingOwner, _contractManifest, _name and
    // _symbol (Solady's ERC-721 keeps its data at hashed slots).
    const position = keccak256(AbiCoder.defaultAbiCoder().encode(['uint256', 'uint256'], [r.requestId, 7]));
    expect(await chain.provider.getStorage(await c.getAddress(), position)).toBe(requestKey(r));
    // The contract's key is keccak256(abi.encode(Request)); a changed field gives another key and job id.
    const other: MintRequest = { ...r, promptHash: keccak256(toUtf8Bytes('another prompt')) };
    expect(requestKey(other)).not.toBe(requestKey(r));
    expect(requestJobId(31337, await c.getAddress(), other)).not.toBe(requestJobId(31337, await c.getAddress(), r));
    expect(requestJobId(31337, await c.getAddress(), r)).toMatch(/^31337-0x[0-9a-f]{40}-1-[0-9a-f]{16}$/);
    // The same request in another block renders with another seed: another job.
    expect(requestJobId(31337, await c.getAddress(), { ...r, blockHash: keccak256('0x01') })).not.toBe(requestJobId(31337, await c.getAddress(), r));
    expect(PRICE).toBe(r.paid);
  });
});
