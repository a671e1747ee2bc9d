import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ChainRuntime } from '../runtime/types';
import type { ArweaveStore } from '../storage/arweave';
import {
  arweaveFunded,
  collectionDeployed,
  gatewayAccepts,
  nativeSigning,
  runStartupChecks,
  type StartupCheck,
  signerAuthorised,
  signerFunded,
} from './checks';

/**
 * The node's start-up checks: each collection has code and authorises the signer, the gateway takes the node's key,
 * the signer (nodes that write to the chain) and the Arweave wallet have funds. Runs them once, throws the fatal
 * ones as one line, logs warnings and services that did not answer, and returns them for `/readyz`.
 */
export async function startupChecks({
  config,
  chains,
  signerAddress,
  store,
  gatewayUrl,
  arweaveUrl,
  listen,
  logger,
}: {
  config: Config;
  chains: Map<number, ChainRuntime>;
  signerAddress: string;
  store: Pick<ArweaveStore, 'address'>;
  gatewayUrl: string;
  arweaveUrl: string;
  listen: boolean;
  logger: Logger;
}): Promise<StartupCheck[]> {
  // Keys made at start (tee, simulated) are registered and funded once the node has printed them: warnings only.
  const fatal = config.signer.attester === 'operator';
  const checks: StartupCheck[] = [
    nativeSigning(),
    gatewayAccepts(gatewayUrl, config.gateway.apiKey),
    arweaveFunded(arweaveUrl, store.address),
  ];
  for (const chain of chains.values()) {
    for (const c of chain.collections)
      checks.push(
        collectionDeployed(chain.provider, chain.chainId, c.address),
        signerAuthorised(c.contract, chain.chainId, signerAddress, { fatal }),
      );
    if (listen) checks.push(signerFunded(chain.provider, chain.chainId, signerAddress, { fatal }));
  }
  const report = await runStartupChecks(checks);
  for (const { name, message } of report.warnings) logger.warn({ check: name }, message);
  for (const { name, message } of report.unanswered)
    logger.warn({ check: name, err: message }, 'start-up check could not run; /readyz retries it');
  return checks;
}
