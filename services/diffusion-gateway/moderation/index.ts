/** Image moderation after rendering: a bundled classifier (nsfwjs on TensorFlow.js WebAssembly, in a worker thread) and per-class policies. */
export { type ImageClassifier, loadNsfwClassifier, NSFW_MODEL, sharedClassifier } from './classifier';
export { createModerator, type Moderator } from './moderate';
export { DEFAULT_THRESHOLDS, type ModerationPolicy, crossedClasses, parseThresholds, strictestPolicy } from './policy';
