import pino, { type Logger } from 'pino';

/**
 * JSON logs (pino). `file` sends them to a file instead of stderr, which keeps CLI output readable. Secrets are
 * redacted wherever they appear under these keys.
 */
export function createLogger({ level = 'info', file }: { level?: string; file?: string } = {}): Logger {
  const options = {
    level,
    base: { app: 'aigc-nft' },
    redact: [
      'privateKey',
      'apiKey',
      'jwk',
      'password',
      '*.privateKey',
      '*.apiKey',
      '*.jwk',
      '*.password',
      'config.signer',
      'config.gateway.apiKey',
    ],
  };
  return file ? pino(options, pino.destination({ dest: file, mkdir: true, sync: true })) : pino(options, pino.destination(2));
}
