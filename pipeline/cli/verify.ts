import { connectProvider } from '../chain/provider';
import { AigcError } from '../errors';
import { createClient } from '../sdk';
import { resolveTarget, type TargetFlags } from './target';

export type VerifyCommandOptions = TargetFlags & { fromBlock?: number; json?: boolean };

/**
 * `aigc verify <tokenId>`: checks a token from public data alone (chain events and state, Arweave manifest and image)
 * and prints each check. Throws VERIFY_FAILED (exit code 4) when any check fails, NOT_FOUND (1) for a token that does
 * not exist, ARWEAVE_FAILED (1) when the gateway cannot serve the manifest or image.
 */
export async function verifyCommand(tokenId: bigint, o: VerifyCommandOptions): Promise<void> {
  const target = resolveTarget(o);
  // Asked once, so a wrong --rpc is one line, not ethers retrying its network detection.
  const provider = await connectProvider(target.rpcUrl);
  try {
    // The client's verifyToken: downloads from the gateway's data route, each failure one line.
    const client = createClient({ collection: target.collection, provider, arweaveUrl: target.arweaveUrl });
    const report = await client.verifyToken(tokenId, { fromBlock: o.fromBlock ?? target.fromBlock });
    if (o.json) {
      console.log(JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    } else {
      console.log(`token ${tokenId} of ${target.collection}: owner ${report.owner}, ${report.tokenURI}`);
      for (const c of report.checks) console.log(`  ${c.ok ? '✓' : '✗'} ${c.name}${!c.ok && c.detail ? ` (${c.detail})` : ''}`);
      if (report.attestation) console.log(`  attestation: ${report.attestation.type} — ${report.attestation.note}`);
      const cr = report.credentials;
      if (cr)
        console.log(
          `  content credentials (C2PA): ${cr.present ? `${cr.valid ? 'valid' : 'INVALID'}, signed by ${cr.signer ?? 'unknown'}` : `none (${cr.note ?? 'absent'})`}`,
        );
      console.log(report.ok ? 'verified' : 'NOT verified');
    }
    if (!report.ok) throw new AigcError('VERIFY_FAILED', `token ${tokenId} failed ${report.checks.filter((c) => !c.ok).length} check(s)`);
  } finally {
    provider.destroy();
  }
}
