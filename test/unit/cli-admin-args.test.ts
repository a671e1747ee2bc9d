import { parseTime } from '../../pipeline/cli/admin';

describe('aigc admin set-window bounds', () => {
  it('reads ISO dates, unix seconds and none', () => {
    expect(parseTime('2030-01-01T00:00:00Z', 'end')).toBe(1_893_456_000);
    expect(parseTime('1893456000', 'start')).toBe(1_893_456_000);
    expect(parseTime('none', 'end')).toBe(0);
  });

  it.each(['tomorrow', '-5', '1.5', '99999999999999', 'Jan 1'])('refuses %p in one line naming the forms it takes', (value) => {
    expect(() => parseTime(value, 'start')).toThrow(
      `the start "${value}" must be an ISO date (2026-01-31T18:00:00Z), unix seconds, now or none`,
    );
  });
});
