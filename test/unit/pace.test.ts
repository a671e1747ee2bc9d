import { createPacer } from '../../pipeline/chain/pace';

describe('createPacer', () => {
  it('spaces calls 1000 / perSecond ms apart, without a burst', async () => {
    const pace = createPacer(50); // 20 ms apart
    const started: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      await pace.wait();
      started.push(Date.now() - t0);
    }
    expect(started[0]).toBeLessThan(15); // the first call goes at once
    for (let i = 1; i < started.length; i++) expect(started[i] - started[i - 1]).toBeGreaterThanOrEqual(19); // a timer may fire 1 ms early
    expect(started[9]).toBeGreaterThanOrEqual(9 * 20 - 2);
  });

  it('gives concurrent callers separate slots', async () => {
    const pace = createPacer(100);
    const t0 = Date.now();
    const at = await Promise.all(Array.from({ length: 5 }, async () => (await pace.wait(), Date.now() - t0)));
    expect(Math.max(...at)).toBeGreaterThanOrEqual(4 * 10 - 2);
  });

  it('does not wait when there is no limit', async () => {
    const pace = createPacer(0);
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) await pace.wait();
    expect(Date.now() - t0).toBeLessThan(100);
  });
});
