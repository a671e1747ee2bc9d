import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { gatewayError } from '../../services/diffusion-gateway/errors';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { REJECT_REASON } from '../../pipeline/queue/jobs';
import { events, type NodeFixture, PRICE, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

// The real gateway in front of a backend that fails on one prompt (the gateway answers 500 every time) and is
// busy for the first renders of another (503 with Retry-After, as a Cog container answers 409).
const local = createLocalBackend();
const BUSY_ANSWERS = 4;
let busyAnswers = 0;
const flaky: DiffusionBackend = {
  ...local,
  async render(input) {
    if (input.prompt.includes('unrenderable')) throw new Error('CUDA out of memory');
    if (input.prompt.includes('crowded') && busyAnswers < BUSY_ANSWERS) {
      busyAnswers++;
      throw gatewayError({ code: 'BACKEND_BUSY', message: 'all GPUs busy', retryAfterMs: 100 });
    }
    return local.render(input);
  },
};

let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture({ backend: flaky });
  node = await startNode({
    config: f.config({ generate: { attempts: 3, backoffMs: 50 } }),
    template,
    logger: createLogger({ level: 'silent' }),
  });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

describe('a request whose generation fails for good', () => {
  it('is rejected on chain and the requester refunded, while the others are minted', async () => {
    const [ok, bad] = await sendRequests(f, ['a calm lake', 'an unrenderable scene']);
    const before = await f.provider.getBalance(bad.requester);
    await until(
      'one mint and one rejection',
      async () => (await events(f, 'MintFulfilled')).length === 1 && (await events(f, 'MintRejected')).length === 1,
    );
    const [rejected] = await events(f, 'MintRejected');
    expect(rejected.args.requestId).toBe(bad.requestId);
    expect(rejected.args.reason).toBe(BigInt(REJECT_REASON.GENERATION_FAILED));
    expect(rejected.args.refunded).toBe(PRICE);
    expect(await f.provider.getBalance(bad.requester)).toBe(before + PRICE);
    expect(await f.collection.ownerOf(ok.requestId)).toBe(ok.requester);
    // The gateway reports BACKEND_FAILED as permanent, so the node gave up after one attempt instead of three.
    const job = (await node.generateQueue.getFailed())[0];
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/gateway answered 502/);
    expect(await f.provider.getBalance(await f.collection.getAddress())).toBe(PRICE); // only the minted one's escrow (now earnings)
  });
});

describe('a backend that answers busy', () => {
  it('is waited out without spending attempts: more busy answers than attempts, and the request still mints', async () => {
    const [crowded] = await sendRequests(f, ['a crowded market']);
    await until('the busy request minted', async () =>
      (await events(f, 'MintFulfilled')).some((e) => e.args.requestId === crowded.requestId),
    );
    expect(busyAnswers).toBe(BUSY_ANSWERS); // > attempts (3): each busy answer delayed the job instead of failing it
    expect(await f.collection.ownerOf(crowded.requestId)).toBe(crowded.requester);
    expect((await events(f, 'MintRejected')).map((e) => e.args.requestId)).not.toContain(crowded.requestId);
  });
});
