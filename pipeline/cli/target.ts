import { InvalidArgumentError } from 'commander';
import { AigcError } from '../errors';
import { address, httpUrl } from './commands/options';
import { type DevAccount, type Deployment, readDeployments, readDevState } from './project';

/** The flags every command that talks to a collection accepts. */
export type TargetFlags = { rpc?: string; collection?: string; arweave?: string; node?: string };

/** Where a command sends its calls, and where each value came from. */
export type Target = {
  rpcUrl: string;
  collection: string;
  arweaveUrl: string;
  nodeUrl?: string;
  /** First block to search for the collection's events. */
  fromBlock: number;
  /** `flags`, `env`, `aigc dev` or `deployments/<chainId>.json`. */
  source: string;
  /** The local stack's funded accounts, when the target is `aigc dev`'s. */
  devAccounts?: DevAccount[];
};

/** An AIGC_* variable, checked as its flag is (a wrong value names the variable, instead of failing later). */
/** An environment variable checked like the flag it stands for; a bad value names the variable. */
export function checkedEnv(name: string, check: (value: string) => string): string | undefined {
  const value = process.env[name] || undefined;
  if (value === undefined) return undefined;
  try {
    return check(value);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new AigcError('INVALID_REQUEST', `${name}=${JSON.stringify(value.slice(0, 80))} is invalid: ${error.message}`);
  }
}

/**
 * Resolves the chain, collection, Arweave gateway and node a command works on: flags first, then AIGC_* environment
 * variables, then the folder's running `aigc dev` stack (`.aigc/dev.json`), then its only deployment
 * (`deployments/<chainId>.json`; with several, the one of `chainId`).
 */
export function resolveTarget(flags: TargetFlags, { chainId, dir }: { chainId?: number; dir?: string } = {}): Target {
  const given = {
    rpcUrl: flags.rpc ?? checkedEnv('AIGC_RPC_URL', httpUrl),
    collection: flags.collection ?? checkedEnv('AIGC_COLLECTION', address),
    arweaveUrl: flags.arweave ?? checkedEnv('AIGC_ARWEAVE_URL', httpUrl),
    nodeUrl: flags.node ?? checkedEnv('AIGC_NODE_URL', httpUrl),
  };
  const dev = readDevState(dir);
  // The dev stack fills in only when nothing given points elsewhere.
  if (dev && (!given.rpcUrl || given.rpcUrl === dev.rpcUrl) && (!given.collection || sameAddress(given.collection, dev.collection)))
    return {
      rpcUrl: dev.rpcUrl,
      collection: given.collection ?? dev.collection,
      arweaveUrl: given.arweaveUrl ?? dev.arweaveUrl,
      nodeUrl: given.nodeUrl ?? dev.nodeUrl,
      fromBlock: dev.startBlock,
      source: 'aigc dev (.aigc/dev.json)',
      devAccounts: dev.accounts,
    };
  const deployment = pickDeployment(readDeployments(dir), chainId, given.collection);
  const rpcUrl = given.rpcUrl ?? deployment?.rpcUrl;
  const collection = given.collection ?? deployment?.collection;
  if (!collection)
    throw new AigcError(
      'INVALID_REQUEST',
      'no collection: pass --collection (or set AIGC_COLLECTION), or run inside a collection folder while `aigc dev` runs or after `aigc deploy`',
    );
  if (!rpcUrl) throw new AigcError('INVALID_REQUEST', 'no chain: pass --rpc <url> (or set AIGC_RPC_URL)');
  return {
    rpcUrl,
    collection,
    arweaveUrl: given.arweaveUrl ?? deployment?.arweaveUrl ?? 'https://arweave.net',
    nodeUrl: given.nodeUrl ?? deployment?.nodeUrl,
    fromBlock: deployment && sameAddress(deployment.collection, collection) ? deployment.blockNumber : 0,
    source: flags.collection || flags.rpc ? 'flags' : given.collection ? 'env' : `deployments/${deployment!.chainId}.json`,
  };
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function pickDeployment(all: Deployment[], chainId?: number, collection?: string): Deployment | undefined {
  const matching = all.filter(
    (d) => (chainId === undefined || d.chainId === chainId) && (!collection || sameAddress(d.collection, collection)),
  );
  return matching.length === 1 ? matching[0] : undefined;
}
