import { type Contract, type Log, toUtf8Bytes } from 'ethers';
import { sendInOrder } from '../chain/nonce';
import { type MintRequest, MINT_REQUESTED_TOPIC, parseMintRequested } from '../chain/request';
import { collectionReads } from '../chain/typed-reads';
import { AigcError } from '../errors';
import { checkPrompt } from '../requests/check-prompt';
import { mintRequestError } from './errors';
import type { ClientContext } from './types';

export type RequestMintParameters = {
  /** What to render (UTF-8; the collection limits its length). */
  prompt: string;
  /** Receives the token (`requestMintFor`); else the signer. */
  to?: string;
};

export type RequestMintReturnType = {
  /** The request as the collection emitted it (`MintRequested`); its `requestId` becomes the token id. */
  request: MintRequest;
  /** Hash of the request's transaction. */
  txHash: string;
};

/**
 * Pays the collection's current price (read from `mintConfig()`) for a mint of `prompt`, waits for the transaction
 * to be mined and returns the request. Fees are the signer's business; a key-holding `Wallet` gets an explicit
 * nonce that a plain provider's read cache cannot make stale, so calls in a row work (to send several at once, use
 * a `NonceManager`). A refusal of the contract (`AIGCPaused`, `AIGCSoldOut`, `AIGCMintClosed`, `AIGCPromptLength`,
 * `AIGCWalletLimit`…) throws one `AigcError` naming it, with the reason in words.
 *
 * @example
 * const { request } = await client.requestMint({ prompt: 'a lighthouse at dawn' });
 * console.log(`request ${request.requestId} in ${request.transactionHash}`);
 */
export async function requestMint(ctx: ClientContext, { prompt, to }: RequestMintParameters): Promise<RequestMintReturnType> {
  if (!ctx.signer) throw new AigcError('CONFIG_INVALID', 'requestMint needs a signer: pass `signer` to createClient');
  const contract = ctx.contract.connect(ctx.signer) as Contract;
  let txHash: string;
  let logs: readonly Log[];
  try {
    const [config] = await collectionReads(ctx.contract).mintConfig();
    // Nothing is paid for a prompt the node would refund or the contract refuse.
    checkPrompt(prompt, Number(config.maxPromptBytes));
    const bytes = toUtf8Bytes(prompt);
    const receipt = await sendInOrder(ctx.signer, (overrides) =>
      to === undefined
        ? contract.getFunction('requestMint')(bytes, { ...overrides, value: config.price })
        : contract.getFunction('requestMintFor')(to, bytes, { ...overrides, value: config.price }),
    );
    txHash = receipt.hash;
    logs = receipt.logs;
  } catch (error) {
    throw mintRequestError(error);
  }
  const address = ctx.collection.toLowerCase();
  const log = logs.find((l) => l.address.toLowerCase() === address && l.topics[0] === MINT_REQUESTED_TOPIC);
  if (!log) throw new AigcError('EVENT_INVALID', `transaction ${txHash} emitted no MintRequested`);
  return { request: parseMintRequested(log), txHash };
}
