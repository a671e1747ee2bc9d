import type { BackendConfig } from '../config';
import { createLocalBackend } from './local';
import type { DiffusionBackend } from './types';

/**
 * Builds the configured backend.
 *
 * @example
 * const backend = createBackend({ name: 'local' });
 */
export function createBackend(config: BackendConfig): DiffusionBackend {
  switch (config.name) {
    case 'local':
      return createLocalBackend();
    default:
      throw new Error(`backend ${config.name} is not available`);
  }
}
