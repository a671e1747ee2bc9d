import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { events, type NodeFixture, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';
import { startTcpProxy } from '../helpers/tcp-proxy';

jest.setTimeout(150_000);

let f: NodeFixture;
let node: RunningNode;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
beforeAll(async () => {
  f = await startNodeFixture();
  // The node reaches Arweave through a proxy that the test takes down: the gateway is unreachable, its data intact.
  proxy = await startTcpProxy(Number(new URL(f.stack.arlocal.url).port));
  node = await startNode({
    config: f.config({ arweave: { url: proxy.url }, generate: { concurrency: 2, attempts: 2 }, chain: { reconcileIntervalMs: 2_000 } }),
    template,
    logger: createLogger({ level: 'info', file: `${f.dataDir}/node.log` }),
  });
});
afterAll(async () => {
  await node?.stop();
  await proxy?.close();
  await f?.stop();
});

describe('the Arweave gateway down for 20 s mid-run', () => {
  it('uploads retry and finish; nothing is rejected for it', async () => {
    const requests = await sendRequests(
      f,
      Array.from({ length: 8 }, (_, i) => `a glass greenhouse in fog ${i}`),
    );
    await until('a first mint', async () => (await events(f, 'MintFulfilled')).length >= 1);
    await proxy.down();
    const downAt = (await events(f, 'MintFulfilled')).length;
    await new Promise((r) => setTimeout(r, 20_000)); // the outage under test: Arweave stays down for 20 s
    expect((await events(f, 'MintFulfilled')).length).toBeLessThan(requests.length); // work was blocked on Arweave
    await proxy.up();
    await until('all mints after Arweave is back', async () => (await events(f, 'MintFulfilled')).length >= requests.length, 90_000);
    expect(downAt).toBeLessThan(requests.length);
    expect(await events(f, 'MintRejected')).toEqual([]);
    const minted = (await events(f, 'MintFulfilled')).map((l) => l.args.requestId as bigint).sort((a, b) => Number(a - b));
    expect(minted).toEqual(requests.map((r) => r.requestId).sort((a, b) => Number(a - b)));
  });
});
