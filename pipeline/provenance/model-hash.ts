import { keccak256, toUtf8Bytes } from 'ethers';
import type { ModelInfo } from '../../protocol/gateway';

/**
 * The bytes32 that names a model in the signed provenance:
 * keccak256(utf8("<backend>\n<id>\n<version>\n<weightsHash or empty>")).
 */
export function modelHash(model: ModelInfo): string {
  return keccak256(toUtf8Bytes([model.backend, model.id, model.version, model.weightsHash ?? ''].join('\n')));
}
