import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AigcError } from './errors';
import { MODERATION_MODES, moderationThresholdsSchema } from '../protocol/gateway';

const side = z.number().int().min(64).max(2048).multipleOf(8, 'must be a multiple of 8');

/** Attribute names the node writes itself; a trait may not take one. */
const RESERVED_ATTRIBUTES = ['model', 'backend', 'seed', 'size'];

/** `{Name}` in the prompt frame: the value drawn for trait `Name`. */
export const TRAIT_SLOT = /\{([^{}]*)\}/g;

/**
 * `traits`: an ordered list of traits, each drawn once per token from the render seed with the weights given (see
 * `pickTraits`). The order matters: trait i draws from keccak256(renderSeed, i), so reordering changes the draws.
 */
export const traitsSchema = z
  .array(
    z.strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9 _-]{0,31}$/, '1-32 letters, digits, spaces, _ or -, starting with a letter')
        .refine((n) => !RESERVED_ATTRIBUTES.includes(n.toLowerCase()), 'Model, Backend, Seed and Size are set by the node')
        .describe('Trait name: the attribute trait_type, and the {Name} slot in the prompt frame'),
      values: z
        .array(
          z.strictObject({
            value: z.string().min(1).max(100).describe('What the slot is filled with and the attribute says'),
            weight: z.number().int().min(1).max(1_000_000).describe('Relative odds: weight / sum of the weights of this trait'),
          }),
        )
        .min(1)
        .max(100)
        .refine((vs) => new Set(vs.map((v) => v.value)).size === vs.length, 'values must be unique within a trait'),
    }),
  )
  .min(1)
  .max(16)
  .refine((ts) => new Set(ts.map((t) => t.name.toLowerCase())).size === ts.length, 'trait names must be unique (ignoring case)')
  .describe('Traits drawn per token from its render seed, weighted; recorded as attributes and filling {Name} slots');

/** Refuses a `{Slot}` of the prompt frame that names no trait, with the field named. */
function checkTraitSlots(
  t: { traits?: { name: string }[]; render: { promptPrefix: string; promptSuffix: string } },
  ctx: z.RefinementCtx,
): void {
  const names = new Set((t.traits ?? []).map((trait) => trait.name));
  for (const field of ['promptPrefix', 'promptSuffix'] as const) {
    for (const [, slot] of t.render[field].matchAll(TRAIT_SLOT)) {
      if (!names.has(slot))
        ctx.addIssue({
          code: 'custom',
          path: ['render', field],
          message: `{${slot}} names no trait${names.size ? ` (traits: ${[...names].join(', ')})` : ' (the template has no traits)'}`,
        });
    }
  }
}

export const dropSchema = z
  .strictObject({
    /** At least a minute: each period costs the operator a mint (price + gas). Code may build shorter ones (tests). */
    periodSeconds: z
      .number()
      .int()
      .min(60, 'at least 60 (each period is a mint the operator pays)')
      .max(366 * 24 * 3600)
      .describe('Seconds per drop (86400 = one piece a day); at least 60'),
    prompts: z
      .array(
        z
          .string()
          .min(1, 'must not be empty')
          .refine((p) => p.trim().length > 0, 'must not be empty'),
      )
      .min(1)
      .max(10_000)
      .describe('The curated prompts, one per period; each at most mint.maxPromptBytes UTF-8 bytes'),
    /** `sequence`: period k gets prompts[k mod n]; `shuffle`: every prompt once per round of n periods, in a seeded order. */
    order: z
      .enum(['sequence', 'shuffle'])
      .default('sequence')
      .describe('sequence: list order, round after round; shuffle: every prompt once per round, in an order seeded by the collection'),
    recipient: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x address')
      .optional()
      .describe("Receives the pieces; absent = the collection's owner, read from the chain at each drop"),
    startAt: z
      .number()
      .int()
      .min(0)
      .max(2 ** 40 - 1)
      .optional()
      .describe('Unix seconds period 0 starts (it drops the first prompt); absent = periods count from 1970-01-01T00:00Z'),
  })
  .describe('One piece per period, requested and paid by the operator node from a curated prompt list');

export type DropSettings = z.infer<typeof dropSchema>;

/** `moderation`: what the gateway does with a rendered image its classifier scores over a threshold. */
export const moderationSchema = z
  .strictObject({
    policy: z
      .enum(MODERATION_MODES)
      .describe('off: not classified; reject: refused with CONTENT_REJECTED and refunded on chain; blur: blurred and recorded'),
    thresholds: moderationThresholdsSchema
      .optional()
      .describe("Score per class (drawing, hentai, neutral, porn, sexy; 0-1) at which to act; absent = the gateway's"),
  })
  .describe('Image moderation after rendering; the gateway applies the stricter of this and its own policy');

/**
 * `templates/collections/<name>/collection.json`: what a creator decides about a collection. The JSON Schema editors
 * use (`templates/collection.schema.json`, `collection.schema.json` of a scaffolded folder) is generated from it.
 */
export const collectionTemplateSchema = z
  .strictObject({
    /** The JSON Schema the file points editors at; ignored by the code. */
    $schema: z.string().optional(),
    name: z.string().min(1).max(100).describe('Collection name (ERC-721 name)'),
    symbol: z
      .string()
      .regex(/^[A-Z0-9]{1,11}$/, '1-11 upper-case letters or digits')
      .describe('Token symbol: 1-11 upper-case letters or digits'),
    description: z.string().max(2_000).describe('Collection description shown by marketplaces'),
    mint: z.strictObject({
      /** Price of one mint in wei, as a decimal string (wei amounts overflow JSON numbers). */
      priceWei: z
        .string()
        .regex(/^\d{1,28}$/, 'a decimal number of wei, as a string')
        .describe('Price of one mint in wei, as a decimal string (0.01 ETH = "10000000000000000")'),
      maxSupply: z.number().int().min(1).max(0xffffffff).describe('Most tokens that can ever be minted'),
      maxPromptBytes: z.number().int().min(1).max(0xffff).describe('Longest collector prompt, in UTF-8 bytes'),
      /** Seconds from a request to its deadline: fulfil before, refund from (the contract allows 60 s … 30 days). */
      refundDelaySeconds: z
        .number()
        .int()
        .min(60)
        .max(30 * 24 * 3600)
        .describe('Seconds from a mint request to its deadline: fulfilled before, refundable after (60 s to 30 days)'),
      /** Unix seconds the mint opens / closes; absent = open now / never closes. */
      mintStart: z
        .number()
        .int()
        .min(0)
        .max(2 ** 40 - 1)
        .optional(),
      mintEnd: z
        .number()
        .int()
        .min(1)
        .max(2 ** 40 - 1)
        .optional(),
      /** Requests per wallet; absent = unlimited. */
      walletLimit: z.number().int().min(1).max(0xffff).optional().describe('Mint requests per wallet; absent = unlimited'),
    }),
    royalty: z
      .strictObject({
        /** Receives ERC-2981 royalties; absent = the deployer. */
        receiver: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x address')
          .optional(),
        /** The contract caps royalties at 10 %. */
        bps: z.number().int().min(0).max(1_000).describe('ERC-2981 royalty in basis points (500 = 5 %); at most 1000'),
      })
      .optional(),
    /** ERC-7572 collection metadata: URIs (ar://, ipfs://, https://) of the collection's image and banner, and its site. */
    image: z.string().url().optional(),
    bannerImage: z.string().url().optional(),
    externalLink: z.string().url().optional(),
    render: z.strictObject({
      width: side,
      height: side,
      /** Prepended/appended to every collector prompt: the collection's style. */
      promptPrefix: z.string().max(500).default('').describe('Prepended to every collector prompt'),
      promptSuffix: z.string().max(500).default('').describe("Appended to every collector prompt: the collection's style"),
      negativePrompt: z.string().max(1_000).default('').describe('What the renderer should avoid'),
      model: z.string().min(1).optional(),
    }),
    /** Style presets the mint page offers beside the prompt box; the chosen suffix is appended to the collector prompt. */
    presets: z
      .array(
        z.strictObject({
          label: z.string().min(1).max(40).describe('What the mint page shows on the preset button'),
          suffix: z.string().min(1).max(200).describe("Appended to the collector's prompt (counted against maxPromptBytes)"),
        }),
      )
      .max(12)
      .optional()
      .describe('Style presets of the mint page: a label and the text it appends to the prompt'),
    traits: traitsSchema.optional(),
    drop: dropSchema.optional(),
    moderation: moderationSchema.optional(),
    credentials: z
      .strictObject({
        c2pa: z
          .boolean()
          .describe(
            'Embed signed C2PA Content Credentials in every image (PNG, JPEG, WebP; not AVIF); the node needs AIGC_C2PA_CERT/AIGC_C2PA_KEY',
          ),
      })
      .optional()
      .describe('Content Credentials carried inside each image file'),
  })
  .superRefine(checkTraitSlots)
  .superRefine(checkDropPrompts)
  .superRefine(checkText);

/**
 * Every text of a template reaches a chain, a prompt or a marketplace page: a lone surrogate cannot be encoded as
 * UTF-8 (the gateway would refuse every framed prompt, so every mint would be refunded), and control or bidi
 * characters hide text from a reviewer. Newlines and tabs are allowed, as in a description.
 */
function checkText(t: unknown, ctx: z.RefinementCtx): void {
  const walk = (value: unknown, at: (string | number)[]) => {
    if (typeof value === 'string') {
      if (/\p{Cs}/u.test(value))
        ctx.addIssue({ code: 'custom', path: at, message: 'not valid Unicode: a lone UTF-16 surrogate cannot be encoded as UTF-8' });
      else if (/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(value.replace(/[\n\t]/g, '')))
        ctx.addIssue({ code: 'custom', path: at, message: 'control or bidi-override characters are not allowed' });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, i]));
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
  };
  walk(t, []);
}

/** The contract refuses a prompt longer than maxPromptBytes: a drop prompt it would refuse is refused here, by index. */
function checkDropPrompts(t: { mint: { maxPromptBytes: number }; drop?: { prompts: string[] } }, ctx: z.RefinementCtx): void {
  t.drop?.prompts.forEach((prompt, i) => {
    const bytes = Buffer.byteLength(prompt, 'utf8');
    if (bytes > t.mint.maxPromptBytes)
      ctx.addIssue({
        code: 'custom',
        path: ['drop', 'prompts', i],
        message: `${bytes} bytes of UTF-8; mint.maxPromptBytes allows ${t.mint.maxPromptBytes}`,
      });
  });
}

export type TraitDefinition = z.infer<typeof traitsSchema>[number];

export type CollectionTemplate = Omit<z.infer<typeof collectionTemplateSchema>, '$schema'>;

/** The shipped templates folder, found from pipeline/ (sources) or dist/pipeline/ (compiled). */
export function templatesDir(): string {
  const fromSource = path.resolve(__dirname, '..', 'templates', 'collections');
  return fs.existsSync(fromSource) ? fromSource : path.resolve(__dirname, '..', '..', 'templates', 'collections');
}

/** Reads and validates `templates/collections/<name>/collection.json` (or a path to such a file). */
export function loadTemplate(nameOrPath: string): CollectionTemplate {
  const file = nameOrPath.endsWith('.json') ? nameOrPath : path.join(templatesDir(), nameOrPath, 'collection.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AigcError('TEMPLATE_INVALID', `cannot read collection template ${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = collectionTemplateSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AigcError('TEMPLATE_INVALID', `invalid collection template ${file}: ${lines.join('; ')}`);
  }
  const { $schema: _schema, ...template } = parsed.data;
  return template;
}
