import { applyOverrides, etherToWei, percentToBps } from '../../pipeline/cli/init';
import { AigcError } from '../../pipeline/errors';
import { loadTemplate } from '../../pipeline/template';

describe('aigc init values', () => {
  it('converts ether to wei exactly, without floating point', () => {
    expect(etherToWei('0.01')).toBe('10000000000000000');
    expect(etherToWei('1')).toBe('1000000000000000000');
    expect(etherToWei('0.000000000000000001')).toBe('1');
    expect(etherToWei('0')).toBe('0');
    for (const bad of ['', 'abc', '-1', '1e18', '0.0000000000000000001', '1,5']) expect(() => etherToWei(bad)).toThrow(/--price/);
  });

  it('converts royalty percent to basis points, up to the 10 % cap', () => {
    expect(percentToBps('5')).toBe(500);
    expect(percentToBps('2.5')).toBe(250);
    expect(percentToBps('0.75')).toBe(75);
    expect(percentToBps('10')).toBe(1_000);
    for (const bad of ['10.01', '11', '-1', '2.555', 'x']) expect(() => percentToBps(bad)).toThrow(/--royalty/);
  });

  it('applies overrides through the template schema and names the field it refuses', () => {
    const openPrompt = loadTemplate('open-prompt');
    expect(applyOverrides(openPrompt, { symbol: 'ABC1', supply: '7' })).toMatchObject({ symbol: 'ABC1', mint: { maxSupply: 7 } });
    expect(openPrompt.symbol).toBe('DREAM');
    const refused = (o: Parameters<typeof applyOverrides>[1]) => {
      try {
        applyOverrides(openPrompt, o);
      } catch (error) {
        expect(error).toBeInstanceOf(AigcError);
        return (error as AigcError).shortMessage;
      }
      throw new Error('accepted');
    };
    expect(refused({ symbol: 'abc' })).toMatch(/^invalid --symbol "abc" \(symbol\): /);
    expect(refused({ name: '' })).toMatch(/--name "" \(name\)/);
    expect(refused({ supply: '1.5' })).toMatch(/--supply/);
    expect(refused({ supply: '99999999999' })).toMatch(/--supply/);
  });
});
