import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  dropIdempotencyKey,
  type DropPlan,
  periodIndex,
  periodStartMs,
  periodsToSubmit,
  promptOf,
  schedulerOffsetMs,
} from '../../pipeline/drop/schedule';
import { mintIdOf } from '../../pipeline/sponsored/submit';
import { collectionTemplateSchema, loadTemplate } from '../../pipeline/template';

const prompts = ['a', 'b', 'c', 'd', 'e'];
const START = 1_800_000_000; // Unix seconds
const plan: DropPlan = { periodSeconds: 60, prompts, startAt: START };
const at = (seconds: number) => (START + seconds) * 1000;

describe('drop periods', () => {
  it('counts periods from startAt (from the epoch without it); negative before the start', () => {
    expect(periodIndex(plan, at(0))).toBe(0);
    expect(periodIndex(plan, at(59.999))).toBe(0);
    expect(periodIndex(plan, at(60))).toBe(1);
    expect(periodIndex(plan, at(-1))).toBe(-1);
    expect(periodStartMs(plan, 3)).toBe(at(180));
    const daily: DropPlan = { periodSeconds: 86_400, prompts };
    expect(periodIndex(daily, Date.UTC(2027, 0, 1, 0, 0, 0))).toBe(Date.UTC(2027, 0, 1) / 86_400_000);
    expect(periodIndex(daily, Date.UTC(2027, 0, 1, 23, 59, 59))).toBe(Date.UTC(2027, 0, 1) / 86_400_000);
  });

  it('submits the period a firing was due in (up to one back) and the current one; older periods are skipped', () => {
    expect(periodsToSubmit(plan, at(120), at(120.2))).toEqual([2]); // on time
    expect(periodsToSubmit(plan, at(120), at(185))).toEqual([2, 3]); // a busy worker or a short restart: into the next period
    expect(periodsToSubmit(plan, at(120), at(239.9))).toEqual([2, 3]);
    expect(periodsToSubmit(plan, at(120), at(240))).toEqual([4]); // more than a period behind (all nodes down): skipped
    expect(periodsToSubmit(plan, at(120), at(600))).toEqual([10]);
    expect(periodsToSubmit(plan, at(130), at(150))).toEqual([2]); // a node started mid-period
    expect(periodsToSubmit(plan, at(180), at(179.5))).toEqual([2, 3]); // a node whose clock lags the scheduler's
    expect(periodsToSubmit(plan, at(-30), at(-10))).toEqual([]); // before startAt
    expect(periodsToSubmit(plan, at(-30), at(5))).toEqual([0]);
  });

  it('puts scheduler firings on period starts (BullMQ reads an offset of 0 as "none")', () => {
    expect(schedulerOffsetMs({ periodSeconds: 86_400, prompts })).toBe(86_400_000);
    expect(schedulerOffsetMs({ periodSeconds: 60, prompts, startAt: 1_800_000_030 })).toBe(30_000);
    expect(schedulerOffsetMs({ periodSeconds: 3, prompts, startAt: 1_800_000_001 })).toBe(((1_800_000_001_000 % 3000) + 3000) % 3000);
  });

  it('sequence: period k drops prompts[k mod n], round after round', () => {
    expect([0, 1, 4, 5, 6, 12].map((k) => promptOf(plan, k, '1:0xabc'))).toEqual(['a', 'b', 'e', 'a', 'b', 'c']);
  });

  it('shuffle: every prompt once per round, the same order on every node, another order per round and collection', () => {
    const shuffled: DropPlan = { ...plan, order: 'shuffle', prompts: Array.from({ length: 14 }, (_, i) => `p${i}`) };
    const round = (r: number, scope = '31337:0xabc') => Array.from({ length: 14 }, (_, i) => promptOf(shuffled, r * 14 + i, scope));
    for (const r of [0, 1, 2]) expect([...round(r)].sort()).toEqual([...shuffled.prompts].sort());
    expect(round(0)).toEqual(round(0)); // deterministic
    const orders = new Set([round(0), round(1), round(2), round(0, '31337:0xdef')].map((o) => o.join()));
    expect(orders.size).toBe(4); // 14! orders: four equal by chance would be a broken shuffle
    expect(round(0).join()).not.toBe(shuffled.prompts.join());
  });

  it('derives one mint id per period and collection, apart from any API key scope', () => {
    const key = dropIdempotencyKey(31337, '0xAbC0000000000000000000000000000000000001', 7);
    expect(key).toBe('drop:31337:0xabc0000000000000000000000000000000000001:7');
    expect(mintIdOf({ scope: 'node', key })).toBe(mintIdOf({ scope: 'node', key }));
    expect(mintIdOf({ scope: 'node', key })).toMatch(/^m-[0-9a-f]{32}$/);
    expect(mintIdOf({ scope: 'node', key: dropIdempotencyKey(31337, '0xabc0000000000000000000000000000000000001', 8) })).not.toBe(
      mintIdOf({ scope: 'node', key }),
    );
    expect(mintIdOf({ scope: 'f'.repeat(64), key })).not.toBe(mintIdOf({ scope: 'node', key }));
  });
});

describe('drop in collection.json', () => {
  const dailyDrop = loadTemplate('daily-drop');
  const issues = (drop: unknown, mint = dailyDrop.mint) => {
    const parsed = collectionTemplateSchema.safeParse({ ...dailyDrop, mint, drop });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('ships a daily drop of 14 prompts that fit the collection', () => {
    expect(dailyDrop.drop).toMatchObject({ periodSeconds: 86_400, order: 'sequence' });
    expect(dailyDrop.drop!.prompts).toHaveLength(14);
    expect(new Set(dailyDrop.drop!.prompts).size).toBe(14);
    expect(issues(dailyDrop.drop)).toEqual([]);
  });

  it('refuses a prompt longer than mint.maxPromptBytes, naming it by index', () => {
    const max = dailyDrop.mint.maxPromptBytes;
    const drop = { ...dailyDrop.drop, prompts: ['fits', 'é'.repeat(max / 2 + 1), 'x'.repeat(max)] };
    expect(issues(drop)).toEqual([`drop.prompts.1: ${max + 2} bytes of UTF-8; mint.maxPromptBytes allows ${max}`]);
    // The same list fits a collection that allows longer prompts.
    expect(issues(drop, { ...dailyDrop.mint, maxPromptBytes: max + 2 })).toEqual([]);
  });

  it('refuses an empty prompt or list, a period under a minute, an unknown order or key, a bad recipient', () => {
    expect(issues({ ...dailyDrop.drop, prompts: ['ok', '  '] })).toEqual(['drop.prompts.1: must not be empty']);
    expect(issues({ ...dailyDrop.drop, prompts: [] })).toEqual([expect.stringMatching(/^drop\.prompts: /)]);
    expect(issues({ ...dailyDrop.drop, periodSeconds: 5 })).toEqual([expect.stringMatching(/^drop\.periodSeconds: at least 60/)]);
    expect(issues({ ...dailyDrop.drop, order: 'random' })).toEqual([expect.stringMatching(/^drop\.order: /)]);
    expect(issues({ ...dailyDrop.drop, every: 60 })).toEqual([expect.stringMatching(/^drop: .*every/)]);
    expect(issues({ ...dailyDrop.drop, recipient: '0x1234' })).toEqual(['drop.recipient: a 0x address']);
  });

  it('loadTemplate names the field of a bad drop in a file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-drop-')), 'collection.json');
    fs.writeFileSync(file, JSON.stringify({ ...dailyDrop, drop: { ...dailyDrop.drop, prompts: ['x'.repeat(201)] } }));
    expect(() => loadTemplate(file)).toThrow(/drop\.prompts\.0: 201 bytes of UTF-8; mint\.maxPromptBytes allows 200/);
  });
});
