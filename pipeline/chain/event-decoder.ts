import { AbiCoder, type Interface, type ParamType } from 'ethers';
import { AigcError, errorMessage } from '../errors';

/** Solidity stores an indexed string, bytes, array or struct as the keccak256 of its encoding. */
const hashedWhenIndexed = (p: ParamType) => p.type === 'string' || p.type === 'bytes' || p.isArray() || p.isTuple();

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
  // ParamType objects, not type strings: ethers would parse the strings again on every decode.
  const plain = fragment.inputs.filter((p) => !p.indexed);
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
          args[p.name] = hashedWhenIndexed(p) ? word : coder.decode([p], word)[0];
        });
        const values = coder.decode(plain, log.data);
        plain.forEach((p, i) => (args[p.name] = values[i]));
        return args;
      } catch (cause) {
        throw new AigcError('EVENT_INVALID', `${name} log whose data does not decode: ${errorMessage(cause).split('\n')[0]}`, { cause });
      }
    },
  };
}
