import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Arweave from 'arweave';
import { startArlocal } from '../../pipeline/embedded/arlocal';
import { freePort, waitFor } from '../../pipeline/embedded/ports';
import { createHttpClient } from '../../pipeline/net/http-client';
import { createLogger } from '../../pipeline/logger';
import { startNode } from '../../pipeline/node';
import { verifyToken } from '../../pipeline/provenance/verify';
import { createArweaveStore, placesChunksByOffset } from '../../pipeline/storage/arweave';
import { parseArUri } from '../../pipeline/storage/ids';
import { sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

// The stock `arlocal` package (what an operator testing locally runs) stores chunks in order of arrival: a
// transaction whose chunks were posted in parallel read back scrambled. The store detects it and posts serially.
let child: ChildProcess;
let url: string;
beforeAll(async () => {
  const port = await freePort();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-stock-arlocal-'));
  const bin = require.resolve('arlocal/bin/index.js');
  child = spawn(process.execPath, [bin, String(port), '--hidelogs', '--dbpath', 'db'], { cwd, stdio: 'ignore' });
  url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/info`)).ok, 30_000);
});
afterAll(() => child?.kill());

const client = (baseUrl: string) => createHttpClient({ baseUrl, name: 'Arweave gateway', errorCode: 'ARWEAVE_FAILED', timeoutMs: 10_000 });

it('tells stock arlocal from the patched one and from Arweave gateways', async () => {
  expect(await placesChunksByOffset(client(url))).toBe(false);
  const patched = await startArlocal({ dbPath: fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-arlocal-')) });
  try {
    expect(await placesChunksByOffset(client(patched.url))).toBe(true);
  } finally {
    await patched.stop();
  }
});

it('8 multi-chunk uploads at once to stock arlocal all read back intact', async () => {
  const arweave = Arweave.init({});
  const jwk = await arweave.wallets.generate();
  await fetch(`${url}/mint/${await arweave.wallets.jwkToAddress(jwk)}/1000000000000000`);
  const store = await createArweaveStore({ url, jwk });
  // Random bytes (like a PNG: incompressible), 3–4 chunks each.
  const payloads = Array.from({ length: 8 }, (_, i) => crypto.randomBytes(700_000 + i * 10_000));
  const ids = await Promise.all(payloads.map((data) => store.upload(data, { 'Content-Type': 'application/octet-stream' })));
  await fetch(`${url}/mine`);
  const intact = await Promise.all(ids.map(async (id, i) => Buffer.from(await store.download(id)).equals(payloads[i])));
  expect(intact).toEqual(payloads.map(() => true));
});

it('a node uploading to stock arlocal mints 8 tokens that all verify', async () => {
  const f = await startNodeFixture();
  try {
    const arweave = Arweave.init({});
    const jwk = await arweave.wallets.generate();
    const walletPath = path.join(f.dataDir, 'stock-arlocal-wallet.json');
    fs.writeFileSync(walletPath, JSON.stringify(jwk));
    await fetch(`${url}/mint/${await arweave.wallets.jwkToAddress(jwk)}/1000000000000000`);
    const node = await startNode({
      config: f.config({ arweave: { url, walletPath } }),
      template,
      logger: createLogger({ level: 'silent' }),
    });
    const miner = setInterval(() => void fetch(`${url}/mine`).catch(() => undefined), 1_000);
    try {
      const requests = await sendRequests(
        f,
        Array.from({ length: 8 }, (_, i) => `a harbour at dawn, study ${i}`),
      );
      const ids = requests.map((r) => r.requestId);
      await until(
        '8 tokens',
        async () => (await Promise.all(ids.map((id) => f.collection.tokenURI(id).catch(() => '')))).every(Boolean),
        150_000,
      );
      const store = await createArweaveStore({ url, jwk });
      // The images span several chunks, or this test would not exercise chunk order.
      const manifest = JSON.parse(Buffer.from(await store.download(parseArUri(await f.collection.tokenURI(ids[0])))).toString('utf8'));
      expect(manifest.aigc.image.bytes).toBeGreaterThan(256 * 1024);
      const reports = await Promise.all(
        ids.map((tokenId) =>
          verifyToken({
            provider: f.provider,
            collection: String(f.collection.target),
            tokenId,
            download: store.download,
            fromBlock: f.deployBlock,
          }),
        ),
      );
      expect(reports.map((r) => r.checks.filter((c) => !c.ok))).toEqual(ids.map(() => []));
    } finally {
      clearInterval(miner);
      await node.stop();
    }
  } finally {
    await f.stop();
  }
});
