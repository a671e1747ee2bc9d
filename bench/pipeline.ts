import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type EventLog, hexlify, Signature, toUtf8Bytes, Transaction, Wallet } from 'ethers';
import WebSocket from 'ws';
import { deployFromTemplate } from '../pipeline/chain/collection';
import { createProvider } from '../pipeline/chain/provider';
import { startAnvil } from '../pipeline/embedded/anvil';
import { signDigest } from '../pipeline/provenance/sign-digest';
import { startArlocal } from '../pipeline/embedded/arlocal';
import { freePort, waitFor } from '../pipeline/embedded/ports';
import { spawnRedisServer } from '../pipeline/embedded/redis';
import { arweaveClient, loadWallet } from '../pipeline/storage/arweave';
import { loadTemplate } from '../pipeline/template';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
/** Offered load in requests per second; 0 sends as fast as the collectors can (the saturation run). */
const RATE = Number(process.env.BENCH_RATE ?? 0);
/** Node settings the run uses; the defaults are what this machine does best with. */
const GENERATE_CONCURRENCY = process.env.BENCH_GENERATE_CONCURRENCY ?? '64';
const ARWEAVE_MODE = process.env.BENCH_ARWEAVE_MODE ?? 'bundle';
const SENDERS = 40;
/**
 * arlocal mines (confirms, and indexes bundled items) every 2 minutes, as Arweave makes blocks. The node mints once
 * the gateway has accepted an upload, so mining is the gateway's work, not the node's; mining every second made the
 * stand-in gateway spend more of the two cores than the node. BENCH_MINE_MS=1000 measures with it.
 */
const MINE_MS = Number(process.env.BENCH_MINE_MS ?? 120_000);
/** Node processes: the leader plus render-only workers (`aigc node --workers-only`). */
const NODE_PROCESSES = Number(process.env.BENCH_NODE_PROCESSES ?? 1);
/** Set to a directory to have the node and gateway write V8 CPU profiles there (open them in Chrome DevTools). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const nodeArgs = (name: string) => (PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : []);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The whole node under load: `REQUESTS` requestMint transactions on anvil (automine, 0 confirmations), the
 * `local` backend at 256×256 in its own gateway process, arlocal, a private Redis, and the node as its own process
 * (`aigc node`). overhead = request-to-mint time minus the gateway's render time for that request.
 */
export async function run(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-bench-'));
  const children: ChildProcess[] = [];
  // If this process dies before its finally block, take the node and gateway with it.
  const killChildren = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killChildren);
  const anvil = await startAnvil({ accounts: SENDERS + 2 });
  const redis = await spawnRedisServer();
  const arlocal = await startArlocal({ dbPath: path.join(dir, 'arlocal'), mineIntervalMs: MINE_MS });
  try {
    const cli = path.join(__dirname, '..', 'pipeline', 'cli', 'index.js');
    const gatewayMain = path.join(__dirname, '..', 'services', 'diffusion-gateway', 'main.js');
    const gatewayPort = await freePort();
    children.push(spawn(process.execPath, [...nodeArgs('gateway'), gatewayMain], { env: { ...process.env, GATEWAY_PORT: String(gatewayPort) }, stdio: 'ignore' }));
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitFor(async () => (await fetch(`${gatewayUrl}/healthz`)).ok, 10_000);

    const walletPath = path.join(dir, 'arweave-wallet.json');
    const jwk = await loadWallet(walletPath, { create: true });
    await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000000`);

    const base = loadTemplate('genesis');
    const template = { ...base, render: { ...base.render, width: 256, height: 256 } };
    const templatePath = path.join(dir, 'collection.json');
    fs.writeFileSync(templatePath, JSON.stringify(template));
    const provider = createProvider(anvil.rpcUrl, 50);
    const [deployer, operator, ...senders] = anvil.privateKeys.map((k) => new Wallet(k, provider));
    const deployed = await deployFromTemplate({ deployer, template, operator: operator.address });
    const collection = (await import('../pipeline/chain/collection')).connectCollection(deployed.address, provider);

    const nodeEnv = {
      ...process.env,
      LOG_LEVEL: 'info',
      AIGC_DATA_DIR: dir,
      REDIS_URL: redis.url,
      AIGC_RPC_URL: anvil.rpcUrl,
      AIGC_WS_URL: anvil.rpcUrl.replace(/^http/, 'ws'),
      AIGC_POLL_INTERVAL_MS: process.env.AIGC_POLL_INTERVAL_MS ?? '50',
      AIGC_START_BLOCK: String(deployed.blockNumber),
      AIGC_COLLECTION: deployed.address,
      AIGC_TEMPLATE: templatePath,
      AIGC_SIGNER_KEY: anvil.privateKeys[1],
      AIGC_GATEWAY_URL: gatewayUrl,
      AIGC_ARWEAVE_URL: arlocal.url,
      AIGC_ARWEAVE_WALLET: walletPath,
      AIGC_GENERATE_CONCURRENCY: GENERATE_CONCURRENCY,
      AIGC_ARWEAVE_MODE: ARWEAVE_MODE,
      AIGC_BATCH_SIZE: '20',
      AIGC_BATCH_WINDOW_MS: process.env.AIGC_BATCH_WINDOW_MS ?? '5',
      AIGC_HTTP_PORT: '0',
    };
    // The node, and (BENCH_NODE_PROCESSES > 1) render-only workers beside it, as an operator scales out.
    const logPaths: string[] = [];
    const nodes = Array.from({ length: NODE_PROCESSES }, (_, i) => {
      logPaths.push(path.join(dir, i ? `worker-${i}.log` : 'node.log'));
      const args = [...nodeArgs(i ? `worker-${i}` : 'node'), cli, 'node', ...(i ? ['--workers-only'] : [])];
      // pino writes to stderr
      const child = spawn(process.execPath, args, { env: nodeEnv, stdio: ['ignore', 'ignore', fs.openSync(logPaths[i], 'w')] });
      children.push(child);
      return child;
    });
    await new Promise((r) => setTimeout(r, 1_500));
    // A node that stops (bad setting, crash) ends the run at once with its last words, not after the deadline.
    const exited = nodes.find((n) => n.exitCode !== null);
    if (exited) throw new Error(`node exited with code ${exited.exitCode}: ${fs.readFileSync(logPaths[nodes.indexOf(exited)], 'utf8').slice(-1_000)}`);
    for (const [i, n] of nodes.entries()) {
      n.once('exit', (code) => {
        if (sending || mintedAt.size < REQUESTS) failure ??= new Error(`node process ${i} exited (code ${code}) during the run: see ${logPaths[i]}`);
      });
    }

    let failure: Error | undefined;
    const requestTx = new Map<string, string>();
    const sentAt = new Map<string, number>();
    const mintedAt = new Map<string, number>();
    // The collectors sign locally (natively) with fixed gas and fees and their own nonces, and do not wait for
    // receipts: the load generator shares the machine with the node, so it must cost as little as possible.
    const fee = await provider.getFeeData();
    const chainId = (await provider.getNetwork()).chainId;
    const to = deployed.address;
    const value = BigInt(template.mint.priceWei);
    const nonces = await Promise.all(senders.map((w) => provider.getTransactionCount(w.address)));
    const started = performance.now();
    // Mints are pushed by anvil (eth_subscribe over a WebSocket, request id decoded from the topic by hand), so each is
    // timed when its block is made and watching takes no polling CPU from the node.
    const socket = new WebSocket(anvil.rpcUrl.replace(/^http/, 'ws'));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const mintedTopic = collection.interface.getEvent('MintFulfilled')!.topicHash;
    socket.on('message', (message: Buffer) => {
      const log = (JSON.parse(message.toString()) as { params?: { result?: { topics: string[] } } }).params?.result;
      if (log?.topics[0] === mintedTopic) mintedAt.set(BigInt(log.topics[1]).toString(), performance.now());
    });
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['logs', { address: deployed.address, topics: [mintedTopic] }] }));
    let sending = true;
    const watching = (async () => {
      const deadline = Date.now() + 20 * 60_000;
      while ((sending || mintedAt.size < REQUESTS) && Date.now() < deadline && !failure) await new Promise((r) => setTimeout(r, 50));
      socket.close();
      for (const log of (await collection.queryFilter(collection.filters.MintRequested(), deployed.blockNumber)) as EventLog[]) {
        requestTx.set(log.args.requestId.toString(), log.transactionHash);
      }
    })();
    await Promise.all(
      senders.map(async (wallet, s) => {
        for (let i = s; i < REQUESTS; i += senders.length) {
          if (RATE > 0) await new Promise((r) => setTimeout(r, Math.max(0, started + (i * 1000) / RATE - performance.now())));
          const tx = Transaction.from({
            type: 2,
            chainId,
            to,
            value,
            nonce: nonces[s]++,
            gasLimit: 250_000n,
            maxFeePerGas: fee.maxFeePerGas! * 2n,
            maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
            data: collection.interface.encodeFunctionData('requestMint', [toUtf8Bytes(`bench request ${i}: a lighthouse at dawn`)]),
          });
          tx.signature = Signature.from(hexlify(signDigest(wallet.privateKey, tx.unsignedHash)));
          const raw = tx.serialized;
          const at = performance.now();
          // anvil automines on receipt of the transaction: the request is on chain when this returns.
          sentAt.set((await provider.send('eth_sendRawTransaction', [raw])) as string, at);
        }
      }),
    );
    const requestSeconds = (performance.now() - started) / 1000;
    sending = false;
    await watching;
    if (failure) throw failure;
    const requestedAt = new Map([...requestTx].map(([id, hash]) => [id, sentAt.get(hash)!]));
    const elapsed = (performance.now() - started) / 1000;
    // Peak resident memory of each node process (the leader's alone when it runs alone).
    const peaksMb = nodes.map((n) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${n.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024));

    // From the node logs: render time, and when each request's image and outputs were stored and its mint seen.
    const renderMs = new Map<string, number>();
    const stageAt = new Map<string, { queued?: number; image?: number; stored?: number; minted?: number }>();
    for (const logPath of logPaths) {
      for (const line of fs.readFileSync(logPath, 'utf8').split('\n')) {
        if (line.includes('"requests enqueued"')) {
          const entry = JSON.parse(line) as { time: number; requestIds: string[] };
          for (const id of entry.requestIds) stageAt.set(id, { ...stageAt.get(id), queued: entry.time });
          continue;
        }
        if (!line.includes('"requestId"')) continue;
        const entry = JSON.parse(line) as { requestId: string; time: number; msg: string; renderMs?: number; outcome?: string };
        const at = stageAt.get(entry.requestId) ?? {};
        if (entry.renderMs !== undefined) {
          renderMs.set(entry.requestId, entry.renderMs);
          at.image = entry.time;
        }
        if (entry.msg === 'bundle stored' || entry.msg === 'manifest stored') at.stored = entry.time;
        if (entry.outcome === 'minted') at.minted = entry.time;
        stageAt.set(entry.requestId, at);
      }
    }
    const epoch = (id: string) => performance.timeOrigin + requestedAt.get(id)!;
    const stageP50 = (f: (id: string) => number) => Math.round(percentile([...stageAt.keys()].filter((id) => requestedAt.has(id)).map(f).filter(Number.isFinite).sort((a, b) => a - b), 50));
    const stagesP50Ms = {
      requestToQueued: stageP50((id) => stageAt.get(id)!.queued! - epoch(id)),
      queuedToImage: stageP50((id) => stageAt.get(id)!.image! - stageAt.get(id)!.queued! - renderMs.get(id)!),
      imageToStored: stageP50((id) => stageAt.get(id)!.stored! - stageAt.get(id)!.image!),
      storedToMinted: stageP50((id) => stageAt.get(id)!.minted! - stageAt.get(id)!.stored!),
    };
    const overheads = [...mintedAt.keys()]
      .filter((id) => requestedAt.has(id) && renderMs.has(id))
      .map((id) => mintedAt.get(id)! - requestedAt.get(id)! - renderMs.get(id)!)
      .sort((a, b) => a - b);
    provider.destroy();
    return {
      bench: 'pipeline',
      requests: REQUESTS,
      arweaveMode: ARWEAVE_MODE,
      minted: mintedAt.size,
      mintsPerSec: Number((mintedAt.size / elapsed).toFixed(1)),
      /** The offered load: how fast the collectors' requestMint transactions went in. */
      requestsPerSec: Number((REQUESTS / requestSeconds).toFixed(1)),
      overheadP50Ms: Math.round(percentile(overheads, 50)),
      overheadP95Ms: Math.round(percentile(overheads, 95)),
      overheadP99Ms: Math.round(percentile(overheads, 99)),
      peakRssMb: Math.max(...peaksMb),
      /** Where the median request's overhead goes (node log clock; render time taken out of the first stage). */
      stagesP50Ms,
      ...(nodes.length > 1 ? { nodeProcesses: nodes.length, peakRssMbEach: peaksMb } : {}),
    };
  } finally {
    process.off('exit', killChildren);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await arlocal.stop();
    await redis.stop();
    await anvil.stop();
  }
}
