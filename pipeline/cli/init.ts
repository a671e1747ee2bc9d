import fs from 'node:fs';
import path from 'node:path';
import { AigcError } from '../errors';
import { collectionTemplateSchema, type CollectionTemplate, loadTemplate, templatesDir } from '../template';
import { collectionJsonSchemaText } from '../template-schema';

export type InitCommandOptions = {
  template?: string;
  name?: string;
  symbol?: string;
  /** Mint price in ether, as typed (`0.01`). */
  price?: string;
  /** Max supply, as typed. */
  supply?: string;
  /** Royalty in percent, as typed (`5`, `2.5`; at most 10). */
  royalty?: string;
  yes?: boolean;
  json?: boolean;
  force?: boolean;
};

/** The values a creator may set from flags or prompts, as typed. */
type Overrides = Pick<InitCommandOptions, 'name' | 'symbol' | 'price' | 'supply' | 'royalty'>;
type Field = keyof Overrides;

/** The flag that sets each schema path, so an error names what the user typed. */
const FIELD_OF_PATH: Record<string, Field> = {
  name: 'name',
  symbol: 'symbol',
  'mint.priceWei': 'price',
  'mint.maxSupply': 'supply',
  'royalty.bps': 'royalty',
};

const SCHEMA_FILE = 'collection.schema.json';

/** `0.01` → `10000000000000000`: ether with up to 18 decimals, to wei, without floating point. */
export function etherToWei(ether: string): string {
  const m = /^(\d{1,10})(?:\.(\d{1,18}))?$/.exec(ether.trim());
  if (!m) throw invalid('price', ether, 'an amount in ether such as 0.01 (up to 18 decimals)');
  return (BigInt(m[1]) * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0'))).toString();
}

/** `5` → 500, `2.5` → 250: royalty percent (up to 2 decimals, at most 10, the contract's cap) to basis points. */
export function percentToBps(percent: string): number {
  const m = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(percent.trim());
  const bps = m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : NaN;
  if (!m || bps > 1_000)
    throw invalid('royalty', percent, 'a percentage from 0 to 10 such as 5 or 2.5 (the contract caps royalties at 10 %)');
  return bps;
}

function invalid(field: Field, value: string, expected: string): AigcError {
  return new AigcError('TEMPLATE_INVALID', `invalid --${field} ${JSON.stringify(value)}: expected ${expected}; nothing written`);
}

/** The template with the overrides applied, validated by the same schema `loadTemplate` uses. Throws naming the field. */
export function applyOverrides(template: CollectionTemplate, o: Overrides): CollectionTemplate {
  const draft = structuredClone(template);
  if (o.name !== undefined) draft.name = o.name;
  if (o.symbol !== undefined) draft.symbol = o.symbol;
  if (o.price !== undefined) draft.mint.priceWei = etherToWei(o.price);
  if (o.supply !== undefined) {
    if (!/^\d{1,10}$/.test(o.supply.trim())) throw invalid('supply', o.supply, 'a whole number ≥ 1');
    draft.mint.maxSupply = Number(o.supply);
  }
  if (o.royalty !== undefined) draft.royalty = { ...draft.royalty, bps: percentToBps(o.royalty) };
  const parsed = collectionTemplateSchema.safeParse(draft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.join('.');
    const field = FIELD_OF_PATH[at];
    const where = field && o[field] !== undefined ? `--${field} ${JSON.stringify(o[field])}` : at || '(root)';
    throw new AigcError('TEMPLATE_INVALID', `invalid ${where} (${at}): ${issue.message}; nothing written`);
  }
  const { $schema: _schema, ...collection } = parsed.data;
  return collection;
}

/** Template folders shipped under templates/collections, by name. */
export function listTemplates(): string[] {
  const dir = templatesDir();
  return fs
    .readdirSync(dir)
    .filter((name) => fs.existsSync(path.join(dir, name, 'collection.json')))
    .sort();
}

/** Asks for the values not given as flags (stdin and stdout are a TTY, no --yes). */
async function ask(opts: InitCommandOptions): Promise<{ template: string; overrides: Overrides }> {
  const clack = await import('@clack/prompts');
  const answer = (value: string | symbol): string => {
    if (clack.isCancel(value) || typeof value === 'symbol') {
      clack.cancel('nothing written');
      throw new AigcError('INVALID_REQUEST', 'aigc init cancelled; nothing written');
    }
    return value;
  };
  clack.intro('aigc init');
  let template = opts.template;
  if (template === undefined) {
    const names = listTemplates();
    template = answer(
      await clack.select<string>({
        message: 'Template',
        options: names.map((value) => ({ value, label: value, hint: loadTemplate(value).name })),
        initialValue: names.includes('open-prompt') ? 'open-prompt' : names[0],
      }),
    );
  }
  const base = loadTemplate(template);
  const overrides: Overrides = { name: opts.name, symbol: opts.symbol, price: opts.price, supply: opts.supply, royalty: opts.royalty };
  applyOverrides(base, overrides); // a bad flag fails before any question
  const questions: { field: Field; message: string; initial: string }[] = [
    { field: 'name', message: 'Collection name', initial: base.name },
    { field: 'symbol', message: 'Symbol (1-11 upper-case letters or digits)', initial: base.symbol },
    { field: 'price', message: 'Mint price in ETH', initial: weiToEther(base.mint.priceWei) },
    { field: 'supply', message: 'Max supply', initial: String(base.mint.maxSupply) },
  ];
  for (const q of questions) {
    if (overrides[q.field] !== undefined) continue;
    overrides[q.field] = answer(
      await clack.text({
        message: q.message,
        initialValue: q.initial,
        validate: (value) => {
          try {
            applyOverrides(base, { ...overrides, [q.field]: value ?? '' });
            return undefined;
          } catch (error) {
            return error instanceof AigcError ? error.shortMessage.replace(/; nothing written$/, '') : String(error);
          }
        },
      }),
    );
  }
  return { template, overrides };
}

function weiToEther(wei: string): string {
  const padded = wei.padStart(19, '0');
  const fraction = padded.slice(-18).replace(/0+$/, '');
  return fraction ? `${padded.slice(0, -18)}.${fraction}` : padded.slice(0, -18);
}

/** Refuses a folder that exists and holds anything (unless --force); a missing folder is created later. */
function checkTarget(dir: string, force: boolean): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new AigcError('INVALID_REQUEST', `${dir} exists and is not a folder; nothing written`);
  if (fs.readdirSync(dir).length > 0 && !force) {
    throw new AigcError('INVALID_REQUEST', `${dir} is not empty; pick a new folder or pass --force (overwrites the files init writes)`);
  }
}

/** The files of a new collection folder, by name. */
export function scaffoldFiles(collection: CollectionTemplate, templateName: string): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'collection.json': json({ $schema: `./${SCHEMA_FILE}`, ...collection }),
    [SCHEMA_FILE]: collectionJsonSchemaText(),
    '.env.example': ENV_EXAMPLE,
    'README.md': readme(collection, templateName),
    'embed.html': embedHtml(collection),
    '.gitignore': '.aigc/\n.env\nnode_modules/\n',
  };
}

/**
 * `aigc init <dir>`: scaffolds a collection folder from a template, with flags (or, on a TTY without --yes, answers)
 * overriding its values. Everything is validated before the first file is written.
 */
export async function initCommand(dirArg: string, opts: InitCommandOptions): Promise<void> {
  const dir = path.resolve(dirArg);
  checkTarget(dir, Boolean(opts.force));
  const interactive = !opts.yes && !opts.json && Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const { template, overrides } = interactive ? await ask(opts) : { template: opts.template ?? 'open-prompt', overrides: opts };
  if (!template.endsWith('.json') && !listTemplates().includes(template)) {
    throw new AigcError(
      'TEMPLATE_INVALID',
      `unknown template ${template}; shipped: ${listTemplates().join(', ')} (or a path to a collection.json)`,
    );
  }
  const collection = applyOverrides(loadTemplate(template), overrides);
  const files = scaffoldFiles(collection, template);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);

  const written = Object.keys(files).map((name) => path.join(dir, name));
  if (opts.json) {
    console.log(JSON.stringify({ dir, files: written }));
    return;
  }
  const rel = path.relative(process.cwd(), dir) || '.';
  console.log(`aigc init: "${collection.name}" (${collection.symbol}) from template ${template} in ${rel}/`);
  for (const name of Object.keys(files)) console.log(`  ${name}`);
  const config = path.join(rel, 'collection.json');
  console.log(`\nNext: cd ${rel} && aigc dev   (runs it on a local chain until Ctrl-C)`);
  console.log(`      aigc preview "a red fox" --template ${config} --count 4   (sample images of the style)`);
}

const ENV_EXAMPLE = `# Settings of \`aigc node\` (the operator node that renders, stores and fulfils mints). Copy to .env and fill in.
# Every variable is listed in pipeline/config.ts; these are the ones a deployment needs.

# JSON-RPC endpoint of the chain the collection lives on.
AIGC_RPC_URL=http://127.0.0.1:8545
# The deployed collection contract (set after deploying).
AIGC_COLLECTION=
# Operator key that signs provenance and sends fulfil transactions (0x + 64 hex). Never commit it.
AIGC_SIGNER_KEY=
# Address that receives the operator's share of mint payments; empty = the signer.
AIGC_SIGNER_PAYEE=
# The diffusion gateway that renders images (services/diffusion-gateway).
AIGC_GATEWAY_URL=http://127.0.0.1:8080
# Arweave gateway images and provenance records are stored through, and the JWK wallet file that pays for them.
AIGC_ARWEAVE_URL=https://arweave.net
AIGC_ARWEAVE_WALLET=./arweave-wallet.json
# Redis holding the job queue.
REDIS_URL=redis://127.0.0.1:6379
`;

function readme(c: CollectionTemplate, templateName: string): string {
  return `# ${c.name}

A collection of aigc-nft, created with \`aigc init\` from the \`${templateName}\` template: ${c.symbol},
${weiToEther(c.mint.priceWei)} ETH a mint, ${c.mint.maxSupply} tokens at most, ${c.render.width}×${c.render.height} images.

## Files

- \`collection.json\`: the collection: name, symbol, price, supply, royalties, and the style prompts every collector
  prompt is wrapped in. aigc validates it (unknown keys and out-of-range values are refused, naming the field).
- \`collection.schema.json\`: its JSON Schema, generated from the schema aigc validates with; \`collection.json\`
  points at it (\`$schema\`), so editors complete and check the keys.
- \`.env.example\`: the settings \`aigc node\` reads; copy to \`.env\` (never commit it: it holds keys).
- \`embed.html\`: the mint page for your web site: a \`<script>\` and an \`<aigc-mint>\` element (or an iframe).
- \`.gitignore\`: keeps \`.aigc/\` (local working data), \`.env\` and \`node_modules/\` out of git.

## Next steps

Run these inside this folder: each command finds the collection here (\`collection.json\`, then \`.aigc/dev.json\`
while \`aigc dev\` runs, then \`deployments/<chainId>.json\` after a deploy), so none needs \`--rpc\` or \`--collection\`.

1. \`aigc preview "a red fox" --count 4\`: renders sample images of the style into \`.aigc/preview/\`, no chain.
2. \`aigc dev\`: runs this collection on a local chain, Arweave, Redis, gateway and node until Ctrl-C; saving
   \`collection.json\` redeploys it.
3. \`aigc mint "a red fox" --wait --out fox.png\` (in a second terminal): pays for a mint with a funded test account
   and follows it to a verified token; \`aigc verify <tokenId>\` checks any token from public data.
4. \`aigc deploy --rpc <url> --key env:AIGC_OWNER_KEY --dry-run\`: what deploying costs; without \`--dry-run\` it
   deploys and writes \`deployments/<chainId>.json\`. Then \`aigc status\` and \`aigc admin pause|set-price|…\` manage
   the live drop, and \`aigc node\` (settings in \`.env\`) serves it.

\`aigc quote --count 100\` estimates what minting costs (Arweave fees and gas).
`;
}

function embedHtml(c: CollectionTemplate): string {
  return `<!--
  Mint page for "${c.name}": paste into any web page. Replace {nodeUrl} with your node's public URL (it serves
  /embed.js and the collection's details), {collectionAddress} with the deployed contract, {chainId} with its chain
  (8453 = Base, 1 = Ethereum, 31337 = local anvil) and {rpcUrl} with a public JSON-RPC URL of that chain (without
  rpc, reads go through the collector's wallet). \`aigc dev\` prints a local mint page to try it.
  Theme it with CSS custom properties: --aigc-bg, --aigc-fg, --aigc-muted, --aigc-accent, --aigc-accent-fg,
  --aigc-border, --aigc-danger, --aigc-ok, --aigc-radius, --aigc-font.
  Or frame the hosted page instead:
  <iframe src="{nodeUrl}/mint/{chainId}/{collectionAddress}?rpc={rpcUrl}" title="Mint ${c.name}"
          style="width: 100%; max-width: 36rem; height: 64rem; border: 0"></iframe>
-->
<script src="{nodeUrl}/embed.js" async></script>
<aigc-mint collection="{collectionAddress}" chain-id="{chainId}" rpc="{rpcUrl}"></aigc-mint>
<style>
  aigc-mint {
    --aigc-accent: #3b3bd1;
    --aigc-radius: 12px;
  }
</style>
`;
}
