import { type Command, InvalidArgumentError } from 'commander';

/** Parsers and option sets the commands share. */

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days): a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A parser of whole numbers from `min` to `max`, written in decimal digits only: "1e3", "0x10", "2.5", " 7" and
 * numbers past `max` (which would lose precision or overflow a timer) are refused, not rounded or wrapped.
 */
export const intInRange =
  (min: number, max: number, expected = `a whole number from ${min} to ${max}`) =>
  (value: string): number => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`expected ${expected}`);
    return n;
  };

export const positiveInt = intInRange(1, Number.MAX_SAFE_INTEGER, 'a whole number ≥ 1');
/** A delay in milliseconds that a timer can wait. */
export const milliseconds = intInRange(1, MAX_TIMER_MS, `a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`);
/** A delay in seconds that a timer can wait. */
export const seconds = intInRange(
  1,
  Math.floor(MAX_TIMER_MS / 1000),
  `a whole number of seconds from 1 to ${Math.floor(MAX_TIMER_MS / 1000)}`,
);
/** A block height (0 = genesis). */
export const blockNumber = intInRange(0, Number.MAX_SAFE_INTEGER, 'a block number (a whole number ≥ 0)');

export const portNumber = intInRange(0, 65_535, 'a port number (0 picks a free one)');

export const httpUrl = (value: string): string => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // Parsed as fetch and the providers will parse it: a space in the host or a port past 65535 fails here, not later.
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname) throw new InvalidArgumentError('expected an http(s) URL');
  return value;
};

export const address = (value: string): string => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError('expected a 0x-prefixed 20-byte address');
  return value;
};

const UINT256_MAX = (1n << 256n) - 1n;

/** A uint256, e.g. a token id. */
export const wholeNumber = (value: string): bigint => {
  if (!/^\d+$/.test(value) || BigInt(value) > UINT256_MAX) throw new InvalidArgumentError('expected a whole number (at most 2^256 - 1)');
  return BigInt(value);
};

/**
 * --rpc, --collection, --arweave, --node: where a command finds the collection. All optional: the defaults come
 * from AIGC_* variables, then the folder's `aigc dev` stack or deployment (see `resolveTarget`).
 */
export function targetOptions(command: Command, { node = false } = {}): Command {
  command
    .option('--rpc <url>', 'JSON-RPC endpoint (or AIGC_RPC_URL; default: the folder’s aigc dev stack or deployment)', httpUrl)
    .option('--collection <address>', 'collection contract (or AIGC_COLLECTION; default: as --rpc)', address)
    .option('--arweave <url>', 'Arweave gateway (or AIGC_ARWEAVE_URL; default: as --rpc, else https://arweave.net)', httpUrl);
  if (node) command.option('--node <url>', "operator node's HTTP API (or AIGC_NODE_URL; default: as --rpc)", httpUrl);
  return command;
}

/** The examples block of `--help`. */
export const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

export const bytes32 = (value: string): string => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError('expected a 0x-prefixed 32-byte hex value');
  return value;
};
