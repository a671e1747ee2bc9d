/**
 * `aigc-nft/node`: the client (everything `aigc-nft` exports) plus the Node.js-only pieces scripts and servers use:
 * `verifyToken` without a client (any `download` of Arweave data), and deploying a collection from a template.
 */
export * from './index';
export { verifyToken as verifyTokenWith, type VerifyCheck, type VerifyReport } from '../provenance/verify';
export { deployFromTemplate } from '../chain/collection';
export { type CollectionTemplate, loadTemplate } from '../template';
