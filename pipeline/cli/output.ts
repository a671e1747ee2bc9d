/** How commands print: one JSON object on stdout for machines, progress on stderr for people. */

/** `value` as one line of JSON, bigints as decimal strings (wei amounts overflow JSON numbers). */
export const jsonLine = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Progress on stderr: one line rewritten in place on a terminal, else a line per step. */
export function progress(): { update(line: string): void; done(): void } {
  const tty = process.stderr.isTTY;
  return {
    update: (line) => process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`),
    done: () => tty && process.stderr.write('\r\x1b[K'),
  };
}
