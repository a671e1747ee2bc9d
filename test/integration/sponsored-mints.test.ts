import { type EventLog, toBeHex, Wallet } from 'ethers';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import type { RequestStatus } from '../../pipeline/requests/status';
import { MINT_STATUSES, type MintStatus } from '../../pipeline/sponsored/status';
import { events, type NodeFixture, PRICE, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';
import { readStatusStream } from '../helpers/sse';

// The Web2 entry point on the real stack: a site POSTs a mint for a user without a wallet, the operator pays
// requestMintFor, and the request flows through listener → generate → fulfill like a wallet's.
jest.setTimeout(180_000);

const KEY_A = 'site-a-key-0123456789abcdef';
const KEY_B = 'site-b-key-0123456789abcdef';

let f: NodeFixture;
let node: RunningNode;
let api: string;

beforeAll(async () => {
  f = await startNodeFixture();
  node = await startNode({
    config: f.config({ api: { keys: [KEY_A, KEY_B], corsOrigins: ['https://mint.example.com'] } }),
    template,
    logger: createLogger({ level: 'silent' }),
  });
  api = node.httpUrl!;
  await until('leader elected', async () => node.isLeader);
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

type Answer<T = Record<string, unknown>> = { status: number; body: T; headers: Headers };

async function call<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<Answer<T>> {
  const res = await fetch(`${api}${path}`, init);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

function postMint(body: unknown, { key = KEY_A, idempotencyKey }: { key?: string | null; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  return call<MintStatus & { links: { self: string; events: string } }>('/v1/mints', {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
}

/** Each status comes later in the lifecycle than the one before it. */
function expectInOrder(statuses: string[]) {
  const ranks = statuses.map((s) => MINT_STATUSES.indexOf(s as never));
  expect(ranks.every((r) => r >= 0)).toBe(true);
  // A status may repeat when its details grow (`rendering` again once the image is stored); it never goes back.
  for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1]);
}

/** What the operator spent on gas in blocks after `fromBlock`. */
async function gasSpentBy(address: string, fromBlock: number): Promise<bigint> {
  let total = 0n;
  const latest = await f.provider.getBlockNumber();
  for (let n = fromBlock + 1; n <= latest; n++) {
    const block = await f.provider.getBlock(n, true);
    for (const tx of block!.prefetchedTransactions) {
      if (tx.from !== address) continue;
      total += (await f.provider.getTransactionReceipt(tx.hash))!.fee;
    }
  }
  return total;
}

const mintRequestedFor = async (to: string) => (await events(f, 'MintRequested')).filter((e) => e.args.recipient === to);

describe('POST /v1/mints', () => {
  it('mints for a user without a wallet: 202, a stream from queued to minted, the token owned by `to`, paid by the operator', async () => {
    const to = new Wallet(f.stack.anvil.privateKeys[9]).address; // a funded account, to show it pays nothing
    const operator = node.signerAddress;
    const [operatorBefore, toBefore, blockBefore] = await Promise.all([
      f.provider.getBalance(operator),
      f.provider.getBalance(to),
      f.provider.getBlockNumber(),
    ]);

    const posted = await postMint({ to, prompt: 'a lighthouse keeper\u2019s cat, watercolour' });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ status: 'queued', to, collection: node.collection });
    const id = posted.body.id;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(posted.body.links).toEqual({ self: `/v1/mints/${id}`, events: `/v1/mints/${id}/events` });
    expect(posted.headers.get('location')).toBe(`/v1/mints/${id}`);

    const stream = await readStatusStream<MintStatus>(`${api}${posted.body.links.events}`);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const statuses = stream.statuses.map((s) => s.status);
    expect(['queued', 'requested']).toContain(statuses[0]); // the current state first (the leader may already have paid)
    expect(statuses[statuses.length - 1]).toBe('minted');
    expectInOrder(statuses); // stages shorter than the poll interval (500 ms) may be skipped, never reordered

    const last = stream.statuses[stream.statuses.length - 1];
    const requestId = BigInt(last.requestId!);
    expect(last.tokenId).toBe(last.requestId);
    expect(last.tokenURI).toBe(await f.collection.tokenURI(requestId));
    expect(last.image).toMatch(/^ar:\/\/[A-Za-z0-9_-]{43}$/);
    expect(await f.collection.ownerOf(requestId)).toBe(to);
    expect((await call(`/v1/mints/${id}`)).body).toEqual(last);

    // The operator sent requestMintFor with the price; `to` paid nothing.
    const [requested] = await f.collection.queryFilter(f.collection.filters.MintRequested(requestId), blockBefore);
    expect((requested as EventLog).args.requester).toBe(operator);
    expect((requested as EventLog).args.recipient).toBe(to);
    expect((requested as EventLog).args.paid).toBe(PRICE);
    const tx = (await f.provider.getTransaction(last.txHash!))!;
    expect(tx.from).toBe(operator);
    expect(tx.value).toBe(PRICE);
    expect(f.collection.interface.parseTransaction(tx)!.name).toBe('requestMintFor');
    const gas = await gasSpentBy(operator, blockBefore); // requestMintFor + the fulfilment
    expect(await f.provider.getBalance(operator)).toBe(operatorBefore - PRICE - gas);
    expect(await f.provider.getBalance(to)).toBe(toBefore);
  });

  it('pays once per Idempotency-Key: the same key gives the same mint, another body under it is refused', async () => {
    const to = Wallet.createRandom().address;
    const body = { to, prompt: 'three pears on a blue plate' };
    const [a, b] = await Promise.all([postMint(body, { idempotencyKey: 'order-1001' }), postMint(body, { idempotencyKey: 'order-1001' })]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.id).toBe(a.body.id);
    await until('the idempotent mint minted', async () => (await call<MintStatus>(`/v1/mints/${a.body.id}`)).body.status === 'minted');
    const again = await postMint(body, { idempotencyKey: 'order-1001' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: a.body.id, status: 'minted' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await mintRequestedFor(to)).toHaveLength(1);

    const other = await postMint({ to, prompt: 'four pears' }, { idempotencyKey: 'order-1001' });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: { code: 'CONFLICT' } });
    expect((other.body as unknown as { error: { message: string } }).error.message).toMatch(/use a new key/);
    // Keys are scoped per API key: another site's "order-1001" is its own mint.
    const siteB = await postMint(body, { key: KEY_B, idempotencyKey: 'order-1001' });
    expect(siteB.status).toBe(202);
    expect(siteB.body.id).not.toBe(a.body.id);
    await until('site B mint minted', async () => (await call<MintStatus>(`/v1/mints/${siteB.body.id}`)).body.status === 'minted');
    expect(await mintRequestedFor(to)).toHaveLength(2);
  });

  it('refuses a missing or unknown key with 401 and names every bad field in a 400', async () => {
    const to = Wallet.createRandom().address;
    for (const key of [null, 'not-a-key-of-this-node-000']) {
      const res = await postMint({ to, prompt: 'x' }, { key });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    const fieldsOf = async (body: unknown, idempotencyKey?: string) => {
      const res = await postMint(body, { idempotencyKey });
      expect(res.status).toBe(400);
      return (res.body as unknown as { error: { code: string; fields: Record<string, string> } }).error.fields;
    };
    expect(await fieldsOf({ to: '0x1234', prompt: 'a boat' })).toEqual({ to: expect.stringMatching(/20-byte address/) });
    expect(await fieldsOf({ to: '0x0000000000000000000000000000000000000000', prompt: 'a boat' })).toEqual({
      to: expect.stringMatching(/zero address/),
    });
    expect(await fieldsOf({ to, prompt: '' })).toEqual({ prompt: expect.stringMatching(/^empty after normalisation/) });
    expect(await fieldsOf({ to, prompt: '   ' })).toEqual({ prompt: expect.stringMatching(/^empty after normalisation/) });
    const max = template.mint.maxPromptBytes;
    expect(await fieldsOf({ to, prompt: 'é'.repeat(max / 2 + 1) })).toEqual({
      prompt: `${max + 2} bytes of UTF-8; this collection takes at most ${max}`,
    });
    expect(await fieldsOf({ to, prompt: 'a boat', collection: Wallet.createRandom().address })).toEqual({
      collection: expect.stringContaining(`it serves ${node.collection}`),
    });
    expect(await fieldsOf({ to: '0x1234', prompt: 'x'.repeat(max + 1) })).toEqual({
      to: expect.stringMatching(/20-byte address/),
      prompt: expect.stringMatching(/at most 280/),
    });
    expect(await fieldsOf({ prompt: 42, colour: 'red' }, 'has space')).toEqual({
      to: 'required',
      prompt: 'expected a string',
      colour: 'unknown field',
      'Idempotency-Key': expect.stringMatching(/printable ASCII/),
    });
    expect(await mintRequestedFor(to)).toHaveLength(0);
  });

  it('is refused on a node without API keys, with how to turn it on; any node answers status', async () => {
    const plain = await startNode({
      config: f.config({ http: { port: 0 } }),
      template,
      listen: false,
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const res = await fetch(`${plain.httpUrl}/v1/mints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY_A}` },
        body: JSON.stringify({ to: Wallet.createRandom().address, prompt: 'a boat' }),
      });
      expect(res.status).toBe(403);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('API_DISABLED');
      expect(error.message).toMatch(/set AIGC_API_KEYS/);
      const [first] = await node.mintForQueue.getCompleted();
      expect(((await (await fetch(`${plain.httpUrl}/v1/mints/${first.id}`)).json()) as MintStatus).status).toBe('minted');
    } finally {
      await plain.stop();
    }
  });
});

describe('GET /v1/requests/:requestId', () => {
  it('follows a request made from a wallet to minted, with its tokenURI', async () => {
    const [request] = await sendRequests(f, ['a fox in the snow']);
    // Meanwhile, read the status far more often than the stream does: no read may see an earlier stage than the one before.
    const polled: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const { status } = (await call<RequestStatus>(`/v1/requests/${request.requestId}`)).body;
        if (status !== polled[polled.length - 1]) polled.push(status);
        await new Promise((r) => setTimeout(r, 25)); // the poll cadence under test (far faster than the stream's)
      }
    })();
    const stream = await readStatusStream<RequestStatus>(`${api}/v1/requests/${request.requestId}/events`);
    polling = false;
    await poller;
    const statuses = stream.statuses.map((s) => s.status);
    expectInOrder(statuses);
    expect(statuses[statuses.length - 1]).toBe('minted');
    expectInOrder(polled);
    expect(polled[polled.length - 1]).toBe('minted');
    const { status, body } = await call<RequestStatus>(`/v1/requests/${request.requestId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      requestId: request.requestId.toString(),
      status: 'minted',
      requester: request.requester,
      recipient: request.requester,
      txHash: request.transactionHash,
      tokenId: request.requestId.toString(),
      tokenURI: await f.collection.tokenURI(request.requestId),
    });
  });

  it('answers 404 for a request that does not exist and 400 for a malformed id', async () => {
    const missing = await call('/v1/requests/99999');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringContaining('no request 99999') } });
    expect((await fetch(`${api}/v1/requests/99999/events`)).status).toBe(404);
    const bad = await call('/v1/requests/abc');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { fields: { requestId: expect.stringMatching(/decimal/) } } });
    expect((await call('/v1/mints/m-00000000000000000000000000000000')).status).toBe(404);
  });

  it('lets the configured mint page origin read it from a browser, and no other', async () => {
    const from = (origin: string, init: RequestInit = {}) =>
      fetch(`${api}/v1/requests/1`, { ...init, headers: { origin, ...init.headers } });
    expect((await from('https://mint.example.com')).headers.get('access-control-allow-origin')).toBe('https://mint.example.com');
    expect((await from('https://evil.example.net')).headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await from('https://mint.example.com', { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Last-Event-ID/);
  });
});

describe('a mint the operator cannot pay', () => {
  it('ends failed at once, with the reason, when the collection refuses it (paused)', async () => {
    const owner = new Wallet(f.stack.anvil.privateKeys[0], f.provider);
    await (await (f.collection.connect(owner) as typeof f.collection).getFunction('pause')()).wait();
    try {
      const to = Wallet.createRandom().address;
      const posted = await postMint({ to, prompt: 'a closed shop' });
      const stream = await readStatusStream<MintStatus>(`${api}${posted.body.links.events}`, 30_000);
      // The stream polls: a refusal this quick may already be final at the first event.
      expect(['queued,failed', 'failed']).toContain(stream.statuses.map((s) => s.status).join(','));
      expect(stream.statuses[stream.statuses.length - 1].error).toBe(
        'the collection refused requestMintFor: the collection is paused (AIGCPaused())',
      );
      expect((await node.mintForQueue.getJob(posted.body.id))!.attemptsMade).toBe(1);
    } finally {
      await (await (f.collection.connect(owner) as typeof f.collection).getFunction('unpause')()).wait();
    }
  });

  it('ends failed with a clear error when the operator lacks funds, pays nothing and leaves nothing queued', async () => {
    const operator = node.signerAddress;
    const balance = await f.provider.getBalance(operator);
    await f.provider.send('anvil_setBalance', [operator, toBeHex(PRICE / 2n)]);
    try {
      const to = Wallet.createRandom().address;
      const posted = await postMint({ to, prompt: 'a boat nobody pays for' });
      expect(posted.status).toBe(202);
      const stream = await readStatusStream<MintStatus>(`${api}${posted.body.links.events}`, 30_000);
      const last = stream.statuses[stream.statuses.length - 1];
      expect(last.status).toBe('failed');
      expect(last.error).toMatch(
        new RegExp(`signer ${operator} has 0.005 ETH and a sponsored mint needs 0.01 ETH \\(price\\) plus gas; send ETH to the signer`),
      );
      const job = (await node.mintForQueue.getJob(posted.body.id))!;
      expect(job.attemptsMade).toBe(1); // a lack of funds is not retried
      expect(Object.values(await node.mintForQueue.getJobCounts('waiting', 'active', 'delayed', 'paused')).every((n) => n === 0)).toBe(
        true,
      );
      expect(await mintRequestedFor(to)).toHaveLength(0);
      expect(await f.provider.getBalance(operator)).toBe(PRICE / 2n);
    } finally {
      await f.provider.send('anvil_setBalance', [operator, toBeHex(balance)]);
    }
  });
});
