import fs from 'node:fs';
import path from 'node:path';
import { type EventLog, parseEther, toUtf8Bytes, Wallet } from 'ethers';
import IORedis from 'ioredis';
import { createAttester } from '../attest/create';
import { registerSigner } from '../attest/register';
import type { AttesterKind } from '../attest/types';
import { connectCollection, deployFromTemplate } from '../chain/collection';
import { createProvider } from '../chain/provider';
import { loadConfig } from '../config';
import { startEmbeddedStack } from '../embedded/stack';
import { deleteKeys } from '../embedded/redis';
import { AigcError } from '../errors';
import { checkPrompt } from '../requests/check-prompt';
import { createLogger } from '../logger';
import { startNode } from '../node';
import { verifyToken } from '../provenance/verify';
import { createArweaveStore, loadWallet } from '../storage/arweave';
import { parseArUri } from '../storage/ids';
import { uploadCollectionManifest } from '../storage/collection-manifest';
import type { TokenManifest } from '../storage/manifest';
import { loadTemplate } from '../template';
import { formatFitting, terminalWidth } from './table';
import { resolveTemplateRef } from './template-ref';

const DEMO_PROMPTS = [
  'a lighthouse on a basalt cliff at dawn',
  'a red fox curled up in fresh snow',
  'the "night market" in neon rain',
  'ein Garten voller Glühwürmchen 🌙',
  'an astronaut tending a tiny greenhouse on the moon',
];

export type DemoRow = {
  requestId: string;
  tokenId: string;
  prompt: string;
  owner: string;
  tokenURI: string;
  image: string;
  imageSha256: string;
  /** Where the image was written: `<dataDir>/images/<tokenId>.<ext>`. */
  imageFile: string;
  seconds: number;
  verified: boolean;
  /** The manifest's attestation type: operator, tee or simulated. */
  attestation?: string;
};

export type RunDemoParameters = {
  /** Number of mints (each from its own anvil account); the number of `prompts` when they are given. @defaultValue 5 */
  count?: number;
  /** What to mint, one request each; else `count` of the demo's own prompts. */
  prompts?: string[];
  /** Working folder, wiped first. @defaultValue .aigc/demo */
  dataDir?: string;
  /** A shipped template's name, a collection.json, or a folder that holds one. @defaultValue 'open-prompt' */
  template?: string;
  /**
   * Who signs: the `operator` anvil key, a `simulated` attester (manifests say so) or a `tee` attester (needs a
   * TDX / SEV-SNP guest; `AIGC_TSM_PATH`). Non-operator keys are registered and funded by the deployer.
   * @defaultValue 'operator'
   */
  attester?: AttesterKind;
  print?: (line: string) => void;
  /** Width the result table must fit in. @defaultValue the terminal's, else `COLUMNS`, else 80 */
  columns?: number;
};

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/webp': 'webp', 'image/avif': 'avif', 'image/jpeg': 'jpg' };

/**
 * The whole pipeline on the embedded stack: deploy a collection, send `count` requestMint transactions, wait for
 * every mint, print a table, verify each token from public data, shut everything down.
 */
export async function runDemo({
  count: requested = 5,
  prompts: given,
  dataDir = path.join('.aigc', 'demo'),
  template: templateRef = 'open-prompt',
  attester: attesterKind = 'operator',
  print = console.log,
  columns = terminalWidth(),
}: RunDemoParameters = {}): Promise<DemoRow[]> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const templateName = resolveTemplateRef(templateRef);
  const template = loadTemplate(templateName);
  const count = given?.length ? given.length : requested;
  if (count < 1 || count > 8)
    throw new AigcError(
      'INVALID_REQUEST',
      `${given?.length ? '--prompt may be given' : '--count must be'} 1 to 8 times (one anvil account each), got ${count}`,
    );
  const prompts = given?.length ? given : Array.from({ length: count }, (_, i) => DEMO_PROMPTS[i % DEMO_PROMPTS.length]);
  // Before the stack starts: a prompt the node would refund is a usage error here, named with the template's cap.
  for (const prompt of prompts) checkPrompt(prompt, template.mint.maxPromptBytes);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.resolve(dataDir, 'node.log');

  print(`aigc demo: ${count} mints of "${template.name}" on a local stack (logs: ${logFile})`);
  const stack = await startEmbeddedStack({
    dataDir,
    redisUrl: process.env.REDIS_URL || undefined,
    onProgress: (part, ms) => print(`  ✓ ${part.padEnd(8)} up in ${Math.round(ms)} ms`),
  });
  const prefix = `aigc-demo-${process.pid}-${Date.now()}`;
  let stopNode = async () => {};
  try {
    const provider = createProvider(stack.anvil.rpcUrl, 100);
    const [deployerKey, operatorKey, ...collectorKeys] = stack.anvil.privateKeys;
    const deployer = new Wallet(deployerKey, provider);
    const operator = new Wallet(operatorKey);
    const store = await createArweaveStore({ url: stack.arlocal.url, jwk: await loadWallet(stack.arweaveWalletPath) });
    // ERC-7572: the collection's own metadata (name, description, royalty) goes to Arweave first; contractURI names it.
    const contractManifest = await uploadCollectionManifest(store, template, template.royalty?.receiver ?? deployer.address);
    const deployed = await deployFromTemplate({ deployer, template, operator: operator.address, contractManifest });
    print(
      `  ✓ collection deployed at ${deployed.address} (contractURI ${await connectCollection(deployed.address, provider).contractURI()})`,
    );

    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        logLevel: 'info',
        redis: { url: stack.redis.url, prefix },
        chain: { rpcUrl: stack.anvil.rpcUrl, pollIntervalMs: 200, startBlock: deployed.blockNumber },
        collection: { address: deployed.address, template: templateName },
        signer: {
          attester: attesterKind,
          privateKey: attesterKind === 'operator' ? operatorKey : undefined,
          tsmPath: process.env.AIGC_TSM_PATH || undefined,
        },
        gateway: { url: stack.gatewayUrl },
        credentials: { certPath: stack.c2pa.certPath, keyPath: stack.c2pa.keyPath },
        arweave: { url: stack.arlocal.url, walletPath: stack.arweaveWalletPath },
        http: { port: 0 },
      },
    });
    const logger = createLogger({ level: 'info', file: logFile });
    const attester = await createAttester(config, { store, logger });
    if (attester.kind !== 'operator') {
      await registerSigner({ collection: deployed.address, owner: deployer, registration: attester.registration });
      await (await deployer.sendTransaction({ to: attester.wallet.address, value: parseEther('10') })).wait();
    }
    const label = {
      operator: 'operator key',
      simulated: 'SIMULATED attester: manifests say "simulated"',
      tee: `TEE attester (${attester.attestation.provider})`,
    }[attester.kind];
    print(`  ✓ signer ${attester.wallet.address} authorised (${label})`);
    const node = await startNode({ config, template, attester, logger });
    stopNode = () => node.stop();
    print(`  ✓ operator node running (redis ${stack.redis.url}${stack.redis.spawned ? ', started for this run' : ''})`);

    const collection = connectCollection(deployed.address, provider);
    const sentAt = new Map<string, number>();
    const promptOf = new Map<string, string>();
    await Promise.all(
      prompts.map(async (prompt, i) => {
        const wallet = new Wallet(collectorKeys[i], provider);
        const t = performance.now();
        const tx = await collection.connect(wallet).getFunction('requestMint')(toUtf8Bytes(prompt), {
          value: BigInt(template.mint.priceWei),
        });
        const receipt = await tx.wait();
        const event = receipt.logs
          .map((l: EventLog) => collection.interface.parseLog(l))
          .find((e: { name: string } | null) => e?.name === 'MintRequested');
        sentAt.set(event.args.requestId.toString(), t);
        promptOf.set(event.args.requestId.toString(), prompt);
      }),
    );
    print(`  ✓ ${count} requestMint transactions mined; waiting for the node to render, store and mint…`);

    const mintedAt = new Map<string, { at: number; log: EventLog }>();
    const deadline = Date.now() + 75_000;
    while (mintedAt.size < count) {
      if (Date.now() > deadline) {
        const pending = [...sentAt.keys()].filter((id) => !mintedAt.has(id));
        throw new AigcError('TIMEOUT', `requests ${pending.join(', ')} were not minted within 75 s: see ${logFile}`);
      }
      const logs = (await collection.queryFilter(collection.filters.MintFulfilled(), deployed.blockNumber)) as EventLog[];
      for (const log of logs) {
        const id = log.args.requestId.toString();
        if (!mintedAt.has(id)) {
          mintedAt.set(id, { at: performance.now(), log });
          print(`    minted #${id} (${mintedAt.size}/${count}, ${elapsed()})`);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const rows: DemoRow[] = [];
    const imagesDir = path.join(dataDir, 'images');
    fs.mkdirSync(imagesDir, { recursive: true });
    for (const id of [...sentAt.keys()].sort((a, b) => Number(a) - Number(b))) {
      const report = await verifyToken({
        provider,
        collection: deployed.address,
        tokenId: BigInt(id),
        download: store.download,
        fromBlock: deployed.blockNumber,
      });
      // The image where the user can open it (the node's own copy is in its spool).
      const manifest = JSON.parse(Buffer.from(await store.download(parseArUri(report.tokenURI!))).toString('utf8')) as TokenManifest;
      const imageFile = path.join(imagesDir, `${id}.${EXTENSIONS[manifest.aigc.image.mime] ?? 'bin'}`);
      fs.writeFileSync(imageFile, await store.download(parseArUri(manifest.image)));
      rows.push({
        requestId: id,
        tokenId: id,
        prompt: promptOf.get(id)!,
        owner: report.owner!,
        tokenURI: report.tokenURI!,
        image: report.imageUri!,
        imageSha256: report.imageSha256!,
        imageFile,
        seconds: (mintedAt.get(id)!.at - sentAt.get(id)!) / 1000,
        verified: report.ok,
        attestation: report.attestation?.type,
      });
      if (!report.ok)
        print(
          `  ✗ token ${id}: ${report.checks
            .filter((c) => !c.ok)
            .map((c) => (c.detail ? `${c.name} (${c.detail})` : c.name))
            .join('; ')}`,
        );
    }
    provider.destroy();

    print('');
    print(
      formatFitting(
        ['token', 'prompt', 'owner', 'tokenURI', 'image', 'image file', 'image sha256', 'req→mint', 'provenance'],
        rows.map((r) => [
          r.tokenId,
          r.prompt,
          r.owner,
          r.tokenURI,
          r.image,
          path.relative(process.cwd(), r.imageFile) || r.imageFile,
          r.imageSha256,
          `${r.seconds.toFixed(2)} s`,
          `${r.verified ? 'verified' : 'FAILED'}${r.attestation && r.attestation !== 'operator' ? ` (${r.attestation})` : ''}`,
        ]),
        columns,
      ),
    );
    print('');
    fs.writeFileSync(path.join(dataDir, 'result.json'), JSON.stringify({ collection: deployed.address, rows }, null, 2));
    const failed = rows.filter((r) => !r.verified).length;
    if (failed) throw new AigcError('VERIFY_FAILED', `${failed} of ${count} tokens failed verification`);
    print(`all ${count} tokens minted and verified in ${elapsed()}`);
    print(`images in ${path.resolve(imagesDir)}; results in ${path.resolve(dataDir, 'result.json')}`);
    return rows;
  } finally {
    await stopNode();
    const redis = new IORedis(stack.redis.url, { maxRetriesPerRequest: 1 });
    await deleteKeys(redis, prefix).catch(() => 0);
    await redis.quit().catch(() => undefined);
    await stack.stop();
  }
}
