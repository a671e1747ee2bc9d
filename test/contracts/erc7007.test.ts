import { AbiCoder, type Contract, type EventLog, getBytes, hexlify, keccak256, toUtf8Bytes } from 'ethers';
import { type ChainFixture, newCollection, send, signedFulfillment, startChain } from '../helpers/collection';
import { requestMint } from '../helpers/mint';

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
  const r = await requestMint(c, chain.wallets[2], text);
  const f = await signedFulfillment(r, chain.operator, { collection: await c.getAddress() });
  const receipt = await send(c, chain.wallets[3], 'fulfill', f);
  const log = (receipt.logs as EventLog[]).find((l) => c.interface.parseLog(l)?.name === 'AigcData')!;
  const event = c.interface.parseLog(log)!;
  prompt = hexlify(toUtf8Bytes(text));
  // ERC-7007 Final: AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof).
  // aigcData is rebuilt from the fulfilment (the request's seed, then the signed hashes and the manifest id).
  aigcData = AbiCoder.defaultAbiCoder().encode(['uint256', 'bytes32', 'bytes32', 'bytes32', 'bytes32'], [r.requestId, r.seed, f.modelHash, f.imageSha256, f.manifestId]);
  proof = event.args.proof;
  tokenId = event.args.tokenId;
  expect(proof).toBe(f.signature);
  expect(c.interface.getEvent('AigcData')!.format('sighash')).toBe('AigcData(uint256,bytes,bytes,bytes)');
  expect(c.interface.getEvent('AigcData')!.inputs.map((i) => i.indexed)).toEqual([true, true, true, false]);
  // Indexed `bytes` topics are keccak256 of the values.
  expect(log.topics[2]).toBe(r.promptHash);
  expect(event.args.prompt.hash).toBe(r.promptHash);
  expect(log.topics[3]).toBe(keccak256(aigcData));
  expect(event.args.aigcData.hash).toBe(keccak256(aigcData));
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
    for (let i = 0; i < getBytes(proof).length; i++) expect(await c.verify(prompt, aigcData, flip(proof, i))).toBe(false);
    expect(await c.verify(prompt, `${aigcData}00`, proof)).toBe(false);
    expect(await c.verify(prompt, aigcData, '0x')).toBe(false);
  });

  it('addAigcData re-emits the data with the full prompt only when it verifies', async () => {
    const receipt = await send(c, chain.wallets[3], 'addAigcData', tokenId, prompt, aigcData, proof);
    expect(c.interface.parseLog(receipt.logs[0])!.name).toBe('AigcData');
    expect(receipt.logs[0].topics[3]).toBe(keccak256(aigcData));
    await expect((c.connect(chain.wallets[3]) as Contract).addAigcData.staticCall(tokenId, flip(prompt, 0), aigcData, proof)).rejects.toMatchObject({
      revert: { name: 'AIGCInvalidAigcData' },
    });
    await expect((c.connect(chain.wallets[3]) as Contract).addAigcData.staticCall(tokenId + 1n, prompt, aigcData, proof)).rejects.toMatchObject({
      revert: { name: 'AIGCInvalidAigcData' },
    });
  });
});
