import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type EventLog, hexlify, Signature, toUtf8Bytes, Transaction, Wallet } from 'ethers';
import WebSocket from 'ws';
import { deployFromTemplate } from '../pipeline/chain/collection';
import { createProvider } from '../pipeline/chain/provider';
import { startAnvil } from '../pipeline/embedded/anvil';
import { signDigest } from '../pipeline/crypto/sign-digest';
import { startArlocal } from '../pipeline/embedded/arlocal';
import { freePort, waitFor } from '../pipeline/embedded/ports';
import { spawnRedisServer } from '../pipeline/embedded/redis';
import { arweaveClient, loadWallet } from '../pipeline/storage/arweave';
import { loadTemplate } from '../pipeline/template';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
/**
 * Offered requests per second of the second run, whose overhead percentiles are reported (the throughput target);
 * 0 skips it and reports the overhead of the throughput run, where requests sent all at once wait in line.
 */
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 40);
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
const nodeArgs = (name: string) =>
  PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];

/** User + system CPU milliseconds a process has used so far (/proc/<pid>/stat utime + stime, in clock ticks of 10 ms). */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the command name (which may hold spaces) start at ")"; utime and stime are the 14th and 15th.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The whole node under load: requestMint transactions on anvil (automine, 0 confirmations), the `local` backend at
 * 256×256 in its own gateway process, arlocal, a private Redis, and the node as its own process (`aigc node`).
 * `REQUESTS` are sent at once for the throughput, then `REQUESTS` more at `LATENCY_RATE` for the overhead
 * percentiles; overhead = request-to-mint time minus the gateway's render time for that request.
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
    children.push(
      spawn(process.execPath, [...nodeArgs('gateway'), gatewayMain], {
        env: { ...process.env, GATEWAY_PORT: String(gatewayPort) },
        stdio: 'ignore',
      }),
    );
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitFor(async () => (await fetch(`${gatewayUrl}/healthz`)).ok, 10_000);

    const walletPath = path.join(dir, 'arweave-wallet.json');
    const jwk = await loadWallet(walletPath, { create: true });
    await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000000`);

    // The pipeline's own cost: moderation (its own figure, `moderationMs` of the gateway bench) and Content Credentials
    // (which need a certificate chain) are off here.
    const { moderation: _moderation, credentials: _credentials, ...base } = loadTemplate('open-prompt');
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
    if (exited)
      throw new Error(
        `node exited with code ${exited.exitCode}: ${fs.readFileSync(logPaths[nodes.indexOf(exited)], 'utf8').slice(-1_000)}`,
      );
    let running = true;
    let failure: Error | undefined;
    for (const [i, n] of nodes.entries()) {
      n.once('exit', (code) => {
        if (running) failure ??= new Error(`node process ${i} exited (code ${code}) during the run: see ${logPaths[i]}`);
      });
    }

    // Mints are pushed by anvil (eth_subscribe over a WebSocket, request id decoded from the topic by hand), so each is
    // timed when its block is made and watching takes no polling CPU from the node.
    const mintedAt = new Map<string, number>();
    const socket = new WebSocket(anvil.rpcUrl.replace(/^http/, 'ws'));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const mintedTopic = collection.interface.getEvent('MintFulfilled')!.topicHash;
    socket.on('message', (message: Buffer) => {
      const log = (JSON.parse(message.toString()) as { params?: { result?: { topics: string[] } } }).params?.result;
      if (log?.topics[0] === mintedTopic) mintedAt.set(BigInt(log.topics[1]).toString(), performance.now());
    });
    socket.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'eth_subscribe',
        params: ['logs', { address: deployed.address, topics: [mintedTopic] }],
      }),
    );

    // The collectors sign locally (natively) with fixed gas and fees and their own nonces, and do not wait for
    // receipts: the load generator shares the machine with the node, so it must cost as little as possible.
    const fee = await provider.getFeeData();
    const chainId = (await provider.getNetwork()).chainId;
    const nonces = await Promise.all(senders.map((w) => provider.getTransactionCount(w.address)));
    const value = BigInt(template.mint.priceWei);

    /** Sends `count` requests (numbered from `first`) at `rate` per second (0: as fast as they go) and waits for their mints. */
    const phase = async (count: number, rate: number, first: number) => {
      const fromBlock = (await provider.getBlockNumber()) + 1;
      // CPU of the node processes and of the gateway over the phase: what an operator's hardware must supply per mint.
      const nodeCpu = () => nodes.reduce((sum, n) => sum + cpuMs(n.pid), 0);
      const cpuBefore = { node: nodeCpu(), gateway: cpuMs(children[0].pid) };
      const sentAt = new Map<string, number>();
      const started = performance.now();
      await Promise.all(
        senders.map(async (wallet, s) => {
          for (let i = s; i < count; i += senders.length) {
            if (rate > 0) await new Promise((r) => setTimeout(r, Math.max(0, started + (i * 1000) / rate - performance.now())));
            const tx = Transaction.from({
              type: 2,
              chainId,
              to: deployed.address,
              value,
              nonce: nonces[s]++,
              gasLimit: 250_000n,
              maxFeePerGas: fee.maxFeePerGas! * 2n,
              maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
              data: collection.interface.encodeFunctionData('requestMint', [
                toUtf8Bytes(`bench request ${first + i}: a lighthouse at dawn`),
              ]),
            });
            tx.signature = Signature.from(hexlify(signDigest(wallet.privateKey, tx.unsignedHash)));
            const at = performance.now();
            // anvil automines on receipt of the transaction: the request is on chain when this returns.
            sentAt.set((await provider.send('eth_sendRawTransaction', [tx.serialized])) as string, at);
          }
        }),
      );
      const requestSeconds = (performance.now() - started) / 1000;
      // anvil may still be mining the last of them when the sends return.
      const requestedAt = new Map<string, number>();
      const deadline = Date.now() + 20 * 60_000;
      while (requestedAt.size < count && Date.now() < deadline) {
        for (const log of (await collection.queryFilter(collection.filters.MintRequested(), fromBlock)) as EventLog[]) {
          requestedAt.set(log.args.requestId.toString(), sentAt.get(log.transactionHash)!);
        }
        if (requestedAt.size < count) await new Promise((r) => setTimeout(r, 200));
      }
      const ids = [...requestedAt.keys()];
      while (ids.some((id) => !mintedAt.has(id)) && Date.now() < deadline && !failure) await new Promise((r) => setTimeout(r, 50));
      if (failure) throw failure;
      const minted = ids.filter((id) => mintedAt.has(id));
      const cpu = { node: nodeCpu() - cpuBefore.node, gateway: cpuMs(children[0].pid) - cpuBefore.gateway };
      const lastMint = Math.max(...minted.map((id) => mintedAt.get(id)!));
      const { renderMs, stagesP50Ms } = readNodeLogs(logPaths, requestedAt);
      const overheads = minted
        .filter((id) => renderMs.has(id))
        .map((id) => mintedAt.get(id)! - requestedAt.get(id)! - renderMs.get(id)!)
        .sort((a, b) => a - b);
      return {
        minted: minted.length,
        mintsPerSec: Number((minted.length / ((lastMint - started) / 1000)).toFixed(1)),
        requestsPerSec: Number((count / requestSeconds).toFixed(1)),
        overheadP50Ms: Math.round(percentile(overheads, 50)),
        overheadP95Ms: Math.round(percentile(overheads, 95)),
        overheadP99Ms: Math.round(percentile(overheads, 99)),
        nodeCpuMsPerMint: Number((cpu.node / Math.max(1, minted.length)).toFixed(1)),
        gatewayCpuMsPerRender: Number((cpu.gateway / Math.max(1, minted.length)).toFixed(1)),
        overheadsMs: overheads.map(Math.round),
        stagesP50Ms,
      };
    };

    // Throughput: everything at once; the overhead of that run is mostly waiting in line. Latency: the same number of
    // requests offered at the throughput target, where the overhead is the node's own.
    const throughput = await phase(REQUESTS, 0, 0);
    const latency = LATENCY_RATE > 0 ? await phase(REQUESTS, LATENCY_RATE, REQUESTS) : throughput;
    running = false;
    socket.close();
    // Peak resident memory of each node process (the leader's alone when it runs alone).
    const peaksMb = nodes.map((n) =>
      Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${n.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
    );
    provider.destroy();
    return {
      bench: 'pipeline',
      requests: REQUESTS,
      arweaveMode: ARWEAVE_MODE,
      /** Mints seen, both runs together. */
      minted: throughput.minted + (latency === throughput ? 0 : latency.minted),
      mintsPerSec: throughput.mintsPerSec,
      /** Machine-independent: user+system CPU of the node process(es) per mint, and of the gateway per render (throughput run). */
      nodeCpuMsPerMint: throughput.nodeCpuMsPerMint,
      gatewayCpuMsPerRender: throughput.gatewayCpuMsPerRender,
      generateConcurrency: Number(GENERATE_CONCURRENCY),
      /** How fast the collectors' requestMint transactions went in during the throughput run. */
      requestsPerSec: throughput.requestsPerSec,
      overheadP50Ms: latency.overheadP50Ms,
      overheadP95Ms: latency.overheadP95Ms,
      overheadP99Ms: latency.overheadP99Ms,
      /** Offered requests per second of the run the overhead percentiles come from (0: the throughput run). */
      overheadAtRequestsPerSec: LATENCY_RATE,
      peakRssMb: Math.max(...peaksMb),
      /** Where the median request's overhead goes in that run (node log clock; render time taken out). */
      stagesP50Ms: latency.stagesP50Ms,
      saturatedOverheadP50Ms: throughput.overheadP50Ms,
      /** Every request's overhead (ms) in both runs, for the report's distribution plot. */
      overheadsMs: { [String(LATENCY_RATE)]: latency.overheadsMs, saturated: throughput.overheadsMs },
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

/** From the node logs: each request's render time, and the median time of each stage of `requestedAt`'s requests. */
function readNodeLogs(logPaths: string[], requestedAt: Map<string, number>) {
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
  const ids = [...requestedAt.keys()].filter((id) => stageAt.has(id) && renderMs.has(id));
  const epoch = (id: string) => performance.timeOrigin + requestedAt.get(id)!;
  const median = (f: (id: string, at: { queued?: number; image?: number; stored?: number; minted?: number }) => number) =>
    Math.round(
      percentile(
        ids
          .map((id) => f(id, stageAt.get(id)!))
          .filter(Number.isFinite)
          .sort((a, b) => a - b),
        50,
      ),
    );
  const stagesP50Ms = {
    requestToQueued: median((id, at) => at.queued! - epoch(id)),
    queuedToImage: median((id, at) => at.image! - at.queued! - renderMs.get(id)!),
    imageToStored: median((_, at) => at.stored! - at.image!),
    storedToMinted: median((_, at) => at.minted! - at.stored!),
  };
  return { renderMs, stagesP50Ms };
}
