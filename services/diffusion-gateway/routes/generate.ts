import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { AigcError } from '../../../protocol/errors';
import type { DiffusionBackend } from '../backends/types';
import { gatewayError } from '../errors';
import type { Gate } from '../limits';
import type { Metrics } from '../metrics';
import type { Moderator } from '../moderation';
import { postprocess } from '../postprocess';
import { applyPromptPolicy, type PromptPolicy } from '../prompt';
import { generateRequestSchema, type GenerateResponse, type OutputFormat } from '../../../protocol/gateway';
import { reduceSeed, seedJson, seedValue } from '../../../protocol/seed';

export type GenerateDeps = {
  backend: DiffusionBackend;
  gate: Gate;
  metrics: Metrics;
  policy: PromptPolicy;
  /** Scores each rendered image before anything else sees it. */
  moderator: Moderator;
  output: { format: OutputFormat; quality?: number };
  timeoutMs: number;
  /** Registers the request's controller so shutdown can cancel it; returns the unregister function. */
  track(controller: AbortController): () => void;
};

/** Longest percent-encoded prompt sent as the `x-prompt` header of an image answer. */
const MAX_PROMPT_HEADER = 8 * 1024;

/** `prompt` percent-encoded for the `x-prompt` header, or undefined when it cannot go in one. */
function headerSafe(prompt: string): string | undefined {
  try {
    const encoded = encodeURIComponent(prompt);
    return encoded.length <= MAX_PROMPT_HEADER ? encoded : undefined;
  } catch {
    return undefined; // URIError: a lone surrogate
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Zod issues → { field: message }, unknown keys named one by one. */
function fieldErrors(issues: { code: string; path: PropertyKey[]; message: string; keys?: string[] }[]): Record<string, string> {
  return Object.fromEntries(
    issues.flatMap((i) =>
      i.code === 'unrecognized_keys' && i.keys ? i.keys.map((k) => [k, 'unknown field']) : [[i.path.join('.') || 'body', i.message]],
    ),
  );
}

/**
 * `POST /v1/generate`: validate → prompt policy → queue → backend → post-process → bytes (or JSON).
 * A client that disconnects cancels its backend job; the whole request is bounded by `timeoutMs`.
 */
export async function handleGenerate(deps: GenerateDeps, req: Request, res: Response): Promise<void> {
  const { backend, gate, metrics, policy, output } = deps;
  const parsed = generateRequestSchema.safeParse(req.body ?? {});
  if (!parsed.success)
    throw gatewayError({ code: 'INVALID_REQUEST', message: 'invalid generate request', fields: fieldErrors(parsed.error.issues as never) });
  const body = parsed.data;

  const caps = backend.capabilities;
  const fields: Record<string, string> = {};
  for (const side of ['width', 'height'] as const) {
    const v = body[side];
    if (v < caps.sizes.min || v > caps.sizes.max || v % caps.sizes.multipleOf) {
      fields[side] = `${backend.name} renders ${caps.sizes.min}–${caps.sizes.max} in steps of ${caps.sizes.multipleOf}`;
    }
  }
  if (body.sampler && caps.samplers.length && !caps.samplers.includes(body.sampler)) fields.sampler = `one of: ${caps.samplers.join(', ')}`;
  if (body.model && !backend.models.some((m) => m.id === body.model)) fields.model = `unknown model: see GET /v1/models`;
  if (Object.keys(fields).length)
    throw gatewayError({ code: 'INVALID_REQUEST', message: `request outside what ${backend.name} supports`, fields });

  const prompt = applyPromptPolicy({
    prompt: body.prompt,
    negativePrompt: body.negativePrompt,
    policy: { ...policy, maxTokens: Math.min(policy.maxTokens, caps.maxPromptTokens) },
  });
  const format = body.format ?? output.format;
  const quality = body.quality ?? output.quality;
  const params = {
    negativePrompt: prompt.negativePrompt,
    steps: body.steps,
    guidance: body.guidance,
    sampler: body.sampler,
    format,
    quality,
    promptTokens: prompt.promptTokens,
    truncated: prompt.truncated,
  };
  // Derived from the content so the same inputs give the same bytes (XMP included) and the same Cog prediction id.
  // The seed as a number while it is one exactly, so ids of requests that fit the old 32-bit seeds don't change.
  const requestId =
    body.requestId ??
    sha256(JSON.stringify({ p: prompt.prompt, s: seedJson(body.seed), w: body.width, h: body.height, m: body.model, params })).slice(0, 32);
  // The backend gets the seed's low `seedBits` bits: seed mod 2^seedBits.
  const seedBits = caps.seedBits;
  const seed = reduceSeed(body.seed, seedBits);

  const controller = new AbortController();
  const untrack = deps.track(controller);
  const timer = setTimeout(
    () => controller.abort(gatewayError({ code: 'BACKEND_TIMEOUT', message: `${backend.name}: no image within ${deps.timeoutMs} ms` })),
    deps.timeoutMs,
  );
  const onClose = () => {
    if (!res.writableFinished)
      controller.abort(gatewayError({ code: 'BACKEND_FAILED', message: 'client disconnected; backend job cancelled' }));
  };
  res.once('close', onClose);
  try {
    metrics.queued.set(gate.queued + 1);
    const { value: out, queueMs } = await gate.run(controller.signal, async () => {
      metrics.queued.set(gate.queued);
      metrics.inFlight.set(gate.running);
      const started = performance.now();
      const rendered = await backend.render(
        {
          prompt: prompt.prompt,
          negativePrompt: prompt.negativePrompt,
          seed: seedValue(seed),
          width: body.width,
          height: body.height,
          steps: body.steps,
          guidance: body.guidance,
          sampler: body.sampler,
          model: body.model,
          requestId,
        },
        controller.signal,
      );
      return { rendered, renderMs: performance.now() - started };
    });
    metrics.inFlight.set(gate.running);
    if (controller.signal.aborted) throw controller.signal.reason;
    // What the backend reports it used (A1111 echoes it; the others render the seed they were given).
    const usedSeed = (out.rendered.seed === undefined ? seed : BigInt(out.rendered.seed)).toString();
    // Before anything is encoded, returned or stored: a refused image throws CONTENT_REJECTED here.
    const moderationStart = performance.now();
    const moderated = await deps.moderator.moderate(out.rendered.image, body.moderation).catch((error: unknown) => {
      if (error instanceof AigcError) throw error;
      throw gatewayError({ code: 'BACKEND_FAILED', message: 'the image could not be moderated', cause: error, details: String(error) });
    });
    const moderationMs = performance.now() - moderationStart;
    if (controller.signal.aborted) throw controller.signal.reason;
    const postStart = performance.now();
    const post = await postprocess({
      image: moderated.image,
      width: body.width,
      height: body.height,
      format,
      quality,
      provenance: {
        requestId,
        seed: usedSeed,
        seedBits,
        model: `${out.rendered.model.backend}/${out.rendered.model.id}@${out.rendered.model.version}`,
        promptSha256: sha256(prompt.prompt),
      },
    }).catch((cause: unknown) => {
      throw gatewayError({
        code: 'BACKEND_FAILED',
        message: `${backend.name} returned an image that cannot be decoded`,
        cause,
        details: String(cause),
      });
    });
    const timings = {
      queueMs: round(queueMs),
      renderMs: round(out.renderMs),
      postMs: round(performance.now() - postStart),
      ...(moderated.result ? { moderationMs: round(moderationMs) } : {}),
    };
    if (timings.moderationMs !== undefined) metrics.seconds.observe({ stage: 'moderation' }, timings.moderationMs / 1000);
    metrics.seconds.observe({ stage: 'queue' }, timings.queueMs / 1000);
    metrics.seconds.observe({ stage: 'render' }, timings.renderMs / 1000);
    metrics.seconds.observe({ stage: 'post' }, timings.postMs / 1000);
    metrics.requests.inc({ code: 'OK' });
    const meta = {
      mime: post.mime,
      sha256: sha256(post.image),
      bytes: post.bytes,
      requestId,
      seed: usedSeed,
      seedBits,
      width: body.width,
      height: body.height,
      prompt: prompt.prompt,
      model: out.rendered.model,
      params,
      timings,
      ...(moderated.result ? { moderation: moderated.result } : {}),
    };

    const promptHeader = headerSafe(meta.prompt);
    // A prompt too long for a header (servers cap a header block at 16 KiB), or with a lone surrogate (no UTF-8 for
    // it), gets the JSON answer instead.
    if (req.accepts(['image/*', 'application/json']) === 'application/json' || promptHeader === undefined) {
      const payload: GenerateResponse = { image: post.image.toString('base64'), ...meta };
      res.json(payload);
      return;
    }
    res
      .set({
        'content-type': post.mime,
        'x-image-sha256': meta.sha256,
        'x-request-id': requestId,
        'x-seed': usedSeed,
        'x-seed-bits': String(seedBits),
        'x-width': String(body.width),
        'x-height': String(body.height),
        'x-model': JSON.stringify(meta.model),
        // Header values must be Latin-1: the prompt is percent-encoded, params are ASCII-escaped JSON.
        'x-prompt': promptHeader,
        'x-params': JSON.stringify(params).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
        'x-timings': JSON.stringify(timings),
        'x-render-ms': String(timings.renderMs),
        ...(meta.moderation ? { 'x-moderation': JSON.stringify(meta.moderation) } : {}),
      })
      .send(post.image);
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : error;
    metrics.requests.inc({ code: reason instanceof AigcError ? reason.code : 'INTERNAL' });
    throw reason;
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
    untrack();
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
