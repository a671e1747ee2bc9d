import fs from 'node:fs';
import path from 'node:path';
import { NonceManager, Wallet } from 'ethers';
import IORedis from 'ioredis';
import { createProvider } from '../chain/provider';
import { deployLocalCollection, type LocalCollection } from '../embedded/local-collection';
import { localNodeConfig } from '../embedded/local-collection';
import { deleteKeys } from '../embedded/redis';
import { type EmbeddedStack, startEmbeddedStack } from '../embedded/stack';
import { AigcError, errorMessage } from '../errors';
import { createLogger } from '../logger';
import { type RunningNode, startNode } from '../node';
import { type CollectionTemplate, loadTemplate } from '../template';
import { type DevAccount, type DevState, devStatePath, readDevState, writeDevState } from './project';

export type DevCommandOptions = {
  /** Port of the node's HTTP API; 0 picks a free one. */
  port: number;
  json?: boolean;
};

/** How `aigc dev` talks: progress and notices on stderr, the summary on stdout (or one JSON line with --json). */
type Say = (line: string) => void;

const ROLES: DevAccount['role'][] = ['deployer', 'operator'];

/**
 * `aigc dev`: the folder's collection on a local stack that stays up — anvil, arlocal, Redis, the diffusion gateway
 * and the operator node with its HTTP API — with `.aigc/dev.json` telling every other command where it all is.
 * Editing `collection.json` redeploys. SIGINT or SIGTERM stops everything and exits 0.
 */
export async function devCommand(o: DevCommandOptions): Promise<void> {
  const dir = process.cwd();
  const file = path.join(dir, 'collection.json');
  if (!fs.existsSync(file))
    throw new AigcError(
      'INVALID_REQUEST',
      `no collection.json in ${dir}: create a collection with \`aigc init <dir>\` and run aigc dev inside it`,
    );
  const running = readDevState(dir);
  if (running) throw new AigcError('INVALID_REQUEST', `aigc dev already runs for this folder (pid ${running.pid}): stop it first`);
  let template = loadTemplate(file);

  const say: Say = (line) => console.error(line);
  const dataDir = path.join(dir, '.aigc', 'dev');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'node.log');
  const logger = createLogger({ level: 'info', file: logFile });

  say(`aigc dev: "${template.name}" on a local stack (node log: ${logFile})`);
  const stack = await startEmbeddedStack({
    dataDir,
    redisUrl: process.env.REDIS_URL || undefined,
    onProgress: (part, ms) => say(`  ✓ ${part.padEnd(8)} up in ${Math.round(ms)} ms`),
  });
  const provider = createProvider(stack.anvil.rpcUrl, 100);
  const [deployerKey, operatorKey] = stack.anvil.privateKeys;
  const deployer = new NonceManager(new Wallet(deployerKey, provider));
  const operator = new Wallet(operatorKey).address;
  let generation = 0;
  let node: RunningNode | undefined;
  let prefix = '';
  let collection: LocalCollection | undefined;

  const stopNode = async () => {
    if (!node) return;
    await node.stop();
    node = undefined;
    const redis = new IORedis(stack.redis.url, { maxRetriesPerRequest: 1 });
    await deleteKeys(redis, prefix).catch(() => 0);
    await redis.quit().catch(() => undefined);
  };

  /** Deploys `template` as a new collection and points a fresh node at it (the previous one, if any, stops first). */
  const deploy = async (next: CollectionTemplate) => {
    const deployed = await deployLocalCollection({ stack, template: next, deployer, operator, factory: collection?.factory });
    // The new node takes the old one's port, so the URLs printed and in .aigc/dev.json stay valid.
    const port = node?.httpUrl ? Number(new URL(node.httpUrl).port) : o.port;
    await stopNode();
    prefix = `aigc-dev-${process.pid}-${++generation}`;
    const config = localNodeConfig({
      stack,
      dataDir,
      prefix,
      collection: deployed,
      operatorKey,
      httpPort: port,
      corsOrigins: ['*'],
    });
    node = await startNode({ config, template: next, logger });
    collection = deployed;
    template = next;
    return writeDevState(devState(stack, deployed, node), dir);
  };

  const shutdown = (() => {
    let stopping: Promise<void> | undefined;
    return () =>
      (stopping ??= (async () => {
        say('aigc dev: stopping…');
        watcher?.close();
        await stopNode().catch((error) => say(`  node: ${errorMessage(error)}`));
        provider.destroy();
        await stack.stop();
        fs.rmSync(devStatePath(dir), { force: true });
      })());
  })();
  let watcher: fs.FSWatcher | undefined;

  try {
    const written = await deploy(template);
    const state = readDevState(dir)!;
    say(`  ✓ collection deployed at ${collection!.address} (contractURI ${collection!.contractURI})`);
    say(`  ✓ node running, signer ${operator} authorised`);
    if (o.json) console.log(JSON.stringify(state));
    else printSummary(state, written);
    watcher = watchCollection(file, async () => {
      let next: CollectionTemplate;
      try {
        next = loadTemplate(file);
      } catch (error) {
        say(`collection.json changed but is not valid, still serving ${collection!.address}: ${errorMessage(error)}`);
        return;
      }
      if (JSON.stringify(next) === JSON.stringify(template)) return;
      say('collection.json changed: redeploying…');
      try {
        await deploy(next);
        say(
          `  ✓ redeployed "${next.name}" at ${collection!.address}; .aigc/dev.json updated (tokens of the previous collection stay on it)`,
        );
      } catch (error) {
        say(`  ✗ redeploy failed, still serving the previous collection: ${errorMessage(error)}`);
      }
    });
  } catch (error) {
    await shutdown();
    throw error;
  }

  // Handlers stay installed while stopping: a second Ctrl-C (or a signal sent to the whole process group twice)
  // must not kill the process half-way, leaving Redis keys and .aigc/dev.json behind.
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = () => (signals++ === 0 ? resolve() : say('aigc dev: still stopping (closing the node and the local services)…'));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await shutdown();
  say('aigc dev: stopped');
}

function devState(stack: EmbeddedStack, collection: LocalCollection, node: RunningNode): DevState {
  const accounts = stack.anvil.privateKeys.map((privateKey, i) => ({
    role: ROLES[i] ?? 'collector',
    address: new Wallet(privateKey).address,
    privateKey,
  }));
  return {
    rpcUrl: stack.anvil.rpcUrl,
    chainId: stack.anvil.chainId,
    collection: collection.address,
    factory: collection.factory,
    startBlock: collection.blockNumber,
    arweaveUrl: stack.arlocal.url,
    gatewayUrl: stack.gatewayUrl,
    nodeUrl: node.httpUrl!,
    // The node's hosted mint page, reading the local chain directly.
    mintPageUrl: `${node.httpUrl}/mint/${stack.anvil.chainId}/${collection.address}?rpc=${encodeURIComponent(stack.anvil.rpcUrl)}`,
    redisUrl: stack.redis.url,
    accounts,
    pid: process.pid,
  };
}

function printSummary(state: DevState, file: string): void {
  const rows: [string, string][] = [
    ['RPC', `${state.rpcUrl} (chain ${state.chainId})`],
    ['collection', state.collection],
    ['Arweave', state.arweaveUrl],
    ['gateway', state.gatewayUrl],
    ['node API', state.nodeUrl],
    ['mint page', state.mintPageUrl ?? '(not served)'],
    ['Redis', state.redisUrl],
  ];
  console.log('');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(11)} ${v}`);
  console.log('\n  accounts (test ether only; these keys are public):');
  for (const a of state.accounts.slice(0, 5)) console.log(`    ${a.role.padEnd(9)} ${a.address}  ${a.privateKey}`);
  console.log(`\n  everything above is in ${file}; other aigc commands run here use it.`);
  console.log('  try:  aigc mint "a red fox" --wait --out fox.png');
  console.log('        or open the mint page above (a wallet on the local chain: add the RPC above, import a collector key)');
  console.log('  edit collection.json to redeploy; Ctrl-C to stop.\n');
}

/**
 * Calls `onChange` once per burst of changes to `file`. The folder is watched rather than the file: editors save by
 * writing a new file and renaming it over the old one, which ends a watch on the file itself.
 */
function watchCollection(file: string, onChange: () => Promise<void>): fs.FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  let busy = Promise.resolve();
  const watcher = fs.watch(path.dirname(file), (_event, name) => {
    if (name !== path.basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(() => (busy = busy.then(onChange)), 300);
  });
  watcher.on('close', () => clearTimeout(timer));
  return watcher;
}
