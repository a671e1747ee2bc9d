import { AbiCoder, keccak256, type Log, ParamType, toUtf8Bytes, toUtf8String, Utf8ErrorFuncs } from 'ethers';
import { promptProblem } from '../../protocol/prompt';
import { AigcError } from '../errors';
import { collectionInterface } from './collection';
import { eventDecoder } from './event-decoder';

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

/**
 * The seed that renders: keccak256(abi.encode(request seed, hash of the block that holds the request)). The requester
 * cannot know the block's hash when its transaction runs, so it cannot grind its address or timing for a seed.
 * `aigc verify` recomputes it from the chain.
 */
export function renderSeedOf(r: Pick<MintRequest | MintRequestJson, 'seed' | 'blockHash'>): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode([BYTES32, BYTES32], [r.seed, r.blockHash]));
}

/** The value the contract stores for a pending request: keccak256(abi.encode(Request)). Identifies it exactly. */
export function requestKey(r: MintRequest | MintRequestJson): string {
  const s = requestStruct(r);
  return keccak256(
    AbiCoder.defaultAbiCoder().encode([REQUEST_TUPLE], [[s.requester, s.paid, s.recipient, s.deadline, s.counted, s.seed, s.promptHash]]),
  );
}

/** `AIGCCollection.Request`, parsed once (ethers parses a type string on every encode). */
const REQUEST_TUPLE = ParamType.from('tuple(address,uint96,address,uint64,uint8,bytes32,bytes32)');
const BYTES32 = ParamType.from('bytes32');
