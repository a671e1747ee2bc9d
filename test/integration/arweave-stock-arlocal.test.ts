import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Arweave from 'arweave';
import { startArlocal } from '../../pipeline/embedded/arlocal';
import { freePort, waitFor } from '../../pipeline/embedded/ports';
import { createHttpClient } from '../../pipeline/net/http-client';
import { createArweaveStore, placesChunksByOffset } from '../../pipeline/storage/arweave';

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
