/**
 * The prompt policy both doors share: the node's Web2 API and on-chain intake (pipeline) and the diffusion gateway
 * (services) normalise a prompt the same way and refuse the same prompts. Imports nothing from either side.
 */

/**
 * Prompt normalisation applied before any backend sees a prompt: Unicode NFC, control and bidi-override
 * characters removed (they can hide text from a reviewer), whitespace runs collapsed to one space.
 *
 * @example
 * normalizePrompt('  a\u0000 cat\u202E  ') // 'a cat'
 */
export function normalizePrompt(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (ch) => (/\s/.test(ch) ? ' ' : ''))
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * A character that shows something: not whitespace, not a combining mark or variation selector (they only modify the
 * character before them), not one of the letters that render blank (Hangul fillers, the blank Braille pattern).
 */
const VISIBLE = /[^\s\p{M}\u115F\u1160\u2800\u3164\uFFA0]/u;

/** A lone (unpaired) UTF-16 surrogate: a string holding one cannot be encoded as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a collector's prompt is refused, or undefined when it is accepted: not encodable as UTF-8 (a lone surrogate),
 * or no visible text once normalised (empty, whitespace, controls, zero-width characters, marks or blank letters only). The node's API
 * answers 400 with this as `fields.prompt`; the node rejects (and refunds) a request made on chain with such a
 * prompt; the gateway refuses it. The byte cap and token budget are checked where they are known.
 *
 * @example
 * promptProblem('  \u200B ') // 'empty after normalisation: no visible text (…)'
 * promptProblem('a fox')     // undefined
 */
export function promptProblem(raw: string): string | undefined {
  if (LONE_SURROGATE.test(raw)) return 'not valid Unicode: it holds a lone UTF-16 surrogate, which cannot be encoded as UTF-8';
  if (!VISIBLE.test(normalizePrompt(raw)))
    return 'empty after normalisation: no visible text (whitespace, control and zero-width characters are removed; marks and variation selectors alone show nothing)';
  return undefined;
}
