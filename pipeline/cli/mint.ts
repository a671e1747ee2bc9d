import fs from 'node:fs';
import path from 'node:path';
import { type Contract, formatEther, NonceManager, toUtf8Bytes, Wallet } from 'ethers';
import { connectCollection } from '../chain/collection';
import { connectProvider } from '../chain/provider';
import { collectionReads } from '../chain/typed-reads';
import { AigcError } from '../errors';
import { createClient } from '../sdk';
import { mintRequestError } from '../sdk/errors';
import { resolveKey } from './keys';
import { jsonLine } from './output';
import { checkPrompt } from '../requests/check-prompt';
import { readPrompt } from './prompt-input';
import { resolveTarget, type TargetFlags } from './target';

export type MintCommandOptions = TargetFlags & {
  key?: string;
  to?: string;
  wait?: boolean;
  timeout: number;
  out?: string;
  json?: boolean;
  promptFile?: string;
  dryRun?: boolean;
};

/**
 * `aigc mint "<prompt>"`: pays `requestMint` from the key, and with `--wait` follows the request to its token
 * (stages from the node's event stream, or the chain), saves the image, and checks the token's provenance. A prompt
 * the node or the contract would refuse is refused before anything is sent; `--dry-run` stops there, after a
 * simulation of the request.
 */
export async function mintCommand(arg: string | undefined, o: MintCommandOptions): Promise<void> {
  const prompt = readPrompt(arg, o.promptFile);
  checkPrompt(prompt);
  const target = resolveTarget(o);
  const key = await resolveKey(o.key, { fallbackEnv: 'AIGC_MINT_KEY', role: 'collector', devAccounts: target.devAccounts });
  // Asked once, so a wrong --rpc is one line, not ethers retrying its network detection.
  const provider = await connectProvider(target.rpcUrl);
  const say = (line: string) => {
    if (!o.json) console.error(line);
  };
  try {
    if ((await provider.getCode(target.collection)) === '0x')
      throw new AigcError('INVALID_REQUEST', `no contract at ${target.collection}: check --collection and --rpc`);
    const wallet = new Wallet(key, provider);
    // The byte cap is checked by requestMint before it pays; a dry run checks it here.
    if (o.dryRun) return await dryRun(connectCollection(target.collection, provider), wallet.address, prompt, o);
    const signer = new NonceManager(wallet);
    const client = createClient({
      collection: target.collection,
      provider,
      signer,
      nodeUrl: target.nodeUrl,
      arweaveUrl: target.arweaveUrl,
    });
    const { request, txHash } = await client.requestMint({ prompt, to: o.to });
    say(`requested #${request.requestId} (tx ${txHash}); paid ${request.paid} wei`);
    if (!o.wait) {
      if (o.json) console.log(JSON.stringify({ requestId: String(request.requestId), txHash, status: 'requested' }));
      return;
    }
    const minted = await client.waitForMint({
      requestId: request.requestId,
      timeoutMs: o.timeout * 1000,
      onStatus: (s) => say(`  ${s.status}`),
    });
    const token = await client.getToken(minted.tokenId);
    let imagePath: string | undefined;
    if (o.out) {
      const res = await fetch(token.imageUrl);
      if (!res.ok) throw new AigcError('ARWEAVE_FAILED', `could not download the image from ${token.imageUrl}: HTTP ${res.status}`);
      imagePath = path.resolve(o.out);
      fs.mkdirSync(path.dirname(imagePath), { recursive: true });
      fs.writeFileSync(imagePath, Buffer.from(await res.arrayBuffer()));
    }
    const report = await client.verifyToken(minted.tokenId, { fromBlock: request.blockNumber });
    const result = {
      requestId: String(request.requestId),
      tokenId: String(minted.tokenId),
      owner: token.owner,
      tokenURI: minted.tokenURI,
      image: token.imageUrl,
      ...(imagePath ? { imagePath } : {}),
      verified: report.ok,
    };
    if (o.json) console.log(JSON.stringify(result));
    else {
      console.log(`minted token ${result.tokenId} to ${result.owner}`);
      console.log(`  tokenURI ${result.tokenURI}`);
      console.log(`  image    ${result.image}${imagePath ? ` (saved to ${imagePath})` : ''}`);
      console.log(
        `  ${report.ok ? 'verified' : 'NOT verified'}: ${report.checks.filter((c) => c.ok).length}/${report.checks.length} provenance checks pass`,
      );
    }
    if (!report.ok)
      throw new AigcError(
        'VERIFY_FAILED',
        `token ${result.tokenId} failed ${report.checks.filter((c) => !c.ok).length} provenance check(s)`,
      );
  } finally {
    provider.destroy();
  }
}

/** What `--dry-run` reports: the request as it would be sent, and its gas by a simulation against the chain. */
async function dryRun(contract: Contract, from: string, prompt: string, o: MintCommandOptions): Promise<void> {
  const [config] = await collectionReads(contract)
    .mintConfig()
    .catch((error: unknown) => {
      throw mintRequestError(error);
    });
  checkPrompt(prompt, Number(config.maxPromptBytes));
  const bytes = toUtf8Bytes(prompt);
  const overrides = { from, value: config.price };
  let gas: bigint;
  try {
    // A simulation from the paying account: the contract's refusals (paused, sold out, wallet limit…) show here.
    gas =
      o.to === undefined
        ? await contract.getFunction('requestMint').estimateGas(bytes, overrides)
        : await contract.getFunction('requestMintFor').estimateGas(o.to, bytes, overrides);
  } catch (error) {
    throw mintRequestError(error);
  }
  const result = {
    dryRun: true,
    from,
    ...(o.to === undefined ? {} : { to: o.to }),
    prompt,
    promptBytes: bytes.length,
    maxPromptBytes: Number(config.maxPromptBytes),
    priceWei: config.price,
    gas,
  };
  if (o.json) console.log(jsonLine(result));
  // The prompt itself is not echoed to a terminal: it may hold escape sequences.
  else
    console.log(
      `would request a mint of a ${result.promptBytes}-byte prompt (at most ${result.maxPromptBytes}) for ${formatEther(config.price)} ETH ` +
        `and about ${gas} gas, from ${from}; nothing sent (--dry-run)`,
    );
}
