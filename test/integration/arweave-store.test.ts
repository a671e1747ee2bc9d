import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ArlocalHandle, startArlocal } from '../../pipeline/embedded/arlocal';
import Transaction from 'arweave/node/lib/transaction';
import { arweaveClient, type ArweaveStore, createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';

// Real arlocal; random bytes so sizes are not helped by compression, and large enough to be chunked (> 256 KiB).
let arlocal: ArlocalHandle;
let store: ArweaveStore;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-ar-'));
  arlocal = await startArlocal({ dbPath: path.join(dir, 'db'), mineIntervalMs: 200 });
  const jwk = await loadWallet(path.join(dir, 'wallet.json'), { create: true });
  await fetch(`${arlocal.url}/mint/${await arweaveClient(arlocal.url).wallets.jwkToAddress(jwk)}/1000000000000000`);
  store = await createArweaveStore({ url: arlocal.url, jwk });
});
afterAll(() => arlocal?.stop());

describe('Arweave store', () => {
  it.each([[1_000], [300_000], [1_200_000]])('uploads %i bytes and reads the same bytes back', async (size) => {
    const data = randomBytes(size);
    const id = await store.upload(data, { 'Content-Type': 'application/octet-stream', Test: 'roundtrip' });
    await arlocal.mine();
    expect(sha(await store.download(id))).toBe(sha(data));
    // The node signs itself (RSA-PSS off the event loop): arweave-js must accept the signature and the id.
    const header = (await (await fetch(`${arlocal.url}/tx/${id}`)).json()) as { reward: string } & Record<string, unknown>;
    const client = arweaveClient(arlocal.url);
    expect(await client.transactions.verify(new Transaction({ ...header, data: new Uint8Array(0) }))).toBe(true);
    expect(
      await client.transactions.verify(new Transaction({ ...header, reward: String(BigInt(header.reward) + 1n), data: new Uint8Array(0) })),
    ).toBe(false);
  });

  it('keeps every transaction whole when chunks of several uploads arrive in parallel and out of order', async () => {
    const files = [1_300_000, 600_000, 900_000, 1_000].map((n) => randomBytes(n));
    const ids = await Promise.all(files.map((data) => store.upload(data, { 'Content-Type': 'application/octet-stream' })));
    await arlocal.mine();
    const client = arweaveClient(arlocal.url);
    for (const [i, id] of ids.entries()) {
      // The data route (how the node reads), and arweave-js's chunk walker, which follows the chunk offsets.
      expect(sha(await store.download(id))).toBe(sha(files[i]));
      if (files[i].length > 256 * 1024) expect(sha(await client.chunks.downloadChunkedData(id))).toBe(sha(files[i]));
    }
  });

  it.each([[2_000], [700_000]])(
    'resumes a prepared upload of %i bytes under the same id, and says when the gateway never saw it',
    async (size) => {
      const data = randomBytes(size);
      const tx = await store.prepare(data, { 'Content-Type': 'application/octet-stream' });
      expect(await store.resume(tx.id, data)).toBe(false); // never sent
      await tx.send();
      expect(await store.resume(tx.id, data)).toBe(true); // sending the chunks again is harmless
      await arlocal.mine();
      expect(sha(await store.download(tx.id))).toBe(sha(data));
      expect(await store.resume(tx.id, randomBytes(size))).toBe(false); // other bytes: not the same transaction
    },
  );
});
