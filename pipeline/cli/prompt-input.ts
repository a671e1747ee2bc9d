import fs from 'node:fs';
import { AigcError } from '../errors';

/**
 * The prompt `aigc mint` pays for: its argument, or the exact bytes of `--prompt-file` (`-` reads stdin). A file can
 * hold what an argument cannot (a NUL byte, bytes that are not UTF-8), so it is decoded strictly: not UTF-8 is refused
 * here rather than turned into U+FFFD and paid for.
 */
export function readPrompt(arg: string | undefined, file: string | undefined): string {
  if (arg !== undefined && file !== undefined)
    throw new AigcError('INVALID_REQUEST', 'give the prompt once: as the argument or with --prompt-file, not both');
  if (file === undefined) {
    if (arg === undefined)
      throw new AigcError('INVALID_REQUEST', 'no prompt: pass it as the argument (aigc mint "a red fox") or --prompt-file <file>');
    return arg;
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file === '-' ? 0 : file);
  } catch (cause) {
    throw new AigcError('INVALID_REQUEST', `--prompt-file ${file}: cannot read it: ${(cause as Error).message}`, { cause });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new AigcError('INVALID_REQUEST', `--prompt-file ${file}: the prompt is not valid UTF-8; save the file as UTF-8`, { cause });
  }
}
