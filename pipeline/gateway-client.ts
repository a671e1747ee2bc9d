import { createHash } from 'node:crypto';
import type { GenerateRequest, GenerateResponse } from '../protocol/gateway';
import { AigcError, type ErrorCode } from './errors';
import { createHttpClient } from './net/http-client';

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
 * const { seed, seedBits } = await gateway.generate({ prompt: 'a fox', seed: 2n ** 255n + 7n }); // seed: the decimal string the backend used
 */
export function createGatewayClient({ url, apiKey, timeoutMs }: { url: string; apiKey?: string; timeoutMs: number }): GatewayClient {
  const http = createHttpClient({
    baseUrl: url,
    name: 'gateway',
    errorCode: 'GATEWAY_FAILED',
    timeoutCode: 'TIMEOUT',
    timeoutMs,
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return {
    async generate(request) {
      const res = await http.post(
        '/v1/generate',
        // A bigint seed goes as its decimal string (JSON numbers are exact only up to 2^53).
        JSON.stringify(request, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
        // The image as bytes with its metadata in headers: no base64 and JSON to build and parse on either side.
        { headers: { 'content-type': 'application/json', accept: 'image/*' } },
      );
      const header = res.header;
      if (!res.ok) {
        const text = res.text();
        // The gateway names a typed code and whether retrying may help; fall back on the status.
        let error: { code?: ErrorCode; message?: string; retryable?: boolean } = {};
        try {
          error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
        } catch {
          // not JSON: a proxy in between answered
        }
        throw new AigcError(
          error.code ?? (res.status < 500 ? 'INVALID_REQUEST' : 'GATEWAY_FAILED'),
          `gateway answered ${res.status}: ${error.message ?? 'no message'}`,
          {
            details: text.slice(0, 2_000),
            retryable: error.retryable ?? (res.status >= 500 || res.status === 429),
            retryAfterMs: retryAfterMs(header('retry-after') ?? null),
          },
        );
      }
      // The gateway answers JSON (base64 image) to a prompt too long for its x-prompt header.
      const body = header('content-type')?.startsWith('application/json')
        ? jsonAnswer(res.json<GenerateResponse>())
        : imageAnswer(header, res.body, url);
      if (createHash('sha256').update(body.image).digest('hex') !== body.sha256) {
        throw new AigcError('GATEWAY_FAILED', 'gateway image does not match its sha256', { retryable: true });
      }
      return body;
    },
  };
}

function jsonAnswer(body: GenerateResponse): GeneratedImage {
  return { ...body, image: Buffer.from(body.image, 'base64') };
}

/** The gateway's metadata headers of an image answer (see `POST /v1/generate` in the README). */
function imageAnswer(headers: (name: string) => string | undefined, image: Buffer, url: string): GeneratedImage {
  const header = (name: string) => {
    const value = headers(name);
    if (value === undefined)
      throw new AigcError(
        'GATEWAY_FAILED',
        `${url} answered without the ${name} header: point gateway.url at an aigc-nft diffusion gateway of this version`,
        { retryable: false },
      );
    return value;
  };
  try {
    return {
      image,
      mime: header('content-type'),
      sha256: header('x-image-sha256'),
      bytes: image.length,
      requestId: header('x-request-id'),
      seed: header('x-seed'),
      seedBits: Number(header('x-seed-bits')),
      width: Number(header('x-width')),
      height: Number(header('x-height')),
      prompt: decodeURIComponent(header('x-prompt')),
      model: JSON.parse(header('x-model')) as GeneratedImage['model'],
      params: JSON.parse(header('x-params')) as GeneratedImage['params'],
      timings: JSON.parse(header('x-timings')) as GeneratedImage['timings'],
      // Only when the gateway moderated the image (a policy other than `off`).
      ...(headers('x-moderation') ? { moderation: JSON.parse(headers('x-moderation')!) as GeneratedImage['moderation'] } : {}),
    };
  } catch (cause) {
    if (cause instanceof AigcError) throw cause;
    throw new AigcError('GATEWAY_FAILED', `${url} answered with unreadable metadata headers`, {
      cause,
      retryable: true,
      details: String(cause),
    });
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1_000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
