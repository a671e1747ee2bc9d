import { getAddress, hexlify, Interface, keccak256, randomBytes, toUtf8Bytes, Wallet } from 'ethers';
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

  it("decodes every event the node reads exactly as ethers' parseLog does, for random values", () => {
    const random = (type: string) => {
      if (type === 'address') return getAddress(hexlify(randomBytes(20)));
      if (type.startsWith('uint')) return BigInt(hexlify(randomBytes(Number(type.slice(4)) / 8)));
      if (type.startsWith('bytes') && type !== 'bytes') return hexlify(randomBytes(Number(type.slice(5))));
      if (type === 'bytes') return hexlify(randomBytes(37));
      throw new Error(`unexpected ${type}`);
    };
    for (const name of ['MintRequested', 'MintFulfilled', 'FulfillSkipped', 'MintRejected', 'MintRefunded']) {
      const fragment = collectionInterface.getEvent(name)!;
      const decoder = eventDecoder(collectionInterface, name);
      for (let i = 0; i < 50; i++) {
        const log = collectionInterface.encodeEventLog(
          fragment,
          fragment.inputs.map((p) => random(p.type)),
        );
        const expected = collectionInterface.parseLog(log)!;
        const decoded = decoder.decode(log)!;
        for (const p of fragment.inputs) expect(decoded[p.name]).toEqual(expected.args.getValue(p.name));
      }
    }
  });

  it('refuses with EVENT_INVALID what ethers would refuse: short topics, addresses with high bytes, short data', () => {
    const fragment = collectionInterface.getEvent('MintFulfilled')!;
    const decoder = eventDecoder(collectionInterface, 'MintFulfilled');
    const log = collectionInterface.encodeEventLog(fragment, [
      7n,
      getAddress(hexlify(randomBytes(20))),
      hexlify(randomBytes(32)),
      hexlify(randomBytes(32)),
      hexlify(randomBytes(32)),
    ]);
    const bad = (patch: Partial<typeof log>) => () => decoder.decode({ ...log, ...patch });
    expect(bad({ topics: [log.topics[0], '0x07', log.topics[2]] })).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
    expect(bad({ topics: [log.topics[0], log.topics[1], `0x01${log.topics[2].slice(4)}`] })).toThrow(
      expect.objectContaining({ code: 'EVENT_INVALID' }),
    );
    expect(bad({ data: log.data.slice(0, -2) })).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
    expect(bad({ data: `${log.data.slice(0, -2)}zz` })).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
  });
});
