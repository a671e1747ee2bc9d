import { createProvider } from '../chain/provider';
import { AigcError } from '../errors';
import { verifyToken } from '../provenance/verify';
import { arweaveClient } from '../storage/arweave';
import { resolveTarget, type TargetFlags } from './target';

export type VerifyCommandOptions = TargetFlags & { fromBlock?: number; json?: boolean };

/**
 * `aigc verify <tokenId>`: checks a token from public data alone (chain events and state, Arweave manifest and image)
 * and prints each check. Throws VERIFY_FAILED (exit code 4) when any check fails.
 */
export async function verifyCommand(tokenId: bigint, o: VerifyCommandOptions): Promise<void> {
  const target = resolveTarget(o);
  const provider = createProvider(target.rpcUrl);
  const arweave = arweaveClient(target.arweaveUrl);
  try {
    const report = await verifyToken({
      provider,
      collection: target.collection,
      tokenId,
      fromBlock: o.fromBlock ?? target.fromBlock,
      download: async (id) => {
        const data = await arweave.transactions.getData(id, { decode: true });
        return typeof data === 'string' ? Buffer.from(data) : new Uint8Array(data as unknown as ArrayBuffer);
      },
    });
    if (o.json) {
      console.log(JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    } else {
      console.log(`token ${tokenId} of ${target.collection}: owner ${report.owner}, ${report.tokenURI}`);
      for (const c of report.checks) console.log(`  ${c.ok ? '✓' : '✗'} ${c.name}${c.ok ? '' : ` (${c.detail})`}`);
      if (report.attestation) console.log(`  attestation: ${report.attestation.type} — ${report.attestation.note}`);
      console.log(report.ok ? 'verified' : 'NOT verified');
    }
    if (!report.ok) throw new AigcError('VERIFY_FAILED', `token ${tokenId} failed ${report.checks.filter((c) => !c.ok).length} check(s)`);
  } finally {
    provider.destroy();
  }
}
