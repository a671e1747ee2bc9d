import { type Contract, type EventLog, getBytes, hexlify, toUtf8Bytes } from 'ethers';
import { type ChainFixture, newCollection, request, send, signedFulfillment, startChain } from '../helpers/collection';

let chain: ChainFixture;
let c: Contract;
let prompt: string;
let aigcData: string;
let proof: string;
let tokenId: bigint;

beforeAll(async () => {
  chain = await startChain(4);
  c = await newCollection(chain);
  const text = 'a paper crane on a rainy windowsill ☔';
  const r = await request(c, chain.wallets[2], text);
  const receipt = await send(c, chain.wallets[3], 'fulfill', await signedFulfillment(r, chain.operator, { collection: await c.getAddress() }));
  const log = (receipt.logs as EventLog[]).find((l) => c.interface.parseLog(l)?.name === 'AigcData')!;
  const event = c.interface.parseLog(log)!;
  prompt = hexlify(toUtf8Bytes(text));
  aigcData = event.args.aigcData;
  proof = event.args.proof;
  tokenId = event.args.tokenId;
  // The indexed prompt topic is keccak256(prompt), as an indexed `bytes` must be.
  expect(log.topics[2]).toBe(r.promptHash);
  expect(event.args.prompt.hash).toBe(r.promptHash);
});
afterAll(() => chain?.stop());

function flip(hex: string, byte: number): string {
  const bytes = getBytes(hex);
  bytes[byte] ^= 0x01;
  return hexlify(bytes);
}

describe('ERC-7007 verify', () => {
  it('is true for a real fulfilment', async () => {
    expect(tokenId).toBe(1n);
    expect(await c.verify(prompt, aigcData, proof)).toBe(true);
  });

  it('is false if any byte of prompt, aigcData or proof changes', async () => {
    for (let i = 0; i < getBytes(prompt).length; i++) expect(await c.verify(flip(prompt, i), aigcData, proof)).toBe(false);
    for (let i = 0; i < 160; i++) expect(await c.verify(prompt, flip(aigcData, i), proof)).toBe(false);
    for (let i = 0; i < 65; i++) expect(await c.verify(prompt, aigcData, flip(proof, i))).toBe(false);
    expect(await c.verify(prompt, `${aigcData}00`, proof)).toBe(false);
    expect(await c.verify(prompt, aigcData, '0x')).toBe(false);
  });

  it('addAigcData re-emits the data with the full prompt only when it verifies', async () => {
    const receipt = await send(c, chain.wallets[3], 'addAigcData', tokenId, prompt, aigcData, proof);
    expect(c.interface.parseLog(receipt.logs[0])!.name).toBe('AigcData');
    await expect((c.connect(chain.wallets[3]) as Contract).addAigcData.staticCall(tokenId, flip(prompt, 0), aigcData, proof)).rejects.toMatchObject({
      revert: { name: 'AIGCInvalidAigcData' },
    });
    await expect((c.connect(chain.wallets[3]) as Contract).addAigcData.staticCall(tokenId + 1n, prompt, aigcData, proof)).rejects.toMatchObject({
      revert: { name: 'AIGCInvalidAigcData' },
    });
  });
});
