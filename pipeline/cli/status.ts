import { formatEther, type JsonRpcProvider } from 'ethers';
import { connectCollection } from '../chain/collection';
import { connectProvider } from '../chain/provider';
import { findOpenRequests } from '../chain/reconcile';
import { collectionReads } from '../chain/typed-reads';
import { AigcError, errorMessage } from '../errors';
import type { NodeStatus } from '../http/status';
import { jsonLine } from './output';
import { readDeployments } from './project';
import { formatTable } from './table';
import { resolveTarget, type TargetFlags } from './target';

export type StatusCommandOptions = TargetFlags & { signer?: string; fromBlock?: number; json?: boolean };

/** A scan of open requests reads at most this many blocks; beyond, --from-block must narrow it. */
const MAX_SCAN_BLOCKS = 500_000;
const LOG_RANGE = 5_000;
const SIGNER_KINDS = ['none', 'operator', 'tee', 'compromised'];
const iso = (seconds: number) => (seconds === 0 ? 'none' : new Date(seconds * 1000).toISOString());

/**
 * `aigc status`: the collection on chain (settings, supply, open requests, the signer's registry entry, balance and
 * unwithdrawn earnings) and, when a node URL is known, the node (`GET /v1/status`: queue depths, leadership, last
 * processed block). Throws after printing when the node was named but did not answer.
 */
export async function statusCommand(o: StatusCommandOptions): Promise<void> {
  const target = resolveTarget(o);
  const provider = await connectProvider(target.rpcUrl);
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    if ((await provider.getCode(target.collection)) === '0x')
      throw new AigcError('INVALID_REQUEST', `no contract at ${target.collection} on chain ${chainId}: check --collection and --rpc`);
    const [node, nodeError] = target.nodeUrl ? await readNode(target.nodeUrl) : [undefined, undefined];
    const recorded = readDeployments().find((d) => d.chainId === chainId && d.collection.toLowerCase() === target.collection.toLowerCase());
    const signer = o.signer ?? node?.signer ?? recorded?.signer ?? target.devAccounts?.find((a) => a.role === 'operator')?.address;
    const chain = await readChain(provider, target.collection, o.fromBlock ?? target.fromBlock, signer);
    const report = {
      chainId,
      collection: target.collection,
      rpcUrl: target.rpcUrl,
      source: target.source,
      ...chain,
      node: node ? { url: target.nodeUrl, ...node } : null,
      ...(nodeError ? { nodeError } : {}),
    };
    if (o.json) console.log(jsonLine(report));
    else printReport(report, target.nodeUrl);
    if (nodeError)
      throw new AigcError('BACKEND_UNAVAILABLE', `the node at ${target.nodeUrl} did not answer (${nodeError}): is it running?`);
  } finally {
    provider.destroy();
  }
}

async function readChain(provider: JsonRpcProvider, collection: string, fromBlock: number, signer: string | undefined) {
  const reads = collectionReads(connectCollection(collection, provider));
  const head = (await provider.getBlock('latest'))!;
  const [name, symbol, owner, paused, [config, walletLimit], [lastRequestId, reserved], contractURI, [royaltyReceiver, royaltyBps]] =
    await Promise.all([
      reads.name(),
      reads.symbol(),
      reads.owner(),
      reads.paused(),
      reads.mintConfig(),
      reads.requestCounts(),
      reads.contractURI(),
      reads.royaltyInfo(0, 10_000),
    ]);
  let requests: { open: number; overdue: number; minted: number; scannedFrom: number } | { skipped: string };
  if (head.number - fromBlock > MAX_SCAN_BLOCKS)
    requests = {
      skipped: `more than ${MAX_SCAN_BLOCKS} blocks to scan from block ${fromBlock}: pass --from-block <the collection's creation block>`,
    };
  else {
    const { open } = await findOpenRequests({
      provider,
      address: collection,
      fromBlock,
      safeHead: head.number,
      latestBlock: head.number,
      settledBlock: head.number,
      maxBlockRange: LOG_RANGE,
    });
    requests = {
      open: open.length,
      overdue: open.filter((r) => r.deadline <= BigInt(head.timestamp)).length,
      minted: Number(reserved) - open.length,
      scannedFrom: fromBlock,
    };
  }
  let signerInfo = null;
  if (signer) {
    const [[kind, earnings, , payee], balance] = await Promise.all([reads.signerInfo(signer), provider.getBalance(signer)]);
    signerInfo = { address: signer, kind: SIGNER_KINDS[Number(kind)], payee, balanceWei: balance, earningsWei: earnings };
  }
  return {
    head: { block: head.number, timestamp: head.timestamp },
    name,
    symbol,
    owner,
    paused,
    priceWei: config.price,
    maxSupply: Number(config.maxSupply),
    lastRequestId: Number(lastRequestId),
    /** Tokens minted plus requests open: what counts against the supply. */
    reserved: Number(reserved),
    /** Unix seconds; 0 = no start / no end. */
    window: { start: Number(config.mintStart), end: Number(config.mintEnd) },
    walletLimit: Number(walletLimit),
    refundDelay: Number(config.refundDelay),
    royalty: { receiver: royaltyReceiver, bps: Number(royaltyBps) },
    contractURI,
    requests,
    signer: signerInfo,
  };
}

/** The node's `/v1/status`, or why it could not be read. */
async function readNode(url: string): Promise<[NodeStatus, undefined] | [undefined, string]> {
  try {
    const res = await fetch(new URL('/v1/status', url), { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return [undefined, `GET /v1/status answered HTTP ${res.status}`];
    return [(await res.json()) as NodeStatus, undefined];
  } catch (error) {
    return [undefined, errorMessage(error)];
  }
}

type Report = Awaited<ReturnType<typeof readChain>> & {
  chainId: number;
  collection: string;
  rpcUrl: string;
  source: string;
  node: (NodeStatus & { url?: string }) | null;
  nodeError?: string;
};

function printReport(r: Report, nodeUrl: string | undefined): void {
  const eth = (wei: bigint) => `${formatEther(wei)} ETH`;
  console.log(`${r.name} (${r.symbol}) at ${r.collection} on chain ${r.chainId} (block ${r.head.block}; from ${r.source})`);
  console.log(`  owner        ${r.owner}`);
  console.log(
    `  minting      ${r.paused ? 'PAUSED' : 'open'}; ${eth(r.priceWei)} a mint; window ${iso(r.window.start)} to ${iso(r.window.end)}`,
  );
  const req = r.requests;
  console.log(
    `  supply       ${'minted' in req ? `${req.minted} minted, ${req.open} open` : `${r.reserved} minted or open`} of ${r.maxSupply}; last request #${r.lastRequestId}`,
  );
  if ('open' in req)
    console.log(`  requests     ${req.open} open on chain${req.overdue ? `, ${req.overdue} past their deadline (refundable)` : ''}`);
  else console.log(`  requests     not counted: ${req.skipped}`);
  console.log(`  royalty      ${r.royalty.bps ? `${r.royalty.bps / 100} % to ${r.royalty.receiver}` : 'none'}`);
  console.log(`  contractURI  ${r.contractURI || 'none'}`);
  if (r.signer)
    console.log(
      `  signer       ${r.signer.address} (${r.signer.kind}): balance ${eth(r.signer.balanceWei)}, earnings ${eth(r.signer.earningsWei)} to withdraw to ${r.signer.payee}`,
    );
  else console.log('  signer       unknown: pass --signer <address> or --node <url>');
  if (!nodeUrl) {
    console.log('node: not known; pass --node <url> (or set AIGC_NODE_URL) for queue depths, leader and last processed block');
    return;
  }
  if (!r.node) {
    console.log(`node ${nodeUrl}: no answer (${r.nodeError})`);
    return;
  }
  console.log(`node ${nodeUrl} (v${r.node.version}, signer ${r.node.signer})`);
  for (const c of r.node.chains) {
    const lease = c.lease ? `lease epoch ${c.lease.epoch} held by ${c.lease.holder}` : 'no leader';
    console.log(`  chain ${c.chainId}: ${c.leader ? 'this node leads' : 'this node does not lead'} (${lease})`);
    for (const col of c.collections) console.log(`    ${col.address}: last processed block ${col.lastProcessedBlock ?? 'none yet'}`);
  }
  console.log(
    formatTable(
      ['queue', 'waiting', 'active', 'delayed', 'failed', 'completed'],
      r.node.queues.map((q) => [q.name, q.waiting, q.active, q.delayed, q.failed, q.completed].map(String)),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
}
