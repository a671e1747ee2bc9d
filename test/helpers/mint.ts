import { type Contract, type Signer, toUtf8Bytes, Wallet } from 'ethers';
import { type MintRequest, MINT_REQUESTED_TOPIC, parseMintRequested } from '../../pipeline/chain/request';
import { loadTemplate } from '../../pipeline/template';

/** The open-prompt template's mint price. */
export const PRICE = BigInt(loadTemplate('open-prompt').mint.priceWei);

/**
 * Sends requestMint from `wallet` — or requestMintFor(`recipient`, …) when `recipient` is given — waits for the
 * receipt and returns the request the collection emitted (`MintRequested`, parsed as the node parses it).
 */
export async function requestMint(
  collection: Contract,
  wallet: Signer,
  prompt = 'a small red boat',
  value = PRICE,
  recipient?: string,
): Promise<MintRequest> {
  const c = collection.connect(wallet) as Contract;
  const sent =
    recipient === undefined
      ? await c.requestMint(toUtf8Bytes(prompt), { value })
      : await c.requestMintFor(recipient, toUtf8Bytes(prompt), { value });
  const receipt = await sent.wait();
  const address = (await collection.getAddress()).toLowerCase();
  const log = receipt.logs.find(
    (l: { address: string; topics: string[] }) => l.address.toLowerCase() === address && l.topics[0] === MINT_REQUESTED_TOPIC,
  );
  if (!log) throw new Error(`no MintRequested in ${receipt.hash}`);
  return parseMintRequested(log);
}

/**
 * Sends one requestMint per prompt to `collection`, from the wallets of `privateKeys` round robin (wallets in
 * parallel, each wallet's requests one after another), and returns the requests in the order of `prompts`.
 */
export async function requestMints(collection: Contract, privateKeys: string[], prompts: string[]): Promise<MintRequest[]> {
  const provider = collection.runner!.provider!;
  const byWallet = new Map<number, string[]>();
  prompts.forEach((p, i) => byWallet.set(i % privateKeys.length, [...(byWallet.get(i % privateKeys.length) ?? []), p]));
  const out: MintRequest[] = [];
  await Promise.all(
    [...byWallet].map(async ([k, ps]) => {
      const wallet = new Wallet(privateKeys[k], provider);
      for (const p of ps) out.push(await requestMint(collection, wallet, p));
    }),
  );
  // Wallets send in parallel, so request ids need not follow the prompts' order.
  return prompts.map((p) => out.find((r) => r.prompt === p)!);
}
