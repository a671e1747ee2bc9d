/** What every diffusion backend receives: the prompt after policy, the seed and the output size. */
export type RenderInput = {
  prompt: string;
  negativePrompt: string;
  /** Integer seed the backend must use; for on-chain requests it is derived from the contract's seed. */
  seed: number;
  width: number;
  height: number;
  steps?: number;
  guidance?: number;
};

/** Identifies exactly what produced an image; hashed into the signed provenance. */
export type ModelInfo = {
  backend: string;
  id: string;
  version: string;
  weightsHash?: string;
};

export type RenderOutput = {
  image: Buffer;
  mime: 'image/png' | 'image/webp' | 'image/jpeg' | 'image/avif';
  width: number;
  height: number;
  model: ModelInfo;
};

/** One diffusion backend (local renderer, Replicate, A1111, ComfyUI, Cog) behind one interface. */
export type DiffusionBackend = {
  readonly name: string;
  /** True when the same input always yields the same bytes, so a verifier can re-render and compare. */
  readonly deterministic: boolean;
  readonly models: ModelInfo[];
  render(input: RenderInput, signal?: AbortSignal): Promise<RenderOutput>;
};
