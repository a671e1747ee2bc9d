import { CommanderError } from 'commander';
import { AigcError, type ErrorCode } from '../errors';

/** Exit codes by error code, in one place: 2 for bad input or settings, 3 for a missing service, 1 otherwise. */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 2,
  TEMPLATE_INVALID: 2,
  INVALID_REQUEST: 2,
  REDIS_UNAVAILABLE: 3,
  ANVIL_UNAVAILABLE: 3,
  VERIFY_FAILED: 4,
};

/** Exit code of bad usage: an unknown flag, a flag's value its parser refused, a missing argument. */
export const USAGE_EXIT = 2;

/** Prints one clear line for `error` (details with --verbose) and returns the exit code. */
export function reportError(error: unknown, verbose = false): number {
  // Commander has printed its own line (`error: option '--to <address>' argument '0x12' is invalid. …`), or the help.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT;
  if (error instanceof AigcError) {
    console.error(`error: ${error.shortMessage}`);
    if (verbose && error.details) console.error(error.details);
    return EXIT_CODES[error.code] ?? 1;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (verbose && error instanceof Error) console.error(error.stack);
  return 1;
}
