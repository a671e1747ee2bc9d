import { getAddress, Interface, keccak256, type Log, toBeHex, zeroPadValue } from 'ethers';
import { abi } from '../../../pipeline/chain/artifacts/AIGCCollection';
import { revertData, type Rpc, toHex } from './rpc';

/** The collection's ABI, from the contracts build (so the page cannot drift from the contract). */
export const collection = new Interface(abi);

/** A request as `MintRequested` states it: what `refund` takes back, and the deadline it may from. */
export type PageRequest = {
  requestId: bigint;
  requester: string;
  paid: bigint;
  recipient: string;
  deadline: bigint;
  counted: number;
  seed: string;
  promptHash: string;
  /** The prompt as UTF-8 text, and its raw bytes as hex (what the contract hashed). */
  prompt: string;
  promptHex: string;
  blockNumber: number;
  blockHash: string;
};

type RpcLog = { topics: string[]; data: string; blockNumber: string; blockHash: string; transactionHash: string };
const topic = (event: string) => collection.getEvent(event)!.topicHash;
const idTopic = (id: bigint) => zeroPadValue(toBeHex(id), 32);
const addressTopic = (a: string) => zeroPadValue(a.toLowerCase(), 32);

export function parseRequest(log: RpcLog): PageRequest {
  const e = collection.parseLog(log as unknown as Log)!;
  const prompt = e.args.prompt as string;
  return {
    requestId: e.args.requestId as bigint,
    requester: e.args.requester as string,
    paid: e.args.paid as bigint,
    recipient: e.args.recipient as string,
    deadline: e.args.deadline as bigint,
    counted: Number(e.args.counted),
    seed: e.args.seed as string,
    promptHash: keccak256(prompt),
    prompt: new TextDecoder().decode(hexBytes(prompt)),
    promptHex: prompt,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash,
  };
}

export const hexBytes = (hex: string) => Uint8Array.from((hex.slice(2).match(/../g) ?? []).map((b) => parseInt(b, 16)));

/** A view call; reverts decode to the contract's custom errors by the caller. */
export async function call(rpc: Rpc, to: string, fn: string, args: unknown[] = [], from?: string, value?: bigint): Promise<unknown[]> {
  const data = collection.encodeFunctionData(fn, args);
  const out = (await rpc.request({
    method: 'eth_call',
    params: [{ to, data, ...(from ? { from } : {}), ...(value !== undefined ? { value: toHex(value) } : {}) }, 'latest'],
  })) as string;
  return [...collection.decodeFunctionResult(fn, out)];
}

/** The contract error a failed call or transaction carries (`AIGCSoldOut`, `AIGCMintClosed`…), if any. */
export function contractError(error: unknown): { name: string; args: unknown[] } | undefined {
  const data = revertData(error);
  if (!data) return undefined;
  try {
    const parsed = collection.parseError(data);
    return parsed ? { name: parsed.name, args: [...parsed.args] } : undefined;
  } catch {
    return undefined;
  }
}

/** Logs of `event` of the collection filtered by its indexed `topics`, from `fromBlock`, in ranges a public RPC takes. */
export async function logs(rpc: Rpc, address: string, event: string, topics: (string | null)[], fromBlock: number): Promise<RpcLog[]> {
  const latest = Number(BigInt((await rpc.request({ method: 'eth_blockNumber' })) as string));
  const out: RpcLog[] = [];
  for (let start = fromBlock; start <= latest; start += 10_000) {
    out.push(
      ...((await rpc.request({
        method: 'eth_getLogs',
        params: [{ address, topics: [topic(event), ...topics], fromBlock: toHex(start), toBlock: toHex(Math.min(latest, start + 9_999)) }],
      })) as RpcLog[]),
    );
  }
  return out;
}

export const requestLogs = (rpc: Rpc, address: string, event: string, requestId: bigint, fromBlock: number) =>
  logs(rpc, address, event, [idTopic(requestId)], fromBlock);

/** Requests `account` paid for, and tokens sent to it. */
export const requestsBy = (rpc: Rpc, address: string, account: string, fromBlock: number) =>
  logs(rpc, address, 'MintRequested', [null, addressTopic(account)], fromBlock).then((l) => l.map(parseRequest));
export const transfersTo = (rpc: Rpc, address: string, account: string, fromBlock: number) =>
  logs(rpc, address, 'Transfer', [null, addressTopic(account)], fromBlock).then((l) => l.map((x) => BigInt(x.topics[3])));

/** How a request ended on chain, from its logs; undefined while it is open. */
export async function outcome(
  rpc: Rpc,
  address: string,
  requestId: bigint,
  fromBlock: number,
): Promise<{ kind: 'minted'; signer: string } | { kind: 'rejected'; reason: number } | { kind: 'refunded' } | undefined> {
  const [fulfilled] = await requestLogs(rpc, address, 'MintFulfilled', requestId, fromBlock);
  if (fulfilled) return { kind: 'minted', signer: getAddress(`0x${fulfilled.topics[2].slice(26)}`) };
  const [rejected] = await requestLogs(rpc, address, 'MintRejected', requestId, fromBlock);
  if (rejected) return { kind: 'rejected', reason: Number(collection.parseLog(rejected as unknown as Log)!.args.reason) };
  const [refunded] = await requestLogs(rpc, address, 'MintRefunded', requestId, fromBlock);
  return refunded ? { kind: 'refunded' } : undefined;
}

/** The struct `refund` takes: the request's preimage. */
export const requestStruct = (r: PageRequest) => [r.requester, r.paid, r.recipient, r.deadline, r.counted, r.seed, r.promptHash];

export async function latestBlock(rpc: Rpc): Promise<{ number: number; timestamp: number }> {
  const b = (await rpc.request({ method: 'eth_getBlockByNumber', params: ['latest', false] })) as { number: string; timestamp: string };
  return { number: Number(BigInt(b.number)), timestamp: Number(BigInt(b.timestamp)) };
}

/** Polls for a transaction's receipt. */
export async function waitForReceipt(
  rpc: Rpc,
  hash: string,
  pollMs = 1_000,
): Promise<{ status: string; logs: RpcLog[]; blockNumber: string; address?: string }> {
  for (;;) {
    const receipt = (await rpc.request({ method: 'eth_getTransactionReceipt', params: [hash] })) as {
      status: string;
      logs: (RpcLog & { address: string })[];
      blockNumber: string;
    } | null;
    if (receipt) return receipt;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export const MINT_REQUESTED = () => topic('MintRequested');
