import { get_encoding, type Tiktoken } from '@dqbd/tiktoken';
import { normalizePrompt, promptProblem } from '../../protocol/prompt';
import { gatewayError } from './errors';

export { normalizePrompt };

export type PromptPolicy = {
  /** Token budget of the text encoder, start/end tokens excluded. @defaultValue 75 */
  maxTokens: number;
  /**
   * Over budget: refuse the request, or cut the prompt at the budget as CLIP itself does. Cut by default, so every
   * prompt a collection's byte cap lets a collector pay for renders (the manifest records `truncated`).
   * @defaultValue 'truncate'
   */
  overflow: 'reject' | 'truncate';
  /** Words or phrases refused anywhere in the prompt (case-insensitive, compatibility-folded). */
  blockList: string[];
  /** Prompt frame with one `{prompt}` placeholder, e.g. `"{prompt}, oil painting"`. @defaultValue '{prompt}' */
  frame: string;
  /** Negative prompt added to the request's own. @defaultValue '' */
  negativePrompt: string;
};

export const DEFAULT_PROMPT_POLICY: PromptPolicy = {
  maxTokens: 75,
  overflow: 'truncate',
  blockList: [],
  frame: '{prompt}',
  negativePrompt: '',
};

let encoder: Tiktoken | undefined;
/** cl100k_base is only an estimate of CLIP's BPE (usually within a few tokens); loaded once per process. */
function tokenizer(): Tiktoken {
  encoder ??= get_encoding('cl100k_base');
  return encoder;
}

/** Loads the tokenizer now (~0.5 s of WASM set-up) instead of on the first request. */
export function warmTokenizer(): void {
  tokenizer();
}

/** Estimated token count of `text`. */
export function countTokens(text: string): number {
  // encode_ordinary: a prompt's "<|endoftext|>" is plain text, not a special token (and it is ~10× faster).
  return tokenizer().encode_ordinary(text).length;
}

function truncateToTokens(text: string, maxTokens: number): string {
  const enc = tokenizer();
  const tokens = enc.encode_ordinary(text);
  if (tokens.length <= maxTokens) return text;
  // Decoding a cut token list can split a multi-byte character; drop the broken tail.
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(enc.decode(tokens.slice(0, maxTokens)));
  return decoded.replace(/\uFFFD+$/u, '').trim();
}

/** Folds look-alike spellings (full-width, ligatures, case, accents) so the block list can't be dodged with them. */
function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

export type PolicyResult = { prompt: string; negativePrompt: string; promptTokens: number; truncated: boolean };

/**
 * Applies the prompt policy: normalisation, block list, frame, negative prompt, token budget. Throws
 * INVALID_REQUEST (empty, over budget with `reject`) or CONTENT_REJECTED (block list).
 *
 * @example
 * applyPromptPolicy({ prompt: 'a fox', negativePrompt: '', policy: { ...DEFAULT_PROMPT_POLICY, frame: '{prompt}, ink' } })
 * // { prompt: 'a fox, ink', negativePrompt: '', promptTokens: 4, truncated: false }
 */
export function applyPromptPolicy({
  prompt,
  negativePrompt,
  policy,
}: {
  prompt: string;
  negativePrompt: string;
  policy: PromptPolicy;
}): PolicyResult {
  const problem = promptProblem(prompt);
  if (problem) throw gatewayError({ code: 'INVALID_REQUEST', message: `prompt refused: ${problem}`, fields: { prompt: problem } });
  const text = normalizePrompt(prompt);
  const negative = normalizePrompt([policy.negativePrompt, negativePrompt].filter(Boolean).join(', '));

  const folded = fold(text);
  const hit = policy.blockList.find((term) => {
    const t = fold(term).trim();
    // Whole words only, so "classic" is not caught by "ass"-style terms.
    return t && new RegExp(`(^|[^\\p{L}\\p{N}])${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}\\p{N}])`, 'u').test(folded);
  });
  if (hit)
    throw gatewayError({
      code: 'CONTENT_REJECTED',
      message: 'prompt contains a blocked term',
      fields: { prompt: 'blocked by the content policy' },
    });

  const framed = normalizePrompt(policy.frame.replace('{prompt}', () => text));
  const tokens = countTokens(framed);
  if (tokens <= policy.maxTokens) return { prompt: framed, negativePrompt: negative, promptTokens: tokens, truncated: false };
  if (policy.overflow === 'reject') {
    throw gatewayError({
      code: 'INVALID_REQUEST',
      message: `prompt is about ${tokens} tokens; the budget is ${policy.maxTokens}`,
      fields: { prompt: `about ${tokens} tokens, at most ${policy.maxTokens}` },
    });
  }
  const cut = truncateToTokens(framed, policy.maxTokens);
  return { prompt: cut, negativePrompt: negative, promptTokens: countTokens(cut), truncated: true };
}
