import { z } from 'zod';

const MAX_SIDE = 2048;
const side = z
  .number()
  .int()
  .min(64, 'at least 64 pixels')
  .max(MAX_SIDE, `at most ${MAX_SIDE} pixels`)
  .refine((n) => n % 8 === 0, 'must be a multiple of 8');

export const OUTPUT_FORMATS = ['png', 'webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Body of `POST /v1/generate`. Every field is checked; a bad one is named in the 400 response. */
export const generateRequestSchema = z.strictObject({
  prompt: z.string().min(1, 'must not be empty').max(4_000, 'at most 4,000 characters'),
  negativePrompt: z.string().max(4_000, 'at most 4,000 characters').default(''),
  seed: z.number().int().min(0).max(0xffffffff, 'must fit in 32 bits (0 … 4294967295)'),
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
  seed: number;
  width: number;
  height: number;
  /** The prompt as the backend received it (after normalisation, frame and budget). */
  prompt: string;
  model: { backend: string; id: string; version: string; weightsHash?: string };
  params: { negativePrompt: string; steps?: number; guidance?: number; sampler?: string; format: OutputFormat; quality?: number; promptTokens: number; truncated: boolean };
  timings: { queueMs: number; renderMs: number; postMs: number };
};
