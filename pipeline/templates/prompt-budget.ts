import { countTokens, DEFAULT_PROMPT_POLICY } from '../../services/diffusion-gateway/prompt';
import type { CollectionTemplate } from '../template';
import { framePrompt } from './traits';

/** Kinds of text a collector may type, by how many tokens a byte of them costs (CJK and emoji cost the most). */
const SAMPLES = {
  English: 'a red fox under a silver moon, ',
  CJK: '富士山の夕焼けと浮世絵の猫、',
  emoji: '🦊🌙✨🌊🎨',
} as const;

/** `text` repeated and cut to at most `bytes` bytes of UTF-8, on a character boundary. */
function fill(text: string, bytes: number): string {
  let out = '';
  for (const ch of text.repeat(Math.ceil(bytes / Buffer.byteLength(text)) + 1)) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}

export type PromptBudgetCheck = {
  /** Tokens of the longest framed prompt the byte cap allows, per kind of text. */
  tokens: Record<keyof typeof SAMPLES, number>;
  /** The gateway's token budget checked against. */
  budget: number;
  /** One line for the operator when some text the cap allows exceeds the budget; undefined when none does. */
  warning?: string;
};

/**
 * Whether a prompt as long as `mint.maxPromptBytes` allows, framed by the template, fits a gateway's token budget
 * (`GATEWAY_MAX_PROMPT_TOKENS`, 75 by default). Over it, a default gateway cuts the prompt at the budget, and one
 * set to `GATEWAY_PROMPT_OVERFLOW=reject` refuses it, so the node refunds a request the collector paid for.
 *
 * @example
 * checkPromptBudget(loadTemplate('open-prompt')).warning // 'mint.maxPromptBytes 280 lets a collector pay for …'
 */
export function checkPromptBudget(template: CollectionTemplate, budget = DEFAULT_PROMPT_POLICY.maxTokens): PromptBudgetCheck {
  const cap = template.mint.maxPromptBytes;
  const tokensOf = (text: string) => countTokens(framePrompt(template.render, text));
  const tokens = Object.fromEntries(
    Object.entries(SAMPLES).map(([kind, sample]) => [kind, tokensOf(fill(sample, cap))]),
  ) as PromptBudgetCheck['tokens'];
  const over = (Object.keys(tokens) as (keyof typeof SAMPLES)[]).filter((k) => tokens[k] > budget);
  if (!over.length) return { tokens, budget };
  // The longest English prompt that fits, as a cap to suggest.
  let fits = cap;
  while (fits > 1 && tokensOf(fill(SAMPLES.English, fits)) > budget) fits = Math.floor(fits * 0.9);
  const worst = over.map((k) => `${k} ≈ ${tokens[k]} tokens`).join(', ');
  return {
    tokens,
    budget,
    warning:
      `mint.maxPromptBytes ${cap} lets a collector pay for a prompt over the gateway's ${budget}-token budget (framed: ${worst}): ` +
      `a default gateway cuts it at ${budget} tokens, one with GATEWAY_PROMPT_OVERFLOW=reject refuses it and the node refunds; ` +
      `lower maxPromptBytes (≈ ${fits} fits English) or raise GATEWAY_MAX_PROMPT_TOKENS if the model takes more`,
  };
}
