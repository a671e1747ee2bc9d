import { AbiCoder, getAddress, type Interface, type ParamType } from 'ethers';
import { AigcError, errorMessage } from '../errors';

/** Solidity stores an indexed string, bytes, array or struct as the keccak256 of its encoding. */
const hashedWhenIndexed = (p: ParamType) => p.type === 'string' || p.type === 'bytes' || p.isArray() || p.isTuple();

/** Decodes one 32-byte ABI word (hex without `0x`) as ethers' coder would. */
type WordDecoder = (word: string) => unknown;

/**
 * A direct decoder for the one-word static types the collection's events use (uintN, address, bytesN, bool), or
 * undefined for anything else (left to ethers' coder). ethers builds a reader and a result object per value; a busy
 * node decodes several logs per request and this was its largest share of ABI work. Same results: uintN is masked to
 * N bits, an address with non-zero high bytes is refused, bytesN takes the word's first N bytes.
 */
function wordDecoder(p: ParamType): WordDecoder | undefined {
  const uint = /^uint(\d+)$/.exec(p.type);
  if (uint) {
    const mask = (1n << BigInt(uint[1])) - 1n;
    return (w) => BigInt(`0x${w}`) & mask;
  }
  if (p.type === 'address')
    return (w) => {
      if (!/^0{24}/.test(w)) throw new Error(`address word with non-zero high bytes: 0x${w}`);
      return getAddress(`0x${w.slice(24)}`);
    };
  if (p.type === 'bool') return (w) => BigInt(`0x${w}`) !== 0n;
  const bytes = /^bytes(\d+)$/.exec(p.type);
  if (bytes) return (w) => `0x${w.slice(0, 2 * Number(bytes[1])).toLowerCase()}`;
  return undefined;
}

const WORD = /^0x[0-9a-fA-F]{64}$/;

export type EventDecoder = {
  /** topics[0] of the event. */
  readonly topic: string;
  /**
   * The event's arguments by name, or undefined when `log` is another event. Throws `EVENT_INVALID` for a log under
   * this event's topic that is shaped otherwise (another contract's event with the same signature hash, or a
   * different ABI version): wrong topic count, data that does not decode.
   */
  decode(log: { topics: readonly string[]; data: string }): Record<string, unknown> | undefined;
};

/**
 * A decoder for one event of `iface`. ethers' `parseLog` looks the event up by re-hashing every event signature
 * of the ABI on each call (a fragment's topicHash is a getter); a busy node decodes several logs per request,
 * so the topic is hashed once here. Indexed arguments of dynamic type come back as their topic (a hash).
 *
 * @example
 * const minted = eventDecoder(collectionInterface, 'MintFulfilled');
 * const args = minted.decode(log); // { requestId: 1n, recipient: '0x…', … }
 */
export function eventDecoder(iface: Interface, name: string): EventDecoder {
  const fragment = iface.getEvent(name);
  if (!fragment) throw new Error(`the ABI has no event ${name}`);
  const topic = fragment.topicHash;
  const coder = AbiCoder.defaultAbiCoder();
  const indexed = fragment.inputs.filter((p) => p.indexed);
  const topicDecoders = indexed.map((p) => (hashedWhenIndexed(p) ? (w: string) => `0x${w}` : wordDecoder(p)));
  // ParamType objects, not type strings: ethers would parse the strings again on every decode.
  const plain = fragment.inputs.filter((p) => !p.indexed);
  const dataDecoders = plain.map(wordDecoder);
  const staticData = dataDecoders.every((d) => d !== undefined);
  return {
    topic,
    decode(log) {
      if (log.topics[0] !== topic) return undefined;
      if (log.topics.length !== indexed.length + 1)
        throw new AigcError('EVENT_INVALID', `${name} log with ${log.topics.length} topics; the event has ${indexed.length + 1}`);
      try {
        const args: Record<string, unknown> = {};
        indexed.forEach((p, i) => {
          const word = log.topics[i + 1];
          const direct = topicDecoders[i];
          if (!direct) args[p.name] = coder.decode([p], word)[0];
          else if (WORD.test(word)) args[p.name] = direct(word.slice(2));
          else throw new Error(`topic ${i + 1} is not one 32-byte word`);
        });
        if (staticData) {
          if (!/^0x[0-9a-fA-F]*$/.test(log.data) || log.data.length < 2 + 64 * plain.length)
            throw new Error(`data of ${(log.data.length - 2) / 2} bytes; the event has ${plain.length} words`);
          plain.forEach((p, i) => (args[p.name] = dataDecoders[i]!(log.data.slice(2 + 64 * i, 66 + 64 * i))));
        } else {
          const values = coder.decode(plain, log.data);
          plain.forEach((p, i) => (args[p.name] = values[i]));
        }
        return args;
      } catch (cause) {
        throw new AigcError('EVENT_INVALID', `${name} log whose data does not decode: ${errorMessage(cause).split('\n')[0]}`, { cause });
      }
    },
  };
}
