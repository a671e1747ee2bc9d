import fs from 'node:fs';
import path from 'node:path';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend, RenderOutput } from '../../services/diffusion-gateway/backends/types';

/** A public-domain photo of `test/fixtures/photos`. */
export const fixturePhoto = (name: string): Buffer => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'photos', name));

/**
 * The local backend's capabilities and model, rendering `image` for every request: a real photograph for the image
 * classifier (the procedural renders are abstract), so moderation outcomes are known in advance.
 */
export function photoBackend(image: Buffer, mime: RenderOutput['mime'] = 'image/jpeg'): DiffusionBackend {
  const local = createLocalBackend();
  return {
    ...local,
    async render(input) {
      return { image, mime, width: input.width, height: input.height, model: local.models[0] };
    },
  };
}
