import { type Contract, hexlify, type JsonRpcProvider, randomBytes, type Signer, type TransactionReceipt, Wallet } from 'ethers';
import {
  type CollectionParams,
  connectCollection,
  createCollection,
  deployFactory,
  paramsFromTemplate,
} from '../../pipeline/chain/collection';
import { createProvider } from '../../pipeline/chain/provider';
import { type MintRequest, requestStruct } from '../../pipeline/chain/request';
import { type Anvil, startAnvil } from '../../pipeline/embedded/anvil';
import { fulfillmentDomain, signFulfillment } from '../../pipeline/provenance/typed-data';
import { loadTemplate } from '../../pipeline/template';

/** A chain with a factory, for contract tests: accounts 0 = owner, 1 = operator (authorised), the rest collectors. */
export type ChainFixture = {
  anvil: Anvil;
  provider: JsonRpcProvider;
  owner: Wallet;
  operator: Wallet;
  wallets: Wallet[];
  factory: string;
  stop(): Promise<void>;
};

export async function startChain(accounts = 12): Promise<ChainFixture> {
  const anvil = await startAnvil({ accounts });
  const provider = createProvider(anvil.rpcUrl, 50);
  const wallets = anvil.privateKeys.map((k) => new Wallet(k, provider));
  const { factory } = await deployFactory(wallets[0]);
  return {
    anvil,
    provider,
    owner: wallets[0],
    operator: wallets[1],
    wallets,
    factory,
    async stop() {
      provider.destroy();
      await anvil.stop();
    },
  };
}

export { PRICE } from './mint';

/** Creates a collection with the open-prompt template's settings, overridden by `override`. */
export async function newCollection(
  chain: ChainFixture,
  override: Omit<Partial<CollectionParams>, 'mint'> & { mint?: Partial<CollectionParams['mint']> } = {},
): Promise<Contract> {
  const base = paramsFromTemplate(loadTemplate('open-prompt'), chain.owner.address, chain.operator.address);
  const params = { ...base, ...override, mint: { ...base.mint, ...override.mint } };
  const { address } = await createCollection({ deployer: chain.owner, factory: chain.factory, params });
  return connectCollection(address, chain.provider);
}

/** A fulfilment of `r` signed by `signer`, for `collection` on `chainId` (override any value to forge one). */
export async function signedFulfillment(
  r: MintRequest,
  signer: Signer,
  {
    collection,
    chainId = 31337,
    manifestId = hexlify(randomBytes(32)),
    imageSha256 = hexlify(randomBytes(32)),
    modelHash = hexlify(randomBytes(32)),
    seed = r.seed,
    promptHash = r.promptHash,
  }: {
    collection: string;
    chainId?: number;
    manifestId?: string;
    imageSha256?: string;
    modelHash?: string;
    seed?: string;
    promptHash?: string;
  },
) {
  const values = { requestId: r.requestId, promptHash, seed, imageSha256, manifestId, modelHash };
  return {
    requestId: r.requestId,
    request: requestStruct(r),
    manifestId: values.manifestId,
    imageSha256: values.imageSha256,
    modelHash: values.modelHash,
    signature: await signFulfillment(signer, fulfillmentDomain(chainId, collection), values),
  };
}

/** Moves anvil's clock forward and mines a block. */
export async function advanceTime(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send('evm_increaseTime', [seconds]);
  await provider.send('evm_mine', []);
}

/**
 * Sends a transaction and returns its receipt, polling for it (ethers' `wait()` can miss an automined block under load
 * after an `evm_revert`). A call the chain refuses throws like ethers: CALL_EXCEPTION, with the decoded custom error in
 * `revert` when the refusal comes from gas estimation; a mined revert throws CALL_EXCEPTION with its receipt.
 */
export async function send(contract: Contract, wallet: Wallet, method: string, ...args: unknown[]): Promise<TransactionReceipt> {
  const tx = await (contract.connect(wallet) as Contract).getFunction(method)(...args);
  for (;;) {
    const receipt = await wallet.provider!.getTransactionReceipt(tx.hash);
    if (receipt) {
      if (receipt.status !== 1) throw Object.assign(new Error(`${method} reverted on chain`), { code: 'CALL_EXCEPTION', receipt });
      return receipt;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
