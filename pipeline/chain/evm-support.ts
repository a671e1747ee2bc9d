import type { Provider } from 'ethers';
import { AigcError } from '../errors';

/**
 * Creation code that stores 42 in transient storage (EIP-1153), loads it back, copies it in memory with MCOPY
 * (EIP-5656) using PUSH0 (EIP-3855), and returns it. A chain that lacks any of these answers an error instead of 42.
 */
const PROBE = '0x602a5f5d5f5c5f5260205f60205e60206020f3';
const EXPECTED = `0x${'00'.repeat(31)}2a`;

const checked = new WeakMap<Provider, Promise<void>>();

/**
 * Refuses a chain on which collections cannot work: the contracts are compiled for Cancun, and the reentrancy
 * guard of `reject`, `refund`, `withdraw` and `claim` needs transient storage. On such a chain a deployed collection
 * would take payments it could never refund, so deploying stops here with one line. Probed once per provider.
 *
 * @example
 * await assertChainSupported(provider); // throws CHAIN_UNSUPPORTED before any deployment
 */
export function assertChainSupported(provider: Provider): Promise<void> {
  let probe = checked.get(provider);
  if (!probe) {
    probe = (async () => {
      let answer: string;
      try {
        answer = await provider.call({ data: PROBE });
      } catch (cause) {
        throw unsupported(cause);
      }
      if (answer !== EXPECTED) throw unsupported(new Error(`probe returned ${answer}`));
    })();
    checked.set(provider, probe);
    probe.catch(() => checked.delete(provider));
  }
  return probe;
}

function unsupported(cause: unknown): AigcError {
  return new AigcError(
    'CHAIN_UNSUPPORTED',
    'this chain does not run Cancun opcodes (EIP-1153 transient storage, MCOPY, PUSH0): AIGC collections need them to refund and pay out; deploy on a chain upgraded to Cancun',
    { cause },
  );
}
