import fs from 'node:fs';
import path from 'node:path';
import { AigcError } from '../errors';
import { APP_VERSION } from '../version';
import { jsonLine } from './output';

export type InitNodeOptions = {
  rpc?: string;
  collection?: string;
  arweave?: string;
  template?: string;
  yes?: boolean;
  force?: boolean;
  json?: boolean;
};

/** The shipped templates/node folder, found from pipeline/cli (sources) or dist/pipeline/cli (compiled). */
function templatesDir(): string {
  const fromSource = path.resolve(__dirname, '..', '..', 'templates', 'node');
  return fs.existsSync(fromSource) ? fromSource : path.resolve(__dirname, '..', '..', '..', 'templates', 'node');
}

/** The node's settings file: what is not secret and not a host name of the compose network, with `//` comments. */
export function nodeConfigText(o: { rpc?: string; collection?: string; arweave: string; template: string }): string {
  const config = {
    '//': 'Settings of `aigc node --config node.config.json`. Environment variables (AIGC_*, REDIS_URL; .env) override them; keys named // are comments. Every setting: docs/operator.md.',
    dataDir: 'data',
    chain: {
      '//': o.rpc
        ? 'The chain the collection lives on.'
        : 'Set rpcUrl (or AIGC_RPC_URL): the JSON-RPC endpoint of the chain the collection lives on.',
      ...(o.rpc ? { rpcUrl: o.rpc } : {}),
      confirmations: 2,
      startBlock: 0,
    },
    collection: {
      '//': o.collection
        ? 'The collection this node serves; template: its render settings.'
        : 'Set address (or AIGC_COLLECTION): the collection this node serves (`aigc deploy` prints it).',
      ...(o.collection ? { address: o.collection } : {}),
      template: o.template,
    },
    redis: { url: 'redis://127.0.0.1:6379', prefix: 'aigc' },
    gateway: { '//': 'apiKey: set AIGC_GATEWAY_API_KEY in .env (one of the gateway’s GATEWAY_API_KEYS).', url: 'http://127.0.0.1:8080' },
    signer: {
      '//': 'An encrypted keystore (`aigc wallet signer create`) and a file holding its password.',
      keystorePath: 'secrets/signer.json',
      keystorePasswordFile: 'secrets/signer.password',
    },
    arweave: {
      '//': 'The wallet that pays for uploads (`aigc wallet arweave create`).',
      url: o.arweave,
      walletPath: 'secrets/arweave-wallet.json',
    },
    generate: { '//': 'Renders at once: match the backend’s capacity.', concurrency: 2 },
    http: { '//': '/healthz, /readyz, /metrics and the /v1 API.', host: '127.0.0.1', port: 9464 },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Asks for what flags did not give, on a terminal and without --yes; else keeps it unset (the files say where). */
async function ask(o: InitNodeOptions): Promise<Pick<InitNodeOptions, 'rpc' | 'collection'>> {
  if (o.yes || !process.stdin.isTTY || (o.rpc && o.collection)) return o;
  const clack = await import('@clack/prompts');
  const text = async (message: string, placeholder: string, valid: RegExp, current?: string) => {
    if (current) return current;
    const value = await clack.text({
      message,
      placeholder,
      validate: (v) => (!v || valid.test(v) ? undefined : `expected ${placeholder}`),
    });
    if (clack.isCancel(value)) throw new AigcError('INVALID_REQUEST', 'aigc init-node cancelled; nothing written');
    return value || undefined;
  };
  return {
    rpc: await text('RPC URL of the chain (empty: fill in later)', 'https://…', /^https?:\/\//, o.rpc),
    collection: await text('Collection address (empty: fill in later)', '0x… (40 hex digits)', /^0x[0-9a-fA-F]{40}$/, o.collection),
  };
}

/** `aigc init-node <dir>`: the starter files of a self-hosted node (see templates/node/README.md). */
export async function initNodeCommand(dir: string, o: InitNodeOptions): Promise<void> {
  const out = path.resolve(dir);
  const given = { ...o, ...(await ask(o)) };
  const files: Record<string, string> = {
    'node.config.json': nodeConfigText({
      rpc: given.rpc,
      collection: given.collection,
      arweave: o.arweave ?? 'https://arweave.net',
      template: o.template ?? 'open-prompt',
    }),
  };
  const source = templatesDir();
  const names: Record<string, string> = { 'env.example': '.env.example', dockerignore: '.dockerignore' };
  for (const name of fs.readdirSync(source))
    files[names[name] ?? name] = fs
      .readFileSync(path.join(source, name), 'utf8')
      .replaceAll('{{VERSION}}', APP_VERSION)
      .replaceAll('{{DIR}}', out);
  const existing = Object.keys(files).filter((name) => fs.existsSync(path.join(out, name)));
  if (existing.length && !o.force)
    throw new AigcError(
      'INVALID_REQUEST',
      `${dir} already has ${existing.join(', ')}: choose another folder or pass --force to replace them`,
    );
  fs.mkdirSync(path.join(out, 'secrets'), { recursive: true, mode: 0o700 });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(out, name), text);
  const written = Object.keys(files).sort();
  if (o.json) return void console.log(jsonLine({ dir: out, files: written }));
  console.log(`wrote ${written.join(', ')} and secrets/ to ${out}`);
  console.log(
    `next: read ${path.join(dir, 'README.md')}; make keys with \`aigc wallet signer create --out ${path.join(dir, 'secrets/signer.json')}\``,
  );
}
