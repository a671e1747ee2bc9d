import sharp from 'sharp';
import type { ModerationRequest, ModerationResult } from '../../../protocol/gateway';
import { gatewayError } from '../errors';
import { type ImageClassifier, sharedClassifier } from './classifier';
import { crossedClasses, type ModerationPolicy, strictestPolicy } from './policy';

export type Moderator = {
  /**
   * Scores `image` under the stricter of the gateway's policy and the request's. `off`: the classifier is never
   * loaded and the image passes as it is. Above a threshold: `reject` throws CONTENT_REJECTED naming the classes and
   * scores, `blur` returns the image blurred past recognition. Undefined result: moderation was off.
   */
  moderate(image: Buffer, request?: ModerationRequest): Promise<{ image: Buffer; result?: ModerationResult }>;
};

/** Gaussian blur sigma for `blur`, relative to the image's shorter side: nothing recognisable is left. */
const BLUR_FRACTION = 1 / 24;

/**
 * @example
 * const moderator = createModerator({ policy: { policy: 'reject', thresholds: { porn: 0.7 } } });
 * const { image, result } = await moderator.moderate(png, { policy: 'blur', thresholds: { sexy: 0.8 } });
 */
export function createModerator({
  policy,
  load = sharedClassifier,
}: {
  policy: ModerationPolicy;
  /** Gives the classifier; called only when a request is moderated. @defaultValue the process's shared nsfwjs classifier */
  load?: () => Promise<ImageClassifier>;
}): Moderator {
  return {
    async moderate(image, request) {
      const effective = strictestPolicy(policy, request);
      if (effective.policy === 'off') return { image };
      const classifier = await load();
      const started = performance.now();
      const scores = await classifier.classify(image);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const crossed = crossedClasses(scores, effective.thresholds);
      const base = { policy: effective.policy, thresholds: effective.thresholds, scores, classifier: classifier.name, ms };
      if (!crossed.length) return { image, result: { ...base, action: 'passed' } };
      const why = crossed.map((c) => `${c} ${scores[c].toFixed(2)} ≥ ${effective.thresholds[c]}`).join(', ');
      if (effective.policy === 'reject') {
        throw gatewayError({ code: 'CONTENT_REJECTED', message: `image refused by moderation: ${why}`, details: JSON.stringify(base) });
      }
      const { width = 512, height = 512 } = await sharp(image).metadata();
      const blurred = await sharp(image)
        .blur(Math.max(8, Math.min(width, height) * BLUR_FRACTION))
        .png()
        .toBuffer();
      return { image: blurred, result: { ...base, action: 'blurred', crossed } };
    },
  };
}
