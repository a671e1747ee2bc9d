import { type Contract, formatEther, type Provider } from 'ethers';
import { SignerKind } from '../chain/collection';
import { collectionReads } from '../chain/typed-reads';
import { signsNatively } from '../crypto/sign-digest';
import { AigcError, type ErrorCode, errorMessage } from '../errors';
import { createHttpClient } from '../net/http-client';

/**
 * A setting that cannot work (no contract at the address, a key the collection does not know, a refused API key, an
 * empty wallet): the node refuses to start with this one line, which says what to do. Anything else a check throws
 * (a service that does not answer yet) only fails `/readyz`, since it may come up after the node.
 */
export class StartupRefusal extends AigcError {}

/** What a check found that works for now but needs attention soon, e.g. a balance running low. */
export type CheckResult = { warning?: string } | void;

/** One named start-up check; it runs again for each `/readyz`. */
export type StartupCheck = { name: string; check(): Promise<CheckResult> };

const refuse = (code: ErrorCode, message: string) => new StartupRefusal(code, message);

/** The node's keys sign through libsecp256k1's native binding, not the JavaScript fallback (see `signsNatively`). */
export function nativeSigning(loaded: () => boolean = signsNatively): StartupCheck {
  return {
    name: 'signing:libsecp256k1',
    async check() {
      if (!loaded())
        throw refuse(
          'CONFIG_INVALID',
          "the secp256k1 package's native binding did not load, and its JavaScript fallback is not safe to sign with: run `npm rebuild secp256k1` (it needs python3, make and a C++ compiler where no prebuilt binary fits this platform)",
        );
    },
  };
}

/** The contract at `address` has code: a typo in the address, or the wrong chain, would otherwise serve nothing. */
export function collectionDeployed(provider: Provider, chainId: number, address: string): StartupCheck {
  return {
    name: `collection:${chainId}:${address}`,
    async check() {
      if ((await provider.getCode(address)) === '0x')
        throw refuse(
          'CONFIG_INVALID',
          `no contract at ${address} on chain ${chainId}: check collection.address (AIGC_COLLECTION) and the RPC URL, or deploy one with \`aigc deploy\``,
        );
    },
  };
}

/**
 * The collection accepts the node's signer (`signerInfo(signer).kind`). For keys made at start (`tee`, `simulated`)
 * the owner registers them after they are printed, so an unknown key there is a warning.
 */
export function signerAuthorised(contract: Contract, chainId: number, signer: string, { fatal = true } = {}): StartupCheck {
  return {
    name: `signer-authorised:${chainId}:${String(contract.target)}`,
    async check() {
      const [kind] = await collectionReads(contract).signerInfo(signer);
      const collection = String(contract.target);
      if (Number(kind) === SignerKind.COMPROMISED)
        throw refuse('CONFIG_INVALID', `signer ${signer} is revoked as compromised by collection ${collection}: use a new key`);
      if (Number(kind) !== SignerKind.NONE) return;
      const message = `signer ${signer} is not authorised by collection ${collection} on chain ${chainId}: its owner runs \`aigc admin set-signer ${signer}\``;
      if (fatal) throw refuse('CONFIG_INVALID', message);
      return { warning: message };
    },
  };
}

/** Below this the signer can pay only a few fulfilment batches on a mainnet: `/readyz` warns. */
export const LOW_SIGNER_BALANCE_WEI = 10n ** 16n; // 0.01 ETH

/** The signer can pay gas for fulfilments: refuse at zero (every write would fail; a warning when not `fatal`), warn when low. */
export function signerFunded(
  provider: Provider,
  chainId: number,
  signer: string,
  { low = LOW_SIGNER_BALANCE_WEI, fatal = true } = {},
): StartupCheck {
  return {
    name: `signer-balance:${chainId}`,
    async check() {
      const balance = await provider.getBalance(signer);
      const fund = `fund it (\`aigc wallet signer balance ${signer} --rpc <url>\` shows the balance)`;
      if (balance === 0n) {
        const message = `signer ${signer} has no ETH on chain ${chainId} to pay for fulfilments: ${fund}`;
        if (fatal) throw refuse('INSUFFICIENT_FUNDS', message);
        return { warning: message };
      }
      if (balance < low) return { warning: `signer ${signer} has only ${formatEther(balance)} ETH on chain ${chainId}: ${fund}` };
    },
  };
}

/** The gateway accepts the node's API key (`GET /v1/models` with it): a 401 or 403 is a wrong or missing key. */
export function gatewayAccepts(url: string, apiKey: string | undefined): StartupCheck {
  const http = createHttpClient({
    baseUrl: url,
    name: 'diffusion gateway',
    errorCode: 'GATEWAY_FAILED',
    timeoutMs: 5_000,
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return {
    name: 'gateway',
    async check() {
      const res = await http.get('v1/models');
      if (res.status === 401 || res.status === 403)
        throw refuse(
          'UNAUTHORIZED',
          `the gateway at ${url} refuses the node's API key (HTTP ${res.status}): set gateway.apiKey (AIGC_GATEWAY_API_KEY) to one of the gateway's GATEWAY_API_KEYS`,
        );
      if (!res.ok) throw new AigcError('GATEWAY_FAILED', `the gateway at ${url} answered HTTP ${res.status} to GET /v1/models`);
    },
  };
}

/** Below this (in winston) the Arweave wallet pays for only a few hundred images: `/readyz` warns. 0.01 AR. */
export const LOW_ARWEAVE_BALANCE_WINSTON = 10n ** 10n;

/** The Arweave wallet can pay for uploads (`GET /wallet/<address>/balance`): refuse at zero, warn when low. */
export function arweaveFunded(url: string, address: string, low = LOW_ARWEAVE_BALANCE_WINSTON): StartupCheck {
  const http = createHttpClient({ baseUrl: url, name: 'Arweave gateway', errorCode: 'ARWEAVE_FAILED', timeoutMs: 5_000 });
  return {
    name: 'arweave-balance',
    async check() {
      const res = await http.get(`wallet/${address}/balance`);
      if (!res.ok)
        throw new AigcError('ARWEAVE_FAILED', `the Arweave gateway at ${url} answered HTTP ${res.status} for the wallet balance`);
      const winston = BigInt(res.text().trim() || '0');
      const fund = `fund it (\`aigc wallet arweave balance ${address} --arweave ${url}\`; on a local arlocal: GET ${url}/mint/${address}/1000000000000)`;
      if (winston === 0n) throw refuse('INSUFFICIENT_FUNDS', `Arweave wallet ${address} has no AR on ${url} to pay for uploads: ${fund}`);
      if (winston < low) return { warning: `Arweave wallet ${address} has only ${winstonToAr(winston)} AR on ${url}: ${fund}` };
    },
  };
}

/** Winston (10^-12 AR) as a decimal AR amount. */
export function winstonToAr(winston: bigint): string {
  const whole = winston / 10n ** 12n;
  const fraction = (winston % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

export type StartupReport = { warnings: { name: string; message: string }[]; unanswered: { name: string; message: string }[] };

/**
 * Runs every check at once. Refusals are thrown together as one line (each says what to do); a service that did not
 * answer and every warning are returned for the caller to log: `/readyz` keeps asking.
 */
export async function runStartupChecks(checks: StartupCheck[]): Promise<StartupReport> {
  const report: StartupReport = { warnings: [], unanswered: [] };
  const refusals: StartupRefusal[] = [];
  await Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        const result = await check();
        if (result?.warning) report.warnings.push({ name, message: result.warning });
      } catch (error) {
        if (error instanceof StartupRefusal) refusals.push(error);
        else report.unanswered.push({ name, message: errorMessage(error) });
      }
    }),
  );
  if (refusals.length === 1) throw refusals[0];
  if (refusals.length)
    throw new StartupRefusal(refusals[0].code, refusals.map((r) => r.shortMessage).join('; '), {
      details: refusals.map((r) => r.shortMessage).join('\n'),
    });
  return report;
}
