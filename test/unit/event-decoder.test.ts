import { Interface, keccak256, toUtf8Bytes, Wallet } from 'ethers';
import { collectionInterface } from '../../pipeline/chain/collection';
import { eventDecoder } from '../../pipeline/chain/event-decoder';

describe('eventDecoder', () => {
  it("decodes MintRequested as ethers' parseLog does", () => {
    const fragment = collectionInterface.getEvent('MintRequested')!;
    const values = fragment.inputs.map((p) => {
      if (p.type === 'address') return Wallet.createRandom().address;
      if (p.type === 'uint8') return 2n;
      if (p.type.startsWith('uint')) return 123456789n;
      if (p.type === 'bytes32') return keccak256(toUtf8Bytes(p.name));
      if (p.type === 'bytes') return '0x6c69676874686f757365';
      throw new Error(`unexpected ${p.type}`);
    });
    const log = collectionInterface.encodeEventLog(fragment, values);
    const expected = collectionInterface.parseLog(log)!;
    const decoded = eventDecoder(collectionInterface, 'MintRequested').decode(log)!;
    for (const p of fragment.inputs) expect(decoded[p.name]).toEqual(expected.args.getValue(p.name));
  });

  it('returns undefined for another event and gives indexed dynamic values as their hash', () => {
    const iface = new Interface(['event Named(string indexed name, uint256 n)', 'event Other(uint256 n)']);
    const named = eventDecoder(iface, 'Named');
    const log = iface.encodeEventLog('Named', ['fox', 7n]);
    expect(named.decode(log)).toEqual({ name: keccak256(toUtf8Bytes('fox')), n: 7n });
    expect(named.decode(iface.encodeEventLog('Other', [7n]))).toBeUndefined();
    expect(() => eventDecoder(iface, 'Missing')).toThrow(/no event Missing/);
  });
});
