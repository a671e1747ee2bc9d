import type { BackendConfig } from '../config';
import { createAutomatic1111Backend } from './automatic1111';
import { createCogBackend } from './cog';
import { createComfyUIBackend } from './comfyui';
import { createLocalBackend } from './local';
import { createReplicateBackend } from './replicate';
import type { DiffusionBackend } from './types';

/**
 * Builds the configured backend.
 *
 * @example
 * const backend = createBackend({ name: 'cog', url: 'http://gpu:5000', model: 'sdxl', version: '1' });
 */
export function createBackend(config: BackendConfig): DiffusionBackend {
  switch (config.name) {
    case 'local':
      return createLocalBackend();
    case 'replicate':
      return createReplicateBackend(config);
    case 'automatic1111':
      return createAutomatic1111Backend(config);
    case 'comfyui':
      return createComfyUIBackend(config);
    case 'cog':
      return createCogBackend(config);
  }
}
