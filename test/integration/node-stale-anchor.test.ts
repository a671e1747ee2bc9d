import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import IORedis from 'ioredis';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import type { TokenManifest } from '../../pipeline/storage/manifest';
import { events, type NodeFixture, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

type Held = { id: string; type: string };

/**
 * An HTTP proxy in front of arlocal that answers 503 (an unreachable gateway, for the node) to the transaction
 * headers `hold` picks, and passes everything else through.
 */
async function startHoldingProxy(target: string) {
  const held: Held[] = [];
  const state = { hold: (_type: string) => false };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.method === 'POST' && req.url === '/tx') {
        const header = JSON.parse(body.toString()) as { id: string; tags: { name: string; value: string }[] };
        const tag = (name: string) =>
          header.tags
            .map((t) => [Buffer.from(t.name, 'base64url').toString(), Buffer.from(t.value, 'base64url').toString()])
            .find(([n]) => n === name)?.[1] ?? '';
        if (state.hold(tag('Type'))) {
          if (!held.some((h) => h.id === header.id)) held.push({ id: header.id, type: tag('Type') });
          res.writeHead(503).end('held by the test');
          return;
        }
      }
      const upstream = http.request(
        new URL(req.url!, target),
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    held,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let f: NodeFixture;
let node: RunningNode;
let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
beforeAll(async () => {
  f = await startNodeFixture();
  proxy = await startHoldingProxy(f.stack.arlocal.url);
  node = await startNode({
    config: f.config({ arweave: { url: proxy.url }, generate: { attempts: 10 }, chain: { reconcileIntervalMs: 2_000 } }),
    template,
    logger: createLogger({ level: 'info', file: path.join(f.dataDir, 'node.log') }),
  });
});
afterAll(async () => {
  await node?.stop();
  await proxy?.close();
  await f?.stop();
});

/** Ids and Type tags of every transaction arlocal indexed for `requestId` of this collection. */
async function uploadsOf(requestId: string): Promise<Held[]> {
  const query = `{ transactions(first: 100, tags: [{ name: "Request-Id", values: ["${requestId}"] }, { name: "Collection", values: ["${await f.collection.getAddress()}"] }]) { edges { node { id tags { name value } } } } }`;
  const res = await fetch(`${f.stack.arlocal.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as {
    data: { transactions: { edges: { node: { id: string; tags: { name: string; value: string }[] } }[] } };
  };
  return body.data.transactions.edges.map(({ node: tx }) => ({ id: tx.id, type: tx.tags.find((t) => t.name === 'Type')!.value }));
}

/**
 * 60 new blocks, past the 50 an anchor may be old. arlocal orders blocks by a creation time in whole seconds, so
 * they are mined in a later second than the anchor the held transaction carries.
 */
async function olderBy60Blocks() {
  await new Promise((r) => setTimeout(r, 1_100));
  await f.stack.arlocal.mine(60);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('a stored Arweave transaction whose anchor expired', () => {
  it('is signed again with a fresh anchor: the request mints with one image and one manifest', async () => {
    // The image's header cannot get through (503) while arlocal mines 60 blocks: its anchor is then older than
    // the last 50 blocks, and every post of that signed header is refused. Then the same for the manifest.
    proxy.state.hold = (type) => type === 'image' || type === 'manifest';
    const [request] = await sendRequests(f, ['a lantern on a frozen lake']);
    await until('the image header held', async () => proxy.held.some((h) => h.type === 'image'));
    await olderBy60Blocks();
    proxy.state.hold = (type) => type === 'manifest';
    await until('the manifest header held', async () => proxy.held.some((h) => h.type === 'manifest'), 60_000);
    await olderBy60Blocks();
    proxy.state.hold = () => false;
    await until('the mint', async () => (await events(f, 'MintFulfilled')).length === 1, 60_000);
    expect(await events(f, 'MintRejected')).toEqual([]);

    const [staleImage, staleManifest] = ['image', 'manifest'].map((type) => proxy.held.find((h) => h.type === type)!.id);
    // The token's manifest and the image it names are the re-signed transactions, readable on the gateway.
    const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
    const manifestId = ((await f.collection.tokenURI(request.requestId)) as string).slice('ar://'.length);
    const manifest = JSON.parse(Buffer.from(await store.download(manifestId)).toString()) as TokenManifest;
    expect(manifest.aigc.requestId).toBe(request.requestId.toString());
    const imageId = manifest.image.slice('ar://'.length);
    expect(sha256(await store.download(imageId))).toBe(manifest.aigc.image.sha256);
    expect([manifestId, imageId]).not.toContain(staleManifest);
    expect([manifestId, imageId]).not.toContain(staleImage);

    // Exactly one image and one manifest on Arweave for the request; the refused transactions never got in.
    await until('both uploads indexed', async () => (await uploadsOf(request.requestId.toString())).length >= 2);
    expect((await uploadsOf(request.requestId.toString())).sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { id: imageId, type: 'image' },
      { id: manifestId, type: 'manifest' },
    ]);
    for (const id of [staleImage, staleManifest]) expect((await fetch(`${f.stack.arlocal.url}/tx/${id}/status`)).status).toBe(404);

    // And the upload journal no longer holds them, so it never posts them later.
    const redis = new IORedis(f.redis.url);
    try {
      const [journal] = (await redis.keys('aigc:arweave:pending:*')).filter((k) => !k.endsWith(':headers'));
      const pending = journal ? await redis.zrange(journal, 0, -1) : [];
      const headers = journal ? await redis.hkeys(`${journal}:headers`) : [];
      expect([...pending, ...headers].filter((id) => id === staleImage || id === staleManifest)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const spool = path.join(f.dataDir, 'arweave-spool');
    for (const id of [staleImage, staleManifest]) expect(fs.existsSync(path.join(spool, `${id}.bin`))).toBe(false);
  });
});
