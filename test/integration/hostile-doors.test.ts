import { type Contract, type EventLog, keccak256, toUtf8Bytes, Wallet } from 'ethers';
import { promptProblem } from '../../protocol/prompt';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { REJECT_REASON } from '../../pipeline/queue/jobs';
import { createArweaveStore, loadWallet } from '../../pipeline/storage/arweave';
import { parseArUri } from '../../pipeline/storage/ids';
import { hostilePrompts, hostileRequests, sendHostile } from '../helpers/hostile';
import { events, type NodeFixture, PRICE, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(600_000);

/**
 * The shared hostile corpus at the node's doors: the Web2 API (`POST /v1/mints`) and the contract (`requestMint`
 * with the prompt's bytes, read back by the node's listener). Each case ends in a specific 400 or a mint whose
 * manifest holds the exact prompt; a paid request the node refuses is rejected with a refund; nothing is lost.
 */
const KEY = 'hostile-key-0123456789abcdef';
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const CAP = template.mint.maxPromptBytes;
type ErrorBody = { error?: { code: string; fields?: Record<string, string> }; id?: string };

let f: NodeFixture;
let node: RunningNode;
let api: string;
beforeAll(async () => {
  f = await startNodeFixture({ accounts: 14 });
  // One key sends the whole corpus at once: no rate limit here (security-node.test.ts tests it).
  node = await startNode({
    config: f.config({ api: { keys: [KEY], ratePerMinute: 0 } }),
    template,
    logger: createLogger({ level: 'silent' }),
  });
  api = node.httpUrl!;
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

const post = (body: unknown) =>
  fetch(`${api}/v1/mints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });

describe('the node Web2 door: POST /v1/mints', () => {
  it('answers every hostile prompt with 202 or a 400 naming prompt, by the shared policy and the byte cap', async () => {
    const accepted: { id: string; prompt: string }[] = [];
    for (const { name, prompt } of hostilePrompts) {
      const res = await post({ to: TO, prompt });
      const body = (await res.json()) as ErrorBody;
      const refuse = promptProblem(prompt) !== undefined || Buffer.byteLength(prompt) > CAP;
      expect([name, res.status]).toEqual([name, refuse ? 400 : 202]);
      if (refuse) expect([name, body.error?.fields?.prompt]).toEqual([name, expect.any(String)]);
      else accepted.push({ id: body.id!, prompt });
    }
    expect(accepted.length).toBeGreaterThan(30);
    // Every accepted one is minted (none fails after its attempts, as a lone surrogate used to).
    await until(
      'every accepted sponsored mint minted',
      async () => {
        const states = await Promise.all(
          accepted.map(async (a) => ((await (await fetch(`${api}/v1/mints/${a.id}`)).json()) as { status: string }).status),
        );
        expect(states.filter((s) => s === 'failed')).toEqual([]);
        return states.every((s) => s === 'minted');
      },
      300_000,
    );
  });

  it.each(hostileRequests.filter((r) => r.door !== 'generate').map((r) => [r.name, r] as const))(
    '%s: 400 INVALID_REQUEST with fields',
    async (_n, r) => {
      const res = await sendHostile(`${api}/v1/mints`, r, { oversizeBytes: 200_000, headers: { authorization: `Bearer ${KEY}` } });
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(400);
      expect(body.error!.code).toBe('INVALID_REQUEST');
      expect(Object.keys(body.error!.fields ?? {}).length).toBeGreaterThan(0);
      if (r.oversize) expect(body.error!.fields!.body).toMatch(/at most 65536 bytes/);
    },
  );
});

describe('the contract door: requestMint with the prompt bytes', () => {
  it('mints or refunds every paid request; refusals follow the same policy as the API; manifests hold the exact prompt', async () => {
    const LONE = Uint8Array.from([0x61, 0xed, 0xa0, 0x80, 0x62]); // "a", a UTF-8-encoded lone surrogate, "b"
    const cases = [
      ...hostilePrompts.map((p) => ({ name: p.name, bytes: /\p{Cs}/u.test(p.prompt) ? LONE : toUtf8Bytes(p.prompt) })),
      { name: 'invalid byte 0xFF', bytes: Uint8Array.from([0x61, 0xff, 0x62]) },
    ];
    const wallets = f.stack.anvil.privateKeys.slice(2).map((k) => new Wallet(k, f.provider));
    const sent: { name: string; bytes: Uint8Array; requestId: bigint }[] = [];
    let w = 0;
    for (const c of cases) {
      const collection = f.collection.connect(wallets[w++ % wallets.length]) as Contract;
      if (c.bytes.length === 0 || c.bytes.length > CAP) {
        await expect(collection.requestMint(c.bytes, { value: PRICE })).rejects.toMatchObject({
          data: expect.stringMatching(new RegExp(`^${f.collection.interface.getError('AIGCPromptLength')!.selector}`)),
        });
        continue;
      }
      const receipt = await (await collection.requestMint(c.bytes, { value: PRICE })).wait();
      const log = receipt.logs
        .map((l: EventLog) => f.collection.interface.parseLog(l))
        .find((l: { name: string } | null) => l?.name === 'MintRequested');
      sent.push({ ...c, requestId: log.args.requestId as bigint });
    }
    const ended = async () => {
      const [minted, rejected] = await Promise.all([events(f, 'MintFulfilled'), events(f, 'MintRejected')]);
      return {
        minted: new Set(minted.map((e) => e.args.requestId as bigint)),
        rejected: new Map(rejected.map((e) => [e.args.requestId as bigint, e])),
      };
    };
    await until(
      'every paid request minted or rejected',
      async () => {
        const { minted, rejected } = await ended();
        return sent.every((s) => minted.has(s.requestId) || rejected.has(s.requestId));
      },
      300_000,
    );
    const { rejected } = await ended();
    const store = await createArweaveStore({ url: f.stack.arlocal.url, jwk: await loadWallet(f.stack.arweaveWalletPath) });
    for (const s of sent) {
      const text = Buffer.from(s.bytes).toString('utf8');
      const shouldRefuse = keccak256(toUtf8Bytes(text)) !== keccak256(s.bytes) || promptProblem(text) !== undefined;
      const r = rejected.get(s.requestId);
      expect([s.name, r ? 'rejected' : 'minted']).toEqual([s.name, shouldRefuse ? 'rejected' : 'minted']);
      if (r) {
        expect(r.args.reason).toBe(BigInt(REJECT_REASON.INVALID_PROMPT));
        expect(r.args.refunded).toBe(PRICE);
      } else {
        const manifest = JSON.parse(
          Buffer.from(await store.download(parseArUri(await f.collection.tokenURI(s.requestId)))).toString('utf8'),
        );
        expect([s.name, manifest.aigc.prompt]).toEqual([s.name, text]);
      }
    }
    // Nothing left in escrow for refused requests, and the node still answers.
    expect((await fetch(`${api}/v1/status`)).status).toBe(200);
  });
});
