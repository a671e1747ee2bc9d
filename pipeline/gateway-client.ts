import { createHash } from 'node:crypto';
import type { GenerateRequest, GenerateResponse } from '../services/diffusion-gateway/request';
import { AigcError, type ErrorCode } from './errors';

export type GeneratedImage = Omit<GenerateResponse, 'image'> & { image: Buffer };

export type GatewayClient = {
  generate(request: GenerateRequest): Promise<GeneratedImage>;
};

/**
 * The node's client of the diffusion gateway. A 4xx is a permanent refusal of this request; network errors,
 * timeouts and 5xx are retryable.
 *
 * @example
 * const gateway = createGatewayClient({ url: 'http://127.0.0.1:8080', timeoutMs: 120_000 });
 * const { image, sha256 } = await gateway.generate({ prompt: 'a fox', negativePrompt: '', seed: 7, width: 512, height: 512 });
 */
export function createGatewayClient({ url, apiKey, timeoutMs }: { url: string; apiKey?: string; timeoutMs: number }): GatewayClient {
  return {
    async generate(request) {
      let res: Response;
      try {
        res = await fetch(new URL('/v1/generate', url), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          },
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        const timedOut = (cause as Error).name === 'TimeoutError';
        throw new AigcError(timedOut ? 'TIMEOUT' : 'GATEWAY_FAILED', `gateway ${url} ${timedOut ? `timed out after ${timeoutMs} ms` : 'unreachable'}`, {
          cause,
          retryable: true,
        });
      }
      const text = await res.text();
      if (!res.ok) {
        // The gateway names a typed code and whether retrying may help; fall back on the status.
        let error: { code?: ErrorCode; message?: string; retryable?: boolean } = {};
        try {
          error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
        } catch {
          // not JSON: a proxy in between answered
        }
        throw new AigcError(error.code ?? (res.status < 500 ? 'INVALID_REQUEST' : 'GATEWAY_FAILED'), `gateway answered ${res.status}: ${error.message ?? 'no message'}`, {
          details: text.slice(0, 2_000),
          retryable: error.retryable ?? (res.status >= 500 || res.status === 429),
          retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
        });
      }
      const body = JSON.parse(text) as GenerateResponse;
      const image = Buffer.from(body.image, 'base64');
      const sha256 = createHash('sha256').update(image).digest('hex');
      if (sha256 !== body.sha256) {
        throw new AigcError('GATEWAY_FAILED', 'gateway image does not match its sha256', { retryable: true });
      }
      return { ...body, image };
    },
  };
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1_000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
