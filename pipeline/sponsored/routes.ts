import type { Queue } from 'bullmq';
import { getAddress, isAddress, ZeroAddress } from 'ethers';
import express, { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { promptProblem } from '../../protocol/prompt';
import { errorMessage } from '../errors';
import { type KeyedLocals, requireApiKey } from '../http/auth';
import { cors } from '../http/cors';
import { apiError, apiErrorHandler, fieldErrors } from '../http/errors';
import { rateLimitPerKey } from '../http/rate-limit';
import { streamStatus } from '../http/sse';
import type { MintForJobData, MintForResult } from '../queue/jobs';
import type { RequestStatusReader } from '../requests/status';
import { isFinalStatus, type MintStatusReader } from './status';
import { mintIdOf, submitMint } from './submit';

/** A collection the API takes mints for. */
export type ServedCollection = {
  chainId: number;
  address: string;
  /** The longest prompt the collection accepts, in UTF-8 bytes (read from the contract). */
  maxPromptBytes(): Promise<number>;
};

export type SponsoredRoutesDeps = {
  /** Bearer keys of `POST /v1/mints`; none turns that route off. */
  keys: string[];
  /** Origins a browser may read the API from; `*` for any. */
  corsOrigins: string[];
  /** `POST /v1/mints` per API key: a token bucket of `burst`, refilled at `perMinute` (0 = no limit). */
  rate: { perMinute: number; burst: number };
  /** The collections this node serves; the first is the default when a call names none. */
  collections: ServedCollection[];
  /** The `mint-for` queue of each chain, by chain id. */
  mintForQueues: Map<number, Queue<MintForJobData, MintForResult>>;
  /** Status of any request (`/v1/requests`) and of sponsored mints (`/v1/mints`). */
  status: RequestStatusReader & MintStatusReader;
  /** Event streams: poll interval and keep-alive period. @defaultValue { pollMs: 500, keepAliveMs: 15_000 } */
  sse?: { pollMs?: number; keepAliveMs?: number };
  logger: Logger;
};

const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'required' : `expected ${what}`),
});
const addressField = z
  .string(required('a 0x-prefixed 20-byte address'))
  .refine(
    (a) => /^0x[0-9a-fA-F]{40}$/.test(a) && isAddress(a),
    'expected a 0x-prefixed 20-byte address (mixed case must be a valid checksum)',
  );

/** Body of `POST /v1/mints`. Every bad field is named in the 400 answer. */
const mintBodySchema = z.strictObject({
  /** Receives the token. */
  to: addressField.refine((a) => a !== ZeroAddress, 'the zero address cannot receive a token'),
  /** The shared prompt policy (`protocol/prompt.ts`): the node refuses on chain what this door refuses. */
  prompt: z.string(required('a string')).superRefine((p, ctx) => {
    const problem = promptProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** Defaults to the node's collection. */
  collection: addressField.optional(),
});

const MINT_ID = /^m-[0-9a-f]{32}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const REQUEST_ID = /^[0-9]{1,78}$/;

/** Largest JSON body of `POST /v1/mints`: an address, a prompt (the contract caps it far lower) and a collection. */
const MAX_BODY = '64kb';

const links = (id: string) => ({ self: `/v1/mints/${id}`, events: `/v1/mints/${id}/events` });

/**
 * The sponsored-mint API: `POST /v1/mints` (API key; the operator pays `requestMintFor(to, prompt)`), the status of a
 * sponsored mint or of any request (`GET /v1/mints/:id`, `GET /v1/requests/:requestId`) and server-sent-event
 * streams of both (`…/events`). `/v1/requests` answers for wallet-made requests too (its reader is
 * `../requests/status.ts`); it is routed here because it shares this `/v1` API's CORS, error answers and mount.
 * The POST route only queues a `mint-for` job: the transaction is sent by the leader's serial sender, the one
 * writer for the signer key, whichever node received the call.
 *
 * @example
 * app.use(createSponsoredRouter({ keys: config.api.keys, corsOrigins: config.api.corsOrigins, rate: { perMinute: 600, burst: 60 }, collections, mintForQueues, status, logger }));
 */
export function createSponsoredRouter(deps: SponsoredRoutesDeps): Router {
  const { collections, mintForQueues, status, logger } = deps;
  const router = Router();
  const served = () => collections.map((c) => c.address).join(', ');
  const findCollection = (address: string | undefined) =>
    address === undefined ? collections[0] : collections.find((c) => c.address.toLowerCase() === address.toLowerCase());
  const stream = <T extends { status: Parameters<typeof isFinalStatus>[0] }>(
    req: Request,
    res: Response,
    read: () => Promise<T | undefined>,
    first: T,
  ) =>
    streamStatus(
      {
        req,
        res,
        read,
        isFinal: (s) => isFinalStatus(s.status),
        pollMs: deps.sse?.pollMs,
        keepAliveMs: deps.sse?.keepAliveMs,
        onError: (error) => logger.debug({ path: req.path, err: errorMessage(error) }, 'status stream: read failed; retrying'),
      },
      first,
    );

  router.use('/v1', cors(deps.corsOrigins));

  // Key, then rate, then body: a refused caller costs neither a parse nor a chain read.
  router.post('/v1/mints', requireApiKey(deps.keys), rateLimitPerKey(deps.rate), express.json({ limit: MAX_BODY }), async (req, res) => {
    const parsed = mintBodySchema.safeParse(req.body ?? {});
    const raw = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const fields: Record<string, string> = parsed.success ? {} : fieldErrors(parsed.error.issues as never);
    const idempotencyKey = req.get('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey))
      fields['Idempotency-Key'] = '1 to 255 printable ASCII characters, no spaces';
    // Checked even when other fields are bad, so one answer names everything to fix.
    const collection = fields.collection ? undefined : findCollection(raw.collection as string | undefined);
    if (!fields.collection && !collection)
      fields.collection = `not served by this node (it serves ${served()}); leave it out for the default`;
    if (collection && typeof raw.prompt === 'string' && !fields.prompt) {
      const max = await collection.maxPromptBytes().catch((cause) => {
        throw Object.assign(
          apiError('CHAIN_FAILED', "cannot read the collection's mint settings from the chain; try again", { retryable: true }),
          { cause },
        );
      });
      const bytes = Buffer.byteLength(raw.prompt, 'utf8');
      if (bytes > max) fields.prompt = `${bytes} bytes of UTF-8; this collection takes at most ${max}`;
    }
    if (!parsed.success || !collection || Object.keys(fields).length) {
      const hint = req.body === undefined ? ': send a JSON body with Content-Type: application/json' : '';
      throw apiError('INVALID_REQUEST', `invalid mint request${hint}`, { fields });
    }

    const { keyDigest, keyId } = res.locals as KeyedLocals;
    // Same key (for the same API key) → same id → the same job: BullMQ adds a job id once, so one payment.
    const id = mintIdOf(idempotencyKey === undefined ? undefined : { scope: keyDigest, key: idempotencyKey });
    const data: MintForJobData = {
      chainId: collection.chainId,
      collection: collection.address,
      to: getAddress(parsed.data.to),
      prompt: parsed.data.prompt,
      keyId,
      createdAt: new Date().toISOString(),
    };
    const { stored, replayed, same } = await submitMint(mintForQueues, data, { id, idempotent: idempotencyKey !== undefined });
    if (!stored)
      throw apiError('INTERNAL', 'the mint was queued but cannot be read back; retry with the same Idempotency-Key', { retryable: true });
    if (!same)
      throw apiError(
        'CONFLICT',
        `Idempotency-Key ${idempotencyKey} was used for another mint (a different to, prompt or collection); use a new key for a new mint`,
      );
    if (!replayed) logger.info({ mintId: id, keyId, to: data.to, collection: data.collection }, 'sponsored mint queued');

    const now = (await status.mint(id)) ?? { id, status: 'queued' as const, collection: data.collection, to: data.to };
    res.status(202).location(links(id).self);
    if (replayed) res.set('idempotent-replayed', 'true');
    res.json({ ...now, links: links(id) });
  });

  const mintStatus = async (id: string) => {
    const found = MINT_ID.test(id) ? await status.mint(id) : undefined;
    if (!found) throw apiError('NOT_FOUND', `no mint ${id}: mint ids come from POST /v1/mints (records are kept for 30 days)`);
    return found;
  };
  router.get('/v1/mints/:id', async (req, res) => {
    res.json(await mintStatus(req.params.id));
  });
  router.get('/v1/mints/:id/events', async (req, res) => {
    const id = req.params.id;
    stream(req, res, () => status.mint(id), await mintStatus(id));
  });

  const requestStatus = async (req: Request) => {
    const requestId = req.params.requestId as string;
    const named = typeof req.query.collection === 'string' ? req.query.collection : undefined;
    const fields: Record<string, string> = {};
    if (!REQUEST_ID.test(requestId)) fields.requestId = 'a decimal request id (as in MintRequested)';
    const collection = findCollection(named);
    if (!collection) fields.collection = `not served by this node (it serves ${served()}); leave it out for the default`;
    if (!collection || Object.keys(fields).length) throw apiError('INVALID_REQUEST', 'invalid request lookup', { fields });
    const read = () => status.request(collection.address, BigInt(requestId));
    const found = await read();
    if (!found) throw apiError('NOT_FOUND', `no request ${requestId} on collection ${collection.address}`);
    return { read, found };
  };
  router.get('/v1/requests/:requestId', async (req, res) => {
    res.json((await requestStatus(req)).found);
  });
  router.get('/v1/requests/:requestId/events', async (req, res) => {
    const { read, found } = await requestStatus(req);
    stream(req, res, read, found);
  });

  router.use('/v1', (_req, _res, next) =>
    next(
      apiError(
        'NOT_FOUND',
        'no such route: see POST /v1/mints, GET /v1/mints/:id, GET /v1/requests/:requestId (each with /events), GET /v1/status',
      ),
    ),
  );
  router.use('/v1', apiErrorHandler(logger));
  return router;
}
