import { keccak256, type Log, toUtf8Bytes, toUtf8String, Utf8ErrorFuncs } from 'ethers';
import { promptProblem } from '../../protocol/prompt';
import { AigcError } from '../errors';
import { collectionInterface } from './collection';
import { eventDecoder } from './event-decoder';
import { addressWord, bytes32Word, uintWord } from './abi-words';

/** A mint request as emitted by `MintRequested`; together the fields form the preimage the contract stores. */
export type MintRequest = {
  requestId: bigint;
  /** Paid, and is refunded if the request fails. */
  requester: string;
  /** Receives the token (differs from `requester` for sponsored mints). */
  recipient: string;
  paid: bigint;
  /** Unix seconds: fulfil only before it, refund from it (fixed at request time). */
  deadline: bigint;
  /** Whose wallet-limit count holds it: 0 nobody (no limit was set), 1 the requester, 2 the recipient. */
  counted: number;
  /** The request seed the contract fixed (see `renderSeedOf` for the seed that renders). */
  seed: string;
  promptHash: string;
  /** The prompt bytes decoded as UTF-8 (invalid sequences become U+FFFD; `promptHash` covers the raw bytes). */
  prompt: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
};

/** The same request with bigints as decimal strings, for JSON job payloads. */
export type MintRequestJson = Omit<MintRequest, 'requestId' | 'paid' | 'deadline'> & {
  requestId: string;
  paid: string;
  deadline: string;
};

const mintRequested = eventDecoder(collectionInterface, 'MintRequested');
/** topics[0] of `MintRequested`. */
export const MINT_REQUESTED_TOPIC = mintRequested.topic;

/** Decodes a `MintRequested` log; throws `EVENT_INVALID` for anything else. */
export function parseMintRequested(
  log: Pick<Log, 'topics' | 'data' | 'index' | 'blockNumber' | 'blockHash' | 'transactionHash'>,
): MintRequest {
  const a = mintRequested.decode(log);
  if (!a) throw new AigcError('EVENT_INVALID', `log ${log.transactionHash}:${log.index} is not MintRequested`);
  return {
    requestId: a.requestId as bigint,
    requester: a.requester as string,
    recipient: a.recipient as string,
    paid: a.paid as bigint,
    deadline: a.deadline as bigint,
    counted: Number(a.counted),
    seed: a.seed as string,
    promptHash: keccak256(a.prompt as string),
    prompt: toUtf8String(a.prompt as string, Utf8ErrorFuncs.replace),
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
  };
}

export function requestToJson(r: MintRequest): MintRequestJson {
  return { ...r, requestId: r.requestId.toString(), paid: r.paid.toString(), deadline: r.deadline.toString() };
}

/**
 * The request's prompt as the render's input, or throws a permanent `INVALID_REQUEST` (the node then rejects the
 * request on chain with reason INVALID_PROMPT, refunding the requester) when the Web2 API would have refused it:
 * bytes that are not valid UTF-8 (the decoded text no longer hashes to `promptHash`), or no visible text once
 * normalised (`protocol/prompt.ts`, the policy of both doors). The contract only checks the byte length.
 *
 * @example
 * framePrompt(template.render, collectorPrompt(request), traits) // throws for a whitespace-only prompt
 */
export function collectorPrompt(r: Pick<MintRequest | MintRequestJson, 'prompt' | 'promptHash'>): string {
  const problem =
    keccak256(toUtf8Bytes(r.prompt)) !== r.promptHash ? 'the prompt bytes on chain are not valid UTF-8' : promptProblem(r.prompt);
  if (problem) throw new AigcError('INVALID_REQUEST', `prompt refused: ${problem}`, { retryable: false });
  return r.prompt;
}

/** The `Request` struct argument of `fulfill`, `reject` and `refund`. */
export function requestStruct(r: MintRequest | MintRequestJson) {
  return {
    requester: r.requester,
    paid: r.paid,
    recipient: r.recipient,
    deadline: r.deadline,
    counted: r.counted,
    seed: r.seed,
    promptHash: r.promptHash,
  };
}

export { renderSeedOf } from './render-seed';

/** The value the contract stores for a pending request: keccak256(abi.encode(Request)). Identifies it exactly. */
export function requestKey(r: MintRequest | MintRequestJson): string {
  return keccak256(`0x${requestWords(r)}`);
}

/**
 * `abi.encode(Request)` as hex without `0x`: seven static words (address, uint96, address, uint64, uint8, bytes32,
 * bytes32), written directly. The node encodes every request several times (its job id, `isPending` reads); through
 * ethers' ABI coder that was ~0.5 ms of CPU per request. A value outside its Solidity type throws rather than being
 * encoded as other bytes. `request.test.ts` holds it to ethers' encoding.
 */
export function requestWords(r: MintRequest | MintRequestJson): string {
  const paid = BigInt(r.paid);
  const deadline = BigInt(r.deadline);
  if (paid < 0n || paid >= 1n << 96n || deadline < 0n || deadline >= 1n << 64n || !(r.counted >= 0 && r.counted <= 255))
    throw new RangeError(`request ${r.requestId} has a field outside its Solidity type`);
  return (
    addressWord(r.requester) +
    uintWord(paid) +
    addressWord(r.recipient) +
    uintWord(deadline) +
    uintWord(BigInt(r.counted)) +
    bytes32Word(r.seed) +
    bytes32Word(r.promptHash)
  );
}
