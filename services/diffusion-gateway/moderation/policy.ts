import {
  MODERATION_CLASSES,
  type ModerationClass,
  type ModerationMode,
  type ModerationRequest,
  type ModerationScores,
} from '../../../protocol/gateway';

/** A moderation policy with every field filled in: what to do, and the score per class at which to do it. */
export type ModerationPolicy = { policy: ModerationMode; thresholds: Partial<Record<ModerationClass, number>> };

/** Thresholds used when neither the gateway nor the request names any. */
export const DEFAULT_THRESHOLDS: Partial<Record<ModerationClass, number>> = { porn: 0.7, hentai: 0.7, sexy: 0.9 };

const RANK: Record<ModerationMode, number> = { off: 0, blur: 1, reject: 2 };

/**
 * The stricter of the gateway's policy and a request's: the harsher action, and per class the lower threshold.
 * A request can tighten the gateway's policy, never loosen it.
 */
export function strictestPolicy(gateway: ModerationPolicy, request?: ModerationRequest): ModerationPolicy {
  if (!request) return gateway;
  const policy = RANK[request.policy] > RANK[gateway.policy] ? request.policy : gateway.policy;
  const thresholds: Partial<Record<ModerationClass, number>> = { ...gateway.thresholds };
  for (const [name, value] of Object.entries(request.thresholds ?? {}) as [ModerationClass, number][]) {
    thresholds[name] = Math.min(value, thresholds[name] ?? 1);
  }
  return { policy, thresholds };
}

/** The classes whose score reaches their threshold, highest first. */
export function crossedClasses(scores: ModerationScores, thresholds: ModerationPolicy['thresholds']): ModerationClass[] {
  return MODERATION_CLASSES.filter((c) => thresholds[c] !== undefined && scores[c] >= thresholds[c]!).sort((a, b) => scores[b] - scores[a]);
}

/**
 * `porn:0.7,hentai:0.7,sexy:0.9` → { porn: 0.7, hentai: 0.7, sexy: 0.9 } (GATEWAY_MODERATION_THRESHOLDS). Returns the
 * text itself when it does not parse, so the config schema names it.
 */
export function parseThresholds(text: string): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, value, ...rest] = part.split(':').map((s) => s.trim());
    if (rest.length || !name || value === undefined || value === '' || !Number.isFinite(Number(value))) return text;
    out[name.toLowerCase()] = Number(value);
  }
  return out;
}
