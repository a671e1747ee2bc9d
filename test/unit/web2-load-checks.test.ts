import { type ChainRecord, checkRun, type KeyRecord, type MintRecord } from '../../bench/web2-checks';
import type { Attempt, Sent } from '../../bench/web2-client';
import { sendPlan } from '../../bench/web2-load';

// The load run's verdict, on hand-made records: a sound run passes, and each way the door can go wrong is named.
const OPERATOR = '0x00000000000000000000000000000000000000a1';
const to = (i: number) => `0x${(0xb000 + i).toString(16).padStart(40, '0')}`;
const answer = (startMs: number, status = 202): Attempt => ({ startMs, endMs: startMs + 20, outcome: 'answer', status });
const sent = (key: string, id: string, attempts: Attempt[], replayed = false): Sent => ({ key, id, status: 202, replayed, attempts });

/** Three keys, the first sent twice (the second send a replay), each minted once for its recipient. */
function soundRun() {
  const keys: KeyRecord[] = [0, 1, 2].map((i) => ({ key: `k${i}`, to: to(i), sends: [sent(`k${i}`, `m-${i}`, [answer(i * 100)])] }));
  keys[0].sends.push(sent('k0', 'm-0', [answer(5)], true));
  const mints = new Map<string, MintRecord | undefined>(
    [0, 1, 2].map((i) => [`m-${i}`, { status: 'minted', to: to(i), requestId: String(i + 1) }]),
  );
  const chain: ChainRecord = {
    operator: OPERATOR,
    requested: [0, 1, 2].map((i) => ({ requestId: String(i + 1), requester: OPERATOR, recipient: to(i) })),
    fulfilled: ['1', '2', '3'],
    owners: new Map([0, 1, 2].map((i) => [String(i + 1), to(i)])),
  };
  return { keys, killWindows: [{ fromMs: 1_000, toMs: 2_000 }], mints, chain };
}

describe('checkRun', () => {
  it('passes a sound run, connection errors and 503s inside a kill window included', () => {
    const run = soundRun();
    run.keys[1].sends[0].attempts.unshift(
      { startMs: 1_100, endMs: 1_101, outcome: 'connection', code: 'ECONNREFUSED' },
      answer(1_200, 503),
    );
    expect(checkRun(run)).toEqual([]);
  });

  it('names a key answered with two mint ids, and a key answered twice as the one that queued', () => {
    const run = soundRun();
    run.keys[0].sends[1].id = 'm-other';
    expect(checkRun(run)).toContainEqual(expect.stringMatching(/^key k0: answered with 2 mint ids/));
    const twice = soundRun();
    twice.keys[0].sends[1].replayed = false;
    expect(checkRun(twice)).toEqual(['key k0: 2 answers without idempotent-replayed, as if each had queued the mint']);
  });

  it('names a 500, a connection error outside the kill windows and a key that never got a 2xx', () => {
    const run = soundRun();
    run.keys[1].sends[0].attempts.unshift(answer(10, 500), { startMs: 3_000, endMs: 3_001, outcome: 'connection', code: 'ECONNRESET' });
    run.keys[2].sends[0] = { key: 'k2', replayed: false, status: 400, errorCode: 'INVALID_REQUEST', attempts: [answer(200, 400)] };
    expect(checkRun(run)).toEqual([
      'key k1: HTTP 500 at 10 ms',
      'key k1: ECONNRESET at 3000–3001 ms, outside every kill window',
      'key k2: no 2xx answer (last: 400 INVALID_REQUEST)',
      'key k2: HTTP 400 INVALID_REQUEST at 200 ms',
      "request 3 was minted but no key's mint names it",
    ]);
  });

  it('names a mint paid twice, fulfilled twice, not minted, or owned by someone else', () => {
    const paidTwice = soundRun();
    paidTwice.chain.requested.push({ requestId: '4', requester: OPERATOR, recipient: to(1) });
    expect(checkRun(paidTwice)).toEqual([`key k1: the operator paid 2 requests for ${to(1)} (2, 4)`]);

    const fulfilledTwice = soundRun();
    fulfilledTwice.chain.fulfilled.push('2');
    expect(checkRun(fulfilledTwice)).toEqual(['key k1: request 2 fulfilled 2 times']);

    const failed = soundRun();
    failed.mints.set('m-2', { status: 'failed', to: to(2), error: 'the collection is paused' });
    failed.chain.fulfilled.pop();
    expect(checkRun(failed)).toEqual(['mint m-2 (key k2): failed: the collection is paused']);

    const stolen = soundRun();
    stolen.chain.owners.set('1', to(9));
    expect(checkRun(stolen)).toEqual([`key k0: token 1 is owned by ${to(9)}, not ${to(0)}`]);
  });
});

describe('sendPlan', () => {
  it('sends each key once and a tenth of the keys twice, half of them at once and half a third of the run later', () => {
    const { uniqueKeys, duplicates, order } = sendPlan(1_000, 0.1);
    expect([uniqueKeys, duplicates, order.length]).toEqual([909, 91, 1_000]);
    const positions = new Map<number, number[]>();
    order.forEach((k, i) => positions.set(k, [...(positions.get(k) ?? []), i]));
    expect([...positions.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 909 }, (_, i) => i));
    const twice = [...positions.values()].filter((p) => p.length === 2);
    expect(twice).toHaveLength(91);
    expect(twice.filter(([a, b]) => b === a + 1)).toHaveLength(46);
    // The later ones come a third of the keys on (those of the last third, at the end of the run).
    expect(twice.filter(([a, b]) => b > a + 1).every(([a, b]) => b - a >= 303 || b >= 1_000 - 16)).toBe(true);
    expect(sendPlan(60, 0.1)).toMatchObject({ uniqueKeys: 55, duplicates: 5 });
    expect(sendPlan(10, 0)).toEqual({ uniqueKeys: 10, duplicates: 0, order: Array.from({ length: 10 }, (_, i) => i) });
  });
});
