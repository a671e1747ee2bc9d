import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { MODERATION_CLASSES, type ModerationScores } from '../../../protocol/gateway';
import { CLASSIFIER_WORKER } from './worker';

/** Scores an image, each class 0 … 1 (they sum to 1). */
export type ImageClassifier = { readonly name: string; classify(image: Buffer): Promise<ModerationScores> };

/** The bundled nsfwjs model used: MobileNetV2, 224×224 input, shipped inside the nsfwjs package (no download). */
export const NSFW_MODEL = 'MobileNetV2';
const INPUT_SIDE = 224;

/*
 * Where a classification's time goes (512² local renders, 2-core machine at rest; medians of 30 after 3 warm-up):
 *   sharp decode + Lanczos resize to 224² (main thread)      5.4 ms   (a 'linear' kernel: 4.7 ms, but it moves the
 *                                                                      rocket photo's drawing score by 0.22: kept Lanczos)
 *   postMessage to the worker and back (150 kB)              0.4 ms
 *   input tensor (int32 before; floats ÷ 255 now)            0.2 / 0.4 ms
 *   inference: nsfwjs classify() (Keras layers)             55.8 ms   (model.predict on normalised floats: 54.8 ms,
 *                                                                      so classify's own work is ~1 ms)
 *              the same network folded (worker.ts)          24.6 ms   (scores equal to 4 decimals)
 *   classify() end to end, before → now, interleaved        64.4 → 32.2 ms
 *   `npm run bench -- gateway` moderationMs, 3 runs each    p50 64.8 → 33.5 ms, p99 91.9 → 48.5 ms
 * The WebAssembly backend runs its SIMD binary (WASM_HAS_SIMD_SUPPORT; the plain one takes 87 ms against 26 for the
 * folded network). It runs one thread: tfjs-backend-wasm turns WASM_HAS_MULTITHREAD_SUPPORT off under Node, and
 * forcing it on fails, its pthreads being started from blob: URLs that Node's Worker refuses.
 */

/** The worker's answer: the classes' probabilities in `MODERATION_CLASSES` order, or what went wrong. */
type Answer = { id: number; probabilities?: number[]; error?: string };

/**
 * Loads the nsfwjs classifier in a worker thread: its seconds of model parsing and each classification run off
 * the gateway's event loop. Resolves once the model is loaded; callers keep one per
 * process (`sharedClassifier`).
 */
export async function loadNsfwClassifier(onExit?: () => void): Promise<ImageClassifier & { close(): Promise<void> }> {
  const worker = new Worker(CLASSIFIER_WORKER, {
    eval: true,
    workerData: {
      tfjs: require.resolve('@tensorflow/tfjs'),
      wasm: require.resolve('@tensorflow/tfjs-backend-wasm'),
      nsfwjs: require.resolve('nsfwjs'),
      model: NSFW_MODEL,
      classes: MODERATION_CLASSES,
    },
  });
  const pending = new Map<number, { resolve(a: Answer): void; reject(e: Error): void }>();
  let nextId = 0;
  const runtime = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: Answer & { ready?: string; failed?: string }) => {
      if (m.ready) resolve(m.ready);
      else if (m.failed) reject(new Error(`image classifier failed to load: ${m.failed}`));
      else pending.get(m.id)?.resolve(m);
      pending.delete(m.id);
    });
    worker.once('error', (error) => {
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  // A worker that dies (out of memory, a crash in the runtime) fails what waits on it and every later call, instead
  // of leaving renders waiting for an answer that cannot come; `onExit` lets the owner load a new one.
  let exited: Error | undefined;
  worker.once('exit', (code) => {
    exited = new Error(`image classifier worker exited (code ${code}); it is loaded again on the next render`);
    for (const p of pending.values()) p.reject(exited);
    pending.clear();
    onExit?.();
  });
  // A loaded classifier alone does not keep the process alive. After the listeners: adding a 'message' listener
  // refs the worker again.
  worker.unref();
  return {
    name: `nsfwjs/${NSFW_MODEL}@${runtime}`,
    async close() {
      await worker.terminate();
    },
    async classify(image) {
      if (exited) throw exited;
      // Stretched to the model's square input, as it was trained; alpha dropped, EXIF orientation applied.
      const { data } = await sharp(image, { failOn: 'error' })
        .rotate()
        .resize(INPUT_SIDE, INPUT_SIDE, { fit: 'fill' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const id = nextId++;
      worker.ref();
      const answer = await new Promise<Answer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, pixels: new Uint8Array(data), side: INPUT_SIDE });
      }).finally(() => {
        if (!pending.size) worker.unref();
      });
      if (answer.error) throw new Error(`image classifier failed: ${answer.error}`);
      return Object.fromEntries(MODERATION_CLASSES.map((c, i) => [c, round(answer.probabilities![i])])) as ModerationScores;
    },
  };
}

const round = (p: number) => Math.round(p * 10_000) / 10_000;

let shared: Promise<ImageClassifier> | undefined;

/** The process's one classifier, loaded on first call; a failed load, or a worker that died, is loaded again on the next call. */
export function sharedClassifier(): Promise<ImageClassifier> {
  if (!shared) {
    const loading: Promise<ImageClassifier> = loadNsfwClassifier(() => {
      if (shared === loading) shared = undefined;
    }).catch((error: unknown) => {
      if (shared === loading) shared = undefined;
      throw error;
    });
    shared = loading;
  }
  return shared;
}
