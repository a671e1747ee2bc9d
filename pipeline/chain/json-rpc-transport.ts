import { JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult, type Networkish } from 'ethers';
import type { JsonRpcApiProviderOptions } from 'ethers';
import { createHttpClient, type HttpClient } from '../net/http-client';

/** Answers 429 (a hosted endpoint's throttle) are sent again this many times, waiting as asked. */
const THROTTLE_RETRIES = 5;

/**
 * ethers' JSON-RPC provider with its transport swapped for the node's HTTP client. ethers builds a `FetchRequest` per
 * call (URL parsing, header maps, body re-encoding, its own response object): ~0.5 ms of CPU per call here, for every
 * read and write of a busy node. Everything above the transport (formatting, errors, batching options) is ethers'.
 * Like ethers, a 429 is retried with back-off (the endpoint's `Retry-After` when it gives one).
 */
export class NodeJsonRpcProvider extends JsonRpcProvider {
  readonly #http: HttpClient;

  constructor(url: string, network?: Networkish, options?: JsonRpcApiProviderOptions) {
    super(url, network, options);
    this.#http = createHttpClient({ baseUrl: url, name: 'JSON-RPC endpoint', errorCode: 'CHAIN_FAILED', timeoutMs: 120_000 });
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const body = JSON.stringify(payload);
    for (let attempt = 0; ; attempt++) {
      const res = await this.#http.post('', body, { headers: { 'content-type': 'application/json' } });
      if (res.status === 429 && attempt < THROTTLE_RETRIES) {
        const asked = Number(res.header('retry-after'));
        await new Promise((r) => setTimeout(r, Number.isFinite(asked) && asked > 0 ? asked * 1_000 : 250 * 2 ** attempt));
        continue;
      }
      let answer: unknown;
      try {
        answer = res.json();
      } catch {
        throw new Error(`JSON-RPC endpoint answered HTTP ${res.status} with a body that is not JSON: ${res.text().slice(0, 200)}`);
      }
      // A JSON-RPC error may come with any status; ethers reads it from the body. Anything else non-2xx is a failure.
      if (!res.ok && !(typeof answer === 'object' && answer !== null && 'error' in answer))
        throw new Error(`JSON-RPC endpoint answered HTTP ${res.status}: ${res.text().slice(0, 200)}`);
      // Error entries travel in the same array: ethers types it as results and tells them apart itself.
      return (Array.isArray(answer) ? answer : [answer]) as JsonRpcResult[];
    }
  }
}
