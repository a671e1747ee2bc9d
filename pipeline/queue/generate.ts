import { createHash } from 'node:crypto';
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Contract, JsonRpcProvider, Signer } from 'ethers';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ModelInfo, ModerationResult } from '../../protocol/gateway';
import type { ManifestAttestation } from '../attest/types';
import { closedState } from '../chain/fulfiller';
import { headTimestamp } from '../chain/head-time';
import { collectorPrompt, renderSeedOf } from '../chain/request';
import { attachCredentials, type CredentialsRecord } from '../credentials/attach';
import type { SigningCredentials } from '../credentials/credentials';
import { AigcError } from '../errors';
import type { GatewayClient } from '../gateway-client';
import { modelHash } from '../provenance/model-hash';
import { fulfillmentDomain, signFulfillment } from '../provenance/typed-data';
import { ANCHOR_RESIGNS, type ArweaveStore, isAnchorRefusal } from '../storage/arweave';
import { arweaveIdToBytes32 } from '../storage/ids';
import { type BundlePublisher, type ItemSigner, signItem } from '../storage/bundle';
import { buildManifest, serializeManifest } from '../storage/manifest';
import { APP_NAME, APP_VERSION } from '../version';
import type { CollectionTemplate } from '../template';
import { framePrompt, traitProvenance } from '../templates/traits';
import { enqueueRefund } from './fulfill';
import { toJobError } from './job-error';
import type { ChainWriteJobData, GenerateJobData } from './jobs';

/** Gateway answers that ask the caller to come back later. */
const BACK_OFF = new Set(['RATE_LIMITED', 'BACKEND_BUSY']);

/**
 * How outputs reach Arweave: one transaction per file, or ANS-104 data items signed at once and published in
 * bundles shared by concurrent requests.
 */
export type Publishing = { mode: 'transactions' } | { mode: 'bundle'; signer: ItemSigner; publisher: BundlePublisher };

export type GenerateStageDeps = {
  gateway: GatewayClient;
  store: ArweaveStore;
  publishing: Publishing;
  signer: Signer;
  /** What every manifest says about the signer key (the attester's `attestation`). */
  attestation: ManifestAttestation;
  template: CollectionTemplate;
  redis: Redis;
  /** Prefix of the Redis keys that hold each request's stage outputs. */
  outputKeyPrefix: string;
  fulfillQueue: Queue<ChainWriteJobData>;
  /**
   * Seconds before a request's deadline under which it is not rendered (it could not be minted in time) but
   * refunded. @defaultValue 60
   */
  deadlineMarginSeconds?: number;
  /** C2PA signing credentials, for templates with `credentials.c2pa` (the node refuses to start without them). */
  credentials?: SigningCredentials;
  /** The collection, to skip requests that ended on chain before their job ran. */
  contract: Contract;
  logger: Logger;
};

/** What the stage has stored so far for one request; a retry resumes from here and never renders twice. */
type StageOutput = {
  imageId?: string;
  imageSha256?: string;
  mime?: string;
  width?: string;
  height?: string;
  bytes?: string;
  model?: string;
  /** The seed the backend used (decimal), and how many bits of the render seed it takes. */
  backendSeed?: string;
  renderedPrompt?: string;
  generatedAt?: string;
  /** JSON of the gateway's moderation result, when the collection moderates. */
  moderation?: string;
  /** JSON of what the Content Credentials step did (`aigc.credentials`), for templates with `credentials.c2pa`. */
  credentials?: string;
  /** Ids of the signed image and manifest transactions, recorded before their uploads start. */
  imageTx?: string;
  manifestTx?: string;
  manifestId?: string;
  /** Bundle mode: the transaction that carried the image and manifest items. */
  bundleId?: string;
};

/**
 * The `generate` stage: gateway render with the on-chain seed → image on Arweave → manifest on Arweave →
 * EIP-712 signature → `fulfill` job. Image and manifest go up as two transactions, or (bundle mode) as data items
 * signed at once and published in a shared bundle. Each output is saved in Redis before the next step, so a retry
 * after a crash or a failed upload picks up where it stopped and never makes a second manifest.
 */
export function createGenerateProcessor(deps: GenerateStageDeps) {
  const { gateway, store, signer, template, redis, logger, publishing } = deps;

  return async function processGenerate(job: Job<GenerateJobData>, token?: string): Promise<{ manifestId: string }> {
    const { chainId, collection, request } = job.data;
    const log = logger.child({ requestId: request.requestId, jobId: job.id });
    const key = `${deps.outputKeyPrefix}:${job.id}`;
    const out = (await redis.hgetall(key)) as StageOutput;
    /**
     * Uploads `bytes` once per request: the signed transaction's id is recorded under `field` before any byte is
     * sent, and a retry with the same bytes finishes that transaction instead of creating another.
     *
     * A transaction the gateway refuses for its anchor (signed long ago: a crash, an outage) can never be accepted,
     * and its id is not used yet (the image id goes into the manifest, the manifest id into the fulfilment, only
     * once this returns): the same bytes are signed again with a fresh anchor, and the new id replaces the old one
     * under `field` and in the upload journal in one step. One image and one manifest per request still reach Arweave.
     */
    const uploadOnce = async (field: 'imageTx' | 'manifestTx', bytes: Uint8Array, txTags: Record<string, string>) => {
      const recorded = out[field];
      if (recorded) {
        try {
          if (await store.resume(recorded, bytes)) return recorded;
        } catch (error) {
          if (!isAnchorRefusal(error)) throw error;
          log.warn({ arweaveTx: recorded, field }, 'stored Arweave transaction refused for its anchor; signing it again');
        }
      }
      let replaces = recorded;
      for (let attempt = 1; ; attempt++) {
        // The journal sets `field` with its record of the new transaction (and drops the replaced one) atomically;
        // the write here is for a node without a journal (arweave.confirmations 0).
        const tx = await store.prepare(bytes, txTags, { link: { key, field }, replaces });
        await redis.hset(key, field, tx.id);
        out[field] = tx.id;
        try {
          return await tx.send();
        } catch (error) {
          if (!isAnchorRefusal(error) || attempt >= ANCHOR_RESIGNS) throw error;
          log.warn({ arweaveTx: tx.id, field }, 'Arweave transaction refused for its anchor; signing it again');
          replaces = tx.id;
        }
      }
    };
    const itemsKey = `${key}:items`;
    /** Items signed by this run; a retry after a crash reads them back from Redis instead. */
    const signed: { image?: Buffer; manifest?: Buffer } = {};
    /** Bundle mode: signs `bytes` as a data item, kept by this run until stored with the output that names it. */
    const signItemOnce = async (field: 'image' | 'manifest', bytes: Uint8Array, itemTags: Record<string, string>) => {
      if (publishing.mode !== 'bundle') throw new Error('signItemOnce outside bundle mode');
      const item = await signItem(publishing.signer, bytes, itemTags);
      signed[field] = item.raw;
      return item.id;
    };
    /** Saves `fields` of the outputs, with (bundle mode) the signed item they name, in one atomic step. */
    const save = async (fields: Partial<StageOutput>, item?: 'image' | 'manifest') => {
      const step = redis.multi().hset(key, fields);
      if (item && signed[item]) step.hset(itemsKey, item, signed[item]);
      await step.exec();
    };
    const tags = {
      'App-Name': APP_NAME,
      'App-Version': APP_VERSION,
      Collection: collection,
      'Chain-Id': String(chainId),
      'Request-Id': request.requestId,
    };

    if (out.imageId) {
      // Resumed from saved outputs (a retry, or a re-enqueue by reconciliation): the request may have ended on chain
      // since, e.g. minted by a fulfilment queued before a crash. Signing and queueing it again would only buy a
      // skipped fulfilment. (A fresh run checks before rendering, below.)
      const closed = await closedState(deps.contract, request);
      if (closed) {
        log.info({ minted: closed.minted }, 'request already closed on chain; not signing it again');
        return { manifestId: out.manifestId ?? '' };
      }
    }
    const renderSeed = renderSeedOf(request);
    // Drawn from the render seed, so the same on every retry and recomputable by `aigc verify`.
    const traits = traitProvenance(template.traits, renderSeed);
    if (!out.imageId) {
      // Re-enqueued after a restart or a wiped Redis: do not render for a request that has already ended.
      const [closed, headTime] = await Promise.all([
        closedState(deps.contract, request),
        headTimestamp(deps.contract.runner!.provider as JsonRpcProvider),
      ]);
      if (closed) {
        log.info({ minted: closed.minted }, 'request already closed on chain; nothing to render');
        return { manifestId: '' };
      }
      // Too close to its deadline to be minted in time: fulfilment would be refused, so end it with a refund.
      const left = Number(request.deadline) - headTime;
      if (left < (deps.deadlineMarginSeconds ?? 60)) {
        log.warn({ deadline: request.deadline, secondsLeft: left }, 'too close to the deadline to mint; refunding the requester');
        await enqueueRefund(deps.fulfillQueue, job.id!, { chainId, collection, request }, (left + 1) * 1000);
        return { manifestId: '' };
      }
      let generated;
      try {
        generated = await gateway.generate({
          prompt: framePrompt(template.render, collectorPrompt(request), traits?.values),
          negativePrompt: template.render.negativePrompt,
          seed: renderSeed,
          width: template.render.width,
          height: template.render.height,
          model: template.render.model,
          // Written into the image's XMP provenance by the gateway.
          requestId: request.requestId,
          ...(template.moderation ? { moderation: template.moderation } : {}),
        });
      } catch (error) {
        // A refusal of this prompt will not change on retry: stop retrying so it ends in a refund.
        if (error instanceof AigcError && !error.retryable) throw toJobError(error);
        // "Busy, come back later" is not a failed render: wait as asked without spending an attempt.
        if (error instanceof AigcError && BACK_OFF.has(error.code) && token) {
          await job.moveToDelayed(Date.now() + (error.retryAfterMs ?? 1_000), token);
          throw new DelayedError();
        }
        throw error;
      }
      // ── Content Credentials: the image bytes gain a signed C2PA manifest bound to this token before anything hashes
      // or stores them, so the sha256 on chain and on Arweave is of the final file.
      let credentialsRecord;
      if (template.credentials?.c2pa && deps.credentials) {
        ({ generated, record: credentialsRecord } = await attachCredentials(generated, {
          credentials: deps.credentials,
          binding: {
            chainId,
            collection,
            requestId: request.requestId,
            seed: request.seed,
            renderSeed,
            modelHash: modelHash(generated.model),
          },
          logger: log,
        }));
      }
      // ── end of Content Credentials
      const imageTags = { 'Content-Type': generated.mime, ...tags, 'Image-SHA256': generated.sha256, Type: 'image' };
      const imageId =
        publishing.mode === 'bundle'
          ? await signItemOnce('image', generated.image, imageTags)
          : await uploadOnce('imageTx', generated.image, imageTags);
      Object.assign(out, {
        imageId,
        imageSha256: generated.sha256,
        mime: generated.mime,
        width: String(generated.width),
        height: String(generated.height),
        bytes: String(generated.image.length),
        model: JSON.stringify(generated.model),
        backendSeed: String(generated.seed),
        renderedPrompt: generated.prompt,
        generatedAt: new Date().toISOString(),
        ...(generated.moderation ? { moderation: JSON.stringify(generated.moderation) } : {}),
        ...(credentialsRecord ? { credentials: JSON.stringify(credentialsRecord) } : {}),
      });
      await save(out, 'image');
      log.info({ imageId, renderMs: generated.timings.renderMs }, publishing.mode === 'bundle' ? 'image signed' : 'image stored');
    }

    const model = JSON.parse(out.model!) as ModelInfo;
    const mHash = modelHash(model);
    const imageSha256 = `0x${out.imageSha256}`;
    const signerAddress = await signer.getAddress();

    if (!out.manifestId) {
      const manifest = buildManifest({
        collectionName: template.name,
        description: template.description,
        imageId: out.imageId!,
        provenance: {
          collection,
          chainId,
          requestId: request.requestId,
          tokenId: request.requestId,
          prompt: request.prompt,
          promptHash: request.promptHash,
          renderedPrompt: out.renderedPrompt!,
          negativePrompt: template.render.negativePrompt,
          seed: request.seed,
          requestBlockHash: request.blockHash,
          renderSeed,
          backendSeed: out.backendSeed ?? '',
          model,
          modelHash: mHash,
          params: { width: Number(out.width), height: Number(out.height) },
          image: {
            sha256: out.imageSha256!,
            mime: out.mime!,
            width: Number(out.width),
            height: Number(out.height),
            bytes: Number(out.bytes),
          },
          generatedAt: out.generatedAt!,
          signer: signerAddress,
          attestation: deps.attestation,
          ...(traits ? { traits } : {}),
          ...(out.moderation ? { moderation: JSON.parse(out.moderation) as ModerationResult } : {}),
          ...(out.credentials ? { credentials: JSON.parse(out.credentials) as CredentialsRecord } : {}),
        },
      });
      // The manifest's bytes depend only on stored outputs, so a retry resumes the same transaction:
      // one manifest per request on Arweave, never a second one.
      const bytes = serializeManifest(manifest);
      const manifestTags = {
        'Content-Type': 'application/json',
        ...tags,
        'Image-SHA256': out.imageSha256!,
        'Manifest-SHA256': createHash('sha256').update(bytes).digest('hex'),
        Type: 'manifest',
      };
      out.manifestId =
        publishing.mode === 'bundle'
          ? await signItemOnce('manifest', bytes, manifestTags)
          : await uploadOnce('manifestTx', bytes, manifestTags);
      await save({ manifestId: out.manifestId }, 'manifest');
      log.info({ manifestId: out.manifestId }, publishing.mode === 'bundle' ? 'manifest signed' : 'manifest stored');
    }

    if (publishing.mode === 'bundle' && !out.bundleId) {
      // Signed once, kept until published: a retry publishes the very same items (same ids) again.
      const [image, manifestItem] =
        signed.image && signed.manifest ? [signed.image, signed.manifest] : await redis.hmgetBuffer(itemsKey, 'image', 'manifest');
      if (!image || !manifestItem)
        throw new AigcError('ARWEAVE_FAILED', `signed items of request ${request.requestId} are missing from Redis`, { retryable: false });
      out.bundleId = await publishing.publisher.publish([image, manifestItem]);
      await redis.multi().hset(key, 'bundleId', out.bundleId).del(itemsKey).exec();
      log.info({ bundleId: out.bundleId, imageId: out.imageId, manifestId: out.manifestId }, 'bundle stored');
    }

    const manifestId = arweaveIdToBytes32(out.manifestId);
    const fulfillment = {
      requestId: BigInt(request.requestId),
      promptHash: request.promptHash,
      seed: request.seed,
      imageSha256,
      manifestId,
      modelHash: mHash,
    };
    const signature = await signFulfillment(signer, fulfillmentDomain(chainId, collection), fulfillment);
    await deps.fulfillQueue.add(
      'fulfill',
      { kind: 'fulfill', chainId, collection, request, manifestId, imageSha256, modelHash: mHash, signature },
      { jobId: job.id },
    );
    return { manifestId: out.manifestId };
  };
}
