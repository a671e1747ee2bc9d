import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { REJECT_REASON } from '../../pipeline/queue/jobs';
import { events, type NodeFixture, PRICE, sendRequests, startNodeFixture, template, until } from '../helpers/node-stack';

jest.setTimeout(120_000);

// The real gateway in front of a backend that fails on one prompt: the gateway answers 500 every time.
const local = createLocalBackend();
const flaky: DiffusionBackend = {
  ...local,
  async render(input) {
    if (input.prompt.includes('unrenderable')) throw new Error('CUDA out of memory');
    return local.render(input);
  },
};

let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture({ backend: flaky });
  node = await startNode({ config: f.config({ generate: { attempts: 3, backoffMs: 50 } }), template, logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

describe('a request whose generation fails for good', () => {
  it('is rejected on chain and the requester refunded, while the others are minted', async () => {
    const [ok, bad] = await sendRequests(f, ['a calm lake', 'an unrenderable scene']);
    const before = await f.provider.getBalance(bad.requester);
    await until('one mint and one rejection', async () => (await events(f, 'MintFulfilled')).length === 1 && (await events(f, 'MintRejected')).length === 1);
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
