import { type Command, InvalidArgumentError } from 'commander';

/** Parsers and option sets the commands share. */

export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
};

export const portNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number (0 picks a free one)');
  return n;
};

export const httpUrl = (value: string): string => {
  if (!/^https?:\/\/[^\s/]+/.test(value)) throw new InvalidArgumentError('expected an http(s) URL');
  return value;
};

export const address = (value: string): string => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError('expected a 0x-prefixed 20-byte address');
  return value;
};

export const wholeNumber = (value: string): bigint => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
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
