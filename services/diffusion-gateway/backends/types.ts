import type { ModelInfo } from '../../../protocol/gateway';

export type { ModelInfo };

/** What every diffusion backend receives: the prompt after policy, the seed and the output size. */
export type RenderInput = {
  prompt: string;
  negativePrompt: string;
  /**
   * Seed the backend must use, already reduced to its `capabilities.seedBits` (the request's seed mod 2^seedBits):
   * a number when it is a safe integer (≤ 2^53−1), else a bigint.
   */
  seed: number | bigint;
  width: number;
  height: number;
  steps?: number;
  guidance?: number;
  sampler?: string;
  /** A model id from the backend's `models`; the backend's default when absent. */
  model?: string;
  /** Stable id of this request (derived from its content unless the client gave one); Cog uses it as prediction id. */
  requestId?: string;
};

export type RenderOutput = {
  image: Buffer;
  mime: 'image/png' | 'image/webp' | 'image/jpeg' | 'image/avif';
  width: number;
  height: number;
  model: ModelInfo;
  /** The seed the backend reports it used (backends may echo a different one for seed -1; we never send that). */
  seed?: number | bigint;
};

/** What a backend can do; the gateway refuses requests outside it with a named field. */
export type BackendCapabilities = {
  sizes: { min: number; max: number; multipleOf: number };
  /** Accepted sampler names; empty: the backend ignores `sampler`. */
  samplers: string[];
  /** True when the same input always yields the same bytes, so a verifier can re-render and compare. */
  deterministic: boolean;
  /** Token budget of the text encoder (CLIP: 77 with start/end tokens; A1111 chunks by 75). */
  maxPromptTokens: number;
  /** Widest seed the backend takes, in bits (1–256); it receives the request's seed mod 2^seedBits. */
  seedBits: number;
};

/** One diffusion backend (local renderer, Replicate, A1111, ComfyUI, Cog) behind one interface. */
export type DiffusionBackend = {
  readonly name: string;
  /** Same as `capabilities.deterministic`; kept for existing callers. */
  readonly deterministic: boolean;
  readonly models: ModelInfo[];
  readonly capabilities: BackendCapabilities;
  /** Renders one image. Aborting `signal` cancels the backend's job where the backend supports it. */
  render(input: RenderInput, signal?: AbortSignal): Promise<RenderOutput>;
  /** Resolves when the backend is reachable and ready; throws a typed error otherwise. */
  ready(signal?: AbortSignal): Promise<void>;
};

/**
 * Capabilities of a remote Stable Diffusion backend: sizes up to 2048 in steps of 8, not byte-deterministic, CLIP's
 * 75-token prompt window. Backends differ in the samplers they name and the seed width they take.
 */
export function remoteCapabilities({ samplers = [], seedBits }: { samplers?: string[]; seedBits: number }): BackendCapabilities {
  return { sizes: { min: 64, max: 2048, multipleOf: 8 }, samplers, deterministic: false, maxPromptTokens: 75, seedBits };
}
