import type { Redis } from 'ioredis';
import { type MintRequest, type MintRequestJson, requestToJson } from '../chain/request';

/** How long a request stays findable by its id alone: as long as its failed jobs are kept. */
export const REQUEST_INDEX_TTL_S = 30 * 24 * 3600;

export type RequestIndexParameters = { redis: Redis; prefix: string; chainId: number; collection: string };

const keyOf = ({ prefix, chainId, collection }: Omit<RequestIndexParameters, 'redis'>, requestId: bigint | string) =>
  `${prefix}:request:${chainId}:${collection.toLowerCase()}:${requestId}`;

/**
 * Remembers requests by their on-chain id. Job ids (`requestJobId`) need the whole request, which a caller that
 * only knows the id (`GET /v1/requests/:id`) does not have; this index gives it back without scanning logs.
 *
 * @example
 * await indexRequests({ redis, prefix: 'aigc', chainId, collection }, requests);
 */
export async function indexRequests({ redis, ...at }: RequestIndexParameters, requests: (MintRequest | MintRequestJson)[]): Promise<void> {
  if (!requests.length) return;
  const multi = redis.multi();
  for (const r of requests) {
    const json = typeof r.requestId === 'bigint' ? requestToJson(r as MintRequest) : (r as MintRequestJson);
    multi.set(keyOf(at, json.requestId), JSON.stringify(json), 'EX', REQUEST_INDEX_TTL_S);
  }
  await multi.exec();
}

/**
 * The request with this id, if it was indexed (and not expired).
 *
 * @example
 * const request = await findIndexedRequest({ redis, prefix: 'aigc', chainId, collection }, 7n);
 */
export async function findIndexedRequest(
  { redis, ...at }: RequestIndexParameters,
  requestId: bigint,
): Promise<MintRequestJson | undefined> {
  const raw = await redis.get(keyOf(at, requestId));
  return raw ? (JSON.parse(raw) as MintRequestJson) : undefined;
}
