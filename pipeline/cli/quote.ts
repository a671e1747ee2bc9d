import { formatEther, formatUnits } from 'ethers';
import type { OutputFormat } from '../../protocol/gateway';
import { type GasCost, type MintCostEstimate, estimateMintCost } from '../cost/estimate';
import { type CollectionTemplate, loadTemplate } from '../template';
import { jsonLine, progress } from './output';
import { collectionFilePath } from './project';
import { formatTable } from './table';
import { resolveTemplateRef } from './template-ref';
import { checkedEnv } from './target';
import { httpUrl } from './commands/options';

export type QuoteCommandOptions = {
  template?: string;
  count: number;
  arweave?: string;
  rpc?: string;
  collection?: string;
  format: OutputFormat;
  imageBytes?: number;
  json?: boolean;
};

const ar = (winston: bigint) => `${formatUnits(winston, 12)} AR`;
const eth = (wei: bigint) => `${formatEther(wei)} ETH`;
const int = (n: number | bigint) => n.toLocaleString('en-US');
const chunks = (bytes: number) => `${bytes / 262_144} chunk${bytes === 262_144 ? '' : 's'}`;

/** The template used when none is named and the folder has no collection.json. */
const DEFAULT_TEMPLATE = 'open-prompt';

type ChosenTemplate = { template: CollectionTemplate; source: 'flag' | 'folder' | 'default'; note?: string };

/**
 * The template priced: `--template`; else the folder's collection.json; else the shipped default. The chain knows a
 * collection's price (read live with --collection) but not its render size, so with --collection and neither of the
 * first two the default's size is an assumption, and the note says so.
 */
function chooseTemplate(o: QuoteCommandOptions): ChosenTemplate {
  if (o.template) return { template: loadTemplate(resolveTemplateRef(o.template)), source: 'flag' };
  const local = collectionFilePath();
  if (local) return { template: loadTemplate(local), source: 'folder', note: `template: ${local}` };
  const template = loadTemplate(DEFAULT_TEMPLATE);
  if (!o.collection) return { template, source: 'default' };
  const size = o.imageBytes === undefined ? `its ${template.render.width}×${template.render.height} images` : 'its manifest';
  return {
    template,
    source: 'default',
    note: `assumed: ${o.collection} is priced from the chain, but sized like the shipped template "${DEFAULT_TEMPLATE}" (${size}); pass --template <name|path> for its own`,
  };
}

/** The quote as one JSON value: amounts as decimal strings (wei, winston), AR and ETH figures alongside. */
export function quoteJson(quote: MintCostEstimate, template: string, chosen?: Omit<ChosenTemplate, 'template'>): unknown {
  const withAr = {
    ...quote,
    template,
    ...(chosen ? { templateSource: chosen.source, ...(chosen.note ? { templateNote: chosen.note } : {}) } : {}),
    arweave: {
      ...quote.arweave,
      perTokenAr: formatUnits(quote.arweave.perTokenWinston, 12),
      totalAr: formatUnits(quote.arweave.totalWinston, 12),
    },
  };
  return JSON.parse(jsonLine(withAr));
}

function gasRow(label: string, c: GasCost): string[] {
  return [
    label,
    c.paidBy,
    `${int(c.gas)} gas = ${eth(c.perTokenWei)}`,
    eth(c.totalWei),
    c.source === 'measured' ? 'measured on anvil (bench)' : 'eth_estimateGas',
  ];
}

/**
 * `aigc quote`: what minting `count` tokens of a template costs — Arweave fees for images and manifests, gas for
 * collectors (requestMint) and for the operator (fulfil), at today's prices — as a table or one JSON object.
 */
export async function quoteCommand(o: QuoteCommandOptions): Promise<void> {
  const chosen = chooseTemplate(o);
  const { template } = chosen;
  const bar = progress();
  let quote: MintCostEstimate;
  try {
    quote = await estimateMintCost({
      template,
      count: o.count,
      // Flags are checked by their parser, the environment here, with the variable named when it is wrong.
      arweave: o.arweave ?? checkedEnv('AIGC_ARWEAVE_URL', httpUrl) ?? 'https://arweave.net',
      rpc: o.rpc ?? checkedEnv('AIGC_RPC_URL', httpUrl) ?? 'http://127.0.0.1:8545',
      collection: o.collection,
      format: o.format,
      imageBytes: o.imageBytes,
      onProgress: bar.update,
    });
  } finally {
    bar.done();
  }
  if (o.json) console.log(JSON.stringify(quoteJson(quote, template.name, chosen)));
  else printQuote(quote, template.name, chosen.note);
}

/** The quote as a table with the notes on its figures, on stdout. */
export function printQuote(quote: MintCostEstimate, templateName: string, note?: string): void {
  const { image, manifest, gas, count } = quote;
  console.log(`aigc quote: ${int(count)} mints of "${templateName}" (${image.width}×${image.height} ${image.format})`);
  if (note) console.log(note);
  console.log('');
  console.log(
    formatTable(
      ['cost', 'paid by', 'per token', `${int(count)} tokens`, 'basis'],
      [
        [
          `Arweave: image, ${int(image.bytes)} B`,
          'operator',
          ar(image.winston),
          ar(image.totalWinston),
          `/price/${image.pricedBytes} (${chunks(image.pricedBytes)})`,
        ],
        [
          `Arweave: manifest, ${int(manifest.bytes)} B`,
          'operator',
          ar(manifest.winston),
          ar(manifest.totalWinston),
          `/price/${manifest.pricedBytes} (${chunks(manifest.pricedBytes)})`,
        ],
        gasRow('requestMint gas', gas.requestMint),
        gasRow('fulfil gas, one per tx', gas.fulfill),
        gasRow(`fulfil gas, batches of ${gas.fulfillBatch.batchSize}`, gas.fulfillBatch),
        [
          'mint price',
          'collector',
          eth(quote.mintPrice.wei),
          eth(quote.mintPrice.wei * BigInt(count)),
          quote.mintPrice.source === 'chain' ? 'the collection on chain' : 'the template',
        ],
      ],
    ),
  );
  console.log('');
  console.log(
    `Gas priced at maxFeePerGas ${formatUnits(quote.chain.maxFeePerGas, 'gwei')} gwei on chain ${quote.chain.chainId} (an upper bound: the base fee paid is usually lower).`,
  );
  if (gas.requestMint.note) console.log(`requestMint: ${gas.requestMint.note}; used the measured figure.`);
  if (image.measured)
    console.log(
      "Image size is an estimate from the local procedural renderer; real models' PNGs are typically larger: pass --image-bytes N.",
    );
  console.log(
    `Arweave fees from ${quote.arweave.url}, per transaction (an image and a manifest per token), for whole 256 KiB chunks as the node pays them.`,
  );
}
