import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The built CLI, as users run it (`npm run build` first). */
export const CLI = path.resolve(__dirname, '../../dist/pipeline/cli/index.js');

/** How a finished command ended: `code` is null when a signal ended it (its timeout included). */
export type CliRun = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type CliOptions = {
  /** The child's whole environment (not merged with this process's). @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** @defaultValue this process's */
  cwd?: string;
  /** Killed (SIGKILL) after this long, so a hung command fails its test instead of the suite. @defaultValue 120_000 */
  timeoutMs?: number;
  /** Written to stdin. Stdin is closed either way: not a TTY, and a command that reads it gets an end, not a hang. */
  input?: string | Uint8Array;
};

/** Runs `aigc <args>` to its end and captures its output and exit code. */
export function runCli(args: string[], { env = process.env, cwd, timeoutMs = 120_000, input }: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A command that exits before reading its input closes the pipe: not an error of the test.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** A long-running command (`aigc node`, `gateway`, `dev`…): the child, its output so far, and how it ended. */
export type CliProcess = {
  child: ChildProcess;
  /** Stdout and stderr as they came, interleaved. */
  output(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Starts `aigc <args>` with stdin closed; `detached` gives it its own process group (to check nothing outlives it). */
export function spawnCli(
  args: string[],
  { env = process.env, cwd, detached = false }: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {},
): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, stderr: () => stderr, exited };
}
