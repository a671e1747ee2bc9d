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
