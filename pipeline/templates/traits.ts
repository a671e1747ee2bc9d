import { AbiCoder, keccak256, ParamType } from 'ethers';
import { type CollectionTemplate, TRAIT_SLOT, type TraitDefinition } from '../template';

/** One drawn trait, as it appears in a manifest's `attributes`. */
export type PickedTrait = { trait_type: string; value: string };

/**
 * How traits are drawn, as recorded in each manifest (`aigc.traits.method`), so a verifier knows what to recompute.
 * Trait i (0-based, in template order) takes d = uint256(keccak256(abi.encode(bytes32 renderSeed, uint256 i))),
 * r = d mod W where W is the sum of its weights, and the first value whose running weight sum exceeds r.
 * W is at most 10^8 and d is uniform over 2^256, so the modulo bias is below W / 2^256 (about 10^-69): negligible.
 * One hash per trait makes the draws independent of each other; the same in Solidity as here.
 */
export const TRAIT_DRAW_METHOD = 'keccak256(abi.encode(bytes32 renderSeed, uint256 traitIndex)) mod totalWeight, cumulative weights';

const BYTES32 = ParamType.from('bytes32');
const UINT256 = ParamType.from('uint256');

/** The uniform 256-bit draw of trait `index` for `renderSeed`. */
export function traitDraw(renderSeed: string, index: number): bigint {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode([BYTES32, UINT256], [renderSeed, index])));
}

/**
 * The traits of one token, drawn deterministically from its render seed (bytes32 hex), one per trait in template
 * order, each value with probability weight / total weight of its trait. Pure.
 *
 * @example
 * pickTraits([{ name: 'Palette', values: [{ value: 'teal', weight: 3 }, { value: 'gold', weight: 1 }] }], renderSeed)
 * // [{ trait_type: 'Palette', value: 'teal' }] three times in four
 */
export function pickTraits(traits: readonly TraitDefinition[] | undefined, renderSeed: string): PickedTrait[] {
  return (traits ?? []).map((trait, index) => {
    const total = trait.values.reduce((sum, v) => sum + BigInt(v.weight), 0n);
    let r = traitDraw(renderSeed, index) % total;
    for (const v of trait.values) {
      if (r < BigInt(v.weight)) return { trait_type: trait.name, value: v.value };
      r -= BigInt(v.weight);
    }
    throw new Error('unreachable: r < total weight');
  });
}

/** Each trait value's configured probability: weight / total weight of its trait. */
export function traitOdds(traits: readonly TraitDefinition[] | undefined): { trait_type: string; value: string; odds: number }[] {
  return (traits ?? []).flatMap((trait) => {
    const total = trait.values.reduce((sum, v) => sum + v.weight, 0);
    return trait.values.map((v) => ({ trait_type: trait.name, value: v.value, odds: v.weight / total }));
  });
}

/** `text` with each `{Name}` slot replaced by the value drawn for trait `Name` (validation ensures each names one). */
export function fillSlots(text: string, picked: readonly PickedTrait[]): string {
  const values = new Map(picked.map((p) => [p.trait_type, p.value]));
  return text.replace(TRAIT_SLOT, (slot, name: string) => values.get(name) ?? slot);
}

/** Separators at the seam of the frame, dropped when the collector's text between them is blank. */
const SEAM_END = /[\s,;:]+$/u;
const SEAM_START = /^[\s,;:]+/u;

/**
 * The prompt the backend is asked for: prefix + the collector's prompt + suffix, with trait slots filled in the
 * frame only (a collector's `{Species}` stays literal text). When the collector's prompt is blank (an optional
 * description left empty), the frame's two halves are joined with ", " instead of leaving a dangling separator.
 *
 * @example
 * framePrompt({ promptPrefix: 'portrait of a {Species}, ', promptSuffix: ', line art' }, 'smiling', [{ trait_type: 'Species', value: 'fox' }])
 * // 'portrait of a fox, smiling, line art'
 */
export function framePrompt(
  render: Pick<CollectionTemplate['render'], 'promptPrefix' | 'promptSuffix'>,
  prompt: string,
  picked: readonly PickedTrait[] = [],
): string {
  const prefix = fillSlots(render.promptPrefix, picked);
  const suffix = fillSlots(render.promptSuffix, picked);
  if (prompt.trim()) return `${prefix}${prompt}${suffix}`;
  return [prefix.replace(SEAM_END, ''), suffix.replace(SEAM_START, '')].filter(Boolean).join(', ');
}

/**
 * What a manifest records about a token's traits (`aigc.traits`), or undefined for a template without traits.
 *
 * @example
 * const traits = traitProvenance(template.traits, renderSeedOf(request)); // { method, table, values }
 */
export function traitProvenance(
  traits: readonly TraitDefinition[] | undefined,
  renderSeed: string,
): { method: string; table: TraitDefinition[]; values: PickedTrait[] } | undefined {
  if (!traits?.length) return undefined;
  return { method: TRAIT_DRAW_METHOD, table: structuredClone([...traits]), values: pickTraits(traits, renderSeed) };
}
