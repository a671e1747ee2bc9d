import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AbiCoder, keccak256, toBeHex } from 'ethers';
import { loadTemplate, type TraitDefinition } from '../../pipeline/template';
import { framePrompt, pickTraits, traitProvenance } from '../../pipeline/templates/traits';

const avatar = loadTemplate('avatar');
const traits = avatar.traits!;
const seedOf = (i: number) => keccak256(toBeHex(i, 32));
const N = 20_000;
/** N render seeds, drawn once for the statistical tests. */
const draws = Array.from({ length: N }, (_, i) => pickTraits(traits, seedOf(i)));

/** Within 4.5 standard deviations of a binomial proportion: a correct draw fails this about once in 150,000 checks. */
const withinTolerance = (observed: number, p: number, n: number) => Math.abs(observed - p) <= 4.5 * Math.sqrt((p * (1 - p)) / n);

describe('pickTraits', () => {
  it('is deterministic, follows the documented draw, and returns one value per trait in template order', () => {
    const seed = seedOf(42);
    const picked = pickTraits(traits, seed);
    expect(pickTraits(traits, seed)).toEqual(picked);
    expect(picked.map((p) => p.trait_type)).toEqual(['Species', 'Accessory', 'Palette', 'Background']);
    // Recomputed here from the method the manifest names: keccak256(abi.encode(seed, i)) mod total, cumulative.
    traits.forEach((trait, i) => {
      const total = trait.values.reduce((s, v) => s + v.weight, 0);
      let r = Number(BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [seed, i]))) % BigInt(total));
      const expected = trait.values.find((v) => (r -= v.weight) < 0)!.value;
      expect(picked[i]).toEqual({ trait_type: trait.name, value: expected });
    });
    expect(pickTraits(undefined, seed)).toEqual([]);
  });

  it('draws each value with its configured odds over 20,000 seeds', () => {
    for (const [i, trait] of traits.entries()) {
      const total = trait.values.reduce((s, v) => s + v.weight, 0);
      for (const v of trait.values) {
        const observed = draws.filter((d) => d[i].value === v.value).length / N;
        expect({ trait: trait.name, value: v.value, ok: withinTolerance(observed, v.weight / total, N) }).toMatchObject({ ok: true });
      }
    }
    // The rarest value (weight 2 of 100) does come up, and about as rarely as configured.
    const monocles = draws.filter((d) => d[1].value === 'a monocle').length;
    expect(monocles).toBeGreaterThan(0.01 * N);
    expect(monocles).toBeLessThan(0.03 * N);
  });

  it('draws traits independently of each other, even two identical traits', () => {
    // Joint frequencies of Species × Background match the product of the marginals.
    const [species, background] = [traits[0], traits[3]];
    const marginal = (i: number, value: string) => draws.filter((d) => d[i].value === value).length / N;
    for (const s of species.values) {
      for (const b of background.values) {
        const joint = draws.filter((d) => d[0].value === s.value && d[3].value === b.value).length / N;
        expect({ s: s.value, b: b.value, ok: withinTolerance(joint, marginal(0, s.value) * marginal(3, b.value), N) }).toMatchObject({
          ok: true,
        });
      }
    }
    // The same coin at index 0 and 1 does not give the same face: each index has its own draw.
    const coin: TraitDefinition = {
      name: 'A',
      values: [
        { value: 'heads', weight: 1 },
        { value: 'tails', weight: 1 },
      ],
    };
    const twice = [coin, { ...coin, name: 'B' }];
    const same = Array.from({ length: 2_000 }, (_, i) => pickTraits(twice, seedOf(i))).filter(([a, b]) => a.value === b.value).length;
    expect(withinTolerance(same / 2_000, 0.5, 2_000)).toBe(true);
  });

  it('records the table, the method and the draw for the manifest, and nothing for a template without traits', () => {
    const p = traitProvenance(traits, seedOf(1))!;
    expect(p.values).toEqual(pickTraits(traits, seedOf(1)));
    expect(p.table).toEqual(traits);
    expect(p.method).toMatch(/keccak256/);
    expect(traitProvenance(loadTemplate('open-prompt').traits, seedOf(1))).toBeUndefined();
  });
});

describe('framePrompt', () => {
  const picked = [
    { trait_type: 'Species', value: 'fox' },
    { trait_type: 'Background', value: 'peach' },
  ];
  const render = { promptPrefix: 'portrait of a {Species}, ', promptSuffix: ', {Background} background, line art' };

  it('fills the slots of the frame and leaves the collector’s text as written', () => {
    expect(framePrompt(render, 'smiling {Species}', picked)).toBe('portrait of a fox, smiling {Species}, peach background, line art');
  });

  it('joins the frame without a dangling separator when the description is blank', () => {
    expect(framePrompt(render, '', picked)).toBe('portrait of a fox, peach background, line art');
    expect(framePrompt(render, '  ', picked)).toBe('portrait of a fox, peach background, line art');
    expect(framePrompt({ promptPrefix: '', promptSuffix: ', dreamlike' }, 'a boat')).toBe('a boat, dreamlike');
  });
});

describe('template validation of traits', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-traits-'));
  const raw = JSON.parse(fs.readFileSync(path.join(__dirname, '../../templates/collections/avatar/collection.json'), 'utf8'));
  /** Writes the avatar template changed by `edit` and returns loadTemplate's error message. */
  const refusal = (edit: (t: typeof raw) => void): string => {
    const t = structuredClone(raw);
    edit(t);
    const file = path.join(dir, `t-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(t));
    try {
      loadTemplate(file);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('accepts the shipped avatar template', () => {
    expect(traits.map((t) => t.name)).toEqual(['Species', 'Accessory', 'Palette', 'Background']);
  });

  it('refuses a frame slot that names no trait, naming the field', () => {
    expect(
      refusal((t) => {
        t.render.promptSuffix += ', wearing {Hat}';
      }),
    ).toMatch(/render\.promptSuffix: \{Hat\} names no trait \(traits: Species, Accessory, Palette, Background\)/);
    expect(
      refusal((t) => {
        delete t.traits;
      }),
    ).toMatch(/render\.promptPrefix: \{Species\} names no trait \(the template has no traits\)/);
  });

  it('refuses bad weights, duplicates, reserved names and oversized lists, naming the field', () => {
    expect(
      refusal((t) => {
        t.traits[0].values[0].weight = 0;
      }),
    ).toMatch(/traits\.0\.values\.0\.weight/);
    expect(
      refusal((t) => {
        t.traits[0].values[0].weight = 1.5;
      }),
    ).toMatch(/traits\.0\.values\.0\.weight/);
    expect(
      refusal((t) => {
        t.traits[1].values[1].value = t.traits[1].values[0].value;
      }),
    ).toMatch(/traits\.1\.values: values must be unique within a trait/);
    expect(
      refusal((t) => {
        t.traits[2].name = 'species';
      }),
    ).toMatch(/traits: trait names must be unique/);
    expect(
      refusal((t) => {
        t.traits[0].name = 'Seed';
      }),
    ).toMatch(/traits\.0\.name: Model, Backend, Seed and Size are set by the node/);
    expect(
      refusal((t) => {
        t.traits[0].values = [];
      }),
    ).toMatch(/traits\.0\.values/);
    expect(
      refusal((t) => {
        t.traits = Array.from({ length: 17 }, (_, i) => ({ name: `T${i}`, values: [{ value: 'x', weight: 1 }] }));
      }),
    ).toMatch(/traits:/);
    expect(
      refusal((t) => {
        t.traits[0].values[0].extra = true;
      }),
    ).toMatch(/traits\.0\.values\.0/);
  });
});
