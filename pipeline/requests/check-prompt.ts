import { promptProblem } from '../../protocol/prompt';
import { AigcError } from '../errors';

/**
 * Refuses, before anything is paid, a prompt the node would refuse after payment (the shared policy of
 * `protocol/prompt.ts`: it would end in a refund) or the contract would revert (longer than `maxPromptBytes`). Used by
 * every client door: `aigc mint`, `aigc demo --prompt` and the SDK's `requestMint` (browser-safe: no Node built-ins).
 *
 * @example
 * checkPrompt(prompt, Number(config.maxPromptBytes)); // throws INVALID_REQUEST, nothing sent
 */
export function checkPrompt(prompt: string, maxPromptBytes?: number): void {
  const problem = promptProblem(prompt);
  if (problem) throw new AigcError('INVALID_REQUEST', `invalid prompt: ${problem}`);
  const bytes = new TextEncoder().encode(prompt).length;
  if (maxPromptBytes !== undefined && bytes > maxPromptBytes)
    throw new AigcError('INVALID_REQUEST', `invalid prompt: ${bytes} bytes of UTF-8; this collection takes at most ${maxPromptBytes}`);
}
