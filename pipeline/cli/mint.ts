import fs from 'node:fs';
import path from 'node:path';
import { NonceManager, Wallet } from 'ethers';
import { createProvider } from '../chain/provider';
import { AigcError } from '../errors';
import { createClient } from '../sdk';
import { resolveKey } from './keys';
import { resolveTarget, type TargetFlags } from './target';

export type MintCommandOptions = TargetFlags & {
  key?: string;
  to?: string;
  wait?: boolean;
  timeout: number;
  out?: string;
  json?: boolean;
};

/**
 * `aigc mint "<prompt>"`: pays `requestMint` from the key, and with `--wait` follows the request to its token
 * (stages from the node's event stream, or the chain), saves the image, and checks the token's provenance.
 */
export async function mintCommand(prompt: string, o: MintCommandOptions): Promise<void> {
  const target = resolveTarget(o);
  const key = await resolveKey(o.key, { fallbackEnv: 'AIGC_MINT_KEY', role: 'collector', devAccounts: target.devAccounts });
  const provider = createProvider(target.rpcUrl);
  const say = (line: string) => {
    if (!o.json) console.error(line);
  };
  try {
    const signer = new NonceManager(new Wallet(key, provider));
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
