/**
 * The diffusion gateway's wire protocol, shared by the gateway (services/diffusion-gateway) and the node (pipeline):
 * the body and answer of `POST /v1/generate`, the model identity, output formats and the error codes the gateway
 * answers with. Imports nothing from either side.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors';
import { MAX_SEED } from './seed';

const MAX_SIDE = 2048;
const side = z
  .number()
  .int()
  .min(64, 'at least 64 pixels')
  .max(MAX_SIDE, `at most ${MAX_SIDE} pixels`)
  .refine((n) => n % 8 === 0, 'must be a multiple of 8');

const SEED_FORMS = 'must be an integer 0 … 9007199254740991, or a string of decimal digits or 0x-prefixed hex, 0 … 2^256−1';

/** A request's seed as a bigint, or why it is not one. */
function parseSeed(value: number | string | bigint): bigint | string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `must be an integer, not ${value}`;
    if (value < 0) return 'must not be negative';
    if (!Number.isSafeInteger(value))
      return 'a JSON number above 9007199254740991 (2^53−1) is not exact: send the seed as a decimal or 0x-hex string';
    return BigInt(value);
  }
  if (typeof value === 'string') {
    // 0x + 64 hex digits or 78 decimal digits hold 2^256−1; a few leading zeros are tolerated, not megabytes of them.
    if (value.length > 80 || !/^(?:\d+|0x[0-9a-fA-F]+)$/.test(value)) return SEED_FORMS;
    value = BigInt(value);
  }
  if (value < 0n) return 'must not be negative';
  if (value > MAX_SEED) return 'must be at most 2^256−1';
  return value;
}

/** `seed`: JSON integer (up to 2^53−1) or decimal/0x-hex string (up to 2^256−1); a bigint from TypeScript callers. */
const seed = z.union([z.number(), z.string(), z.bigint()], { error: SEED_FORMS }).transform((value, ctx) => {
  const parsed = parseSeed(value);
  if (typeof parsed === 'bigint') return parsed;
  ctx.addIssue({ code: 'custom', message: parsed });
  return z.NEVER;
});

export const OUTPUT_FORMATS = ['png', 'webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The classes the gateway's image classifier scores (nsfwjs): each 0 … 1, summing to 1. */
export const MODERATION_CLASSES = ['drawing', 'hentai', 'neutral', 'porn', 'sexy'] as const;
export type ModerationClass = (typeof MODERATION_CLASSES)[number];
export type ModerationScores = Record<ModerationClass, number>;
/** `off`: not classified; `reject`: CONTENT_REJECTED above a threshold; `blur`: the image is blurred above one. */
export const MODERATION_MODES = ['off', 'reject', 'blur'] as const;
export type ModerationMode = (typeof MODERATION_MODES)[number];

/** Per-class score thresholds, 0 … 1; a class without one is never acted on. */
export const moderationThresholdsSchema = z.partialRecord(z.enum(MODERATION_CLASSES), z.number().min(0).max(1));

/** A moderation policy: the collection template's `moderation`, sent with each request. */
export const moderationRequestSchema = z.strictObject({
  policy: z.enum(MODERATION_MODES),
  thresholds: moderationThresholdsSchema.optional(),
});
export type ModerationRequest = z.infer<typeof moderationRequestSchema>;

/** What moderation did to an image (`moderation` of the answer, `x-moderation` header); absent when it was off. */
export type ModerationResult = {
  /** The policy applied: the stricter of the gateway's and the request's. */
  policy: ModerationMode;
  thresholds: Partial<Record<ModerationClass, number>>;
  scores: ModerationScores;
  /** `passed`: under every threshold; `blurred`: over one under `blur` (a `reject` answers CONTENT_REJECTED instead). */
  action: 'passed' | 'blurred';
  /** The classes over their threshold (`blurred`). */
  crossed?: ModerationClass[];
  /** Classifier and version, e.g. `nsfwjs/MobileNetV2@tfjs-4.22.0-wasm`. */
  classifier: string;
  /** Time spent classifying. */
  ms: number;
};

/** Body of `POST /v1/generate`. Every field is checked; a bad one is named in the 400 response. */
export const generateRequestSchema = z.strictObject({
  prompt: z.string().min(1, 'must not be empty').max(4_000, 'at most 4,000 characters'),
  negativePrompt: z.string().max(4_000, 'at most 4,000 characters').default(''),
  /** Up to 256 bits; each backend gets `seed mod 2^seedBits` (see `capabilities.seedBits`). */
  seed,
  width: side.default(512),
  height: side.default(512),
  steps: z.number().int().min(1).max(150).optional(),
  guidance: z.number().min(0).max(30).optional(),
  sampler: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(200).optional(),
  format: z.enum(OUTPUT_FORMATS).optional(),
  quality: z.number().int().min(1).max(100).optional(),
  /** Caller's id for provenance (e.g. the on-chain request id); derived from the content when absent. */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only, at most 100')
    .optional(),
  /** The caller's moderation policy (the collection's); the gateway applies the stricter of it and its own. */
  moderation: moderationRequestSchema.optional(),
});

export type GenerateRequest = z.input<typeof generateRequestSchema>;
export type ParsedGenerateRequest = z.infer<typeof generateRequestSchema>;

/** What `POST /v1/generate` answers (as JSON with `Accept: application/json`, else as headers + bytes). */
export type GenerateResponse = {
  /** Base64 image bytes (JSON form only). */
  image: string;
  mime: string;
  sha256: string;
  /** Encoded size in bytes. */
  bytes: number;
  requestId: string;
  /** Decimal string of the seed the backend used: the request's seed mod 2^seedBits. */
  seed: string;
  /** How many low bits of the request's seed the backend received (its `capabilities.seedBits`). */
  seedBits: number;
  width: number;
  height: number;
  /** The prompt as the backend received it (after normalisation, frame and budget). */
  prompt: string;
  model: { backend: string; id: string; version: string; weightsHash?: string };
  params: {
    negativePrompt: string;
    steps?: number;
    guidance?: number;
    sampler?: string;
    format: OutputFormat;
    quality?: number;
    promptTokens: number;
    truncated: boolean;
  };
  timings: { queueMs: number; renderMs: number; postMs: number; moderationMs?: number };
  /** Absent when moderation was off for this request. */
  moderation?: ModerationResult;
};

/** Identifies exactly what produced an image; hashed into the signed provenance. */
export type ModelInfo = {
  backend: string;
  id: string;
  version: string;
  weightsHash?: string;
};

/** The error codes a backend or the gateway answers with; the node retries the retryable ones. */
export type GatewayErrorCode = Extract<
  ErrorCode,
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'CONTENT_REJECTED'
  | 'BACKEND_BUSY'
  | 'BACKEND_TIMEOUT'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_FAILED'
>;

/** HTTP status and default retryability per code: the one place that maps error codes to HTTP. */
export const ERROR_HTTP: Record<GatewayErrorCode, { status: number; retryable: boolean }> = {
  INVALID_REQUEST: { status: 400, retryable: false },
  UNAUTHORIZED: { status: 401, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  CONTENT_REJECTED: { status: 422, retryable: false },
  RATE_LIMITED: { status: 429, retryable: true },
  BACKEND_FAILED: { status: 502, retryable: false },
  BACKEND_BUSY: { status: 503, retryable: true },
  BACKEND_UNAVAILABLE: { status: 503, retryable: true },
  BACKEND_TIMEOUT: { status: 504, retryable: true },
};
