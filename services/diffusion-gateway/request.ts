import { z } from 'zod';

const MAX_SIDE = 2048;
const side = z
  .number()
  .int()
  .min(64, 'at least 64 pixels')
  .max(MAX_SIDE, `at most ${MAX_SIDE} pixels`)
  .refine((n) => n % 8 === 0, 'must be a multiple of 8');

/** Body of `POST /v1/generate`. Every field is checked; a bad one is named in the 400 response. */
export const generateRequestSchema = z.strictObject({
  prompt: z.string().min(1, 'must not be empty').max(4_000, 'at most 4,000 characters'),
  negativePrompt: z.string().max(4_000, 'at most 4,000 characters').default(''),
  seed: z.number().int().min(0).max(0xffffffff, 'must fit in 32 bits (0 … 4294967295)'),
  width: side.default(512),
  height: side.default(512),
  steps: z.number().int().min(1).max(150).optional(),
  guidance: z.number().min(0).max(30).optional(),
  model: z.string().min(1).max(200).optional(),
});

export type GenerateRequest = z.infer<typeof generateRequestSchema>;

/** What `POST /v1/generate` answers (as JSON with `Accept: application/json`, else as headers + bytes). */
export type GenerateResponse = {
  /** Base64 image bytes (JSON form only). */
  image: string;
  mime: string;
  sha256: string;
  seed: number;
  width: number;
  height: number;
  prompt: string;
  model: { backend: string; id: string; version: string; weightsHash?: string };
  timings: { renderMs: number };
};
