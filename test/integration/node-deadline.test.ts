import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { events, type NodeFixture, PRICE, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

// Fulfil only before the deadline, refund only from it: a request the node finds past (or too close to) its deadline
// is not rendered, and the node ends it with a refund instead of leaving the collector to find out.
let f: NodeFixture;
let node: RunningNode | undefined;
beforeAll(async () => {
  f = await startNodeFixture();
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

describe('a request past its deadline', () => {
  it('is refunded by the node, never rendered, and a fresh one is still minted', async () => {
    const [late] = await sendRequests(f, ['a lantern in the rain']);
    // The node was down past the deadline (the open-prompt template gives an hour).
    await f.provider.send('evm_increaseTime', [Number(late.deadline) - (await f.provider.getBlock('latest'))!.timestamp + 1]);
    await f.provider.send('evm_mine', []);
    const [fresh] = await sendRequests(f, ['a lantern in the sun']);
    const before = await f.provider.getBalance(late.requester);
    node = await startNode({ config: f.config(), template, logger: createLogger({ level: 'silent' }) });
    await until(
      'the late request refunded and the fresh one minted',
      async () => (await events(f, 'MintRefunded')).length === 1 && (await events(f, 'MintFulfilled')).length === 1,
    );
    const [refunded] = await events(f, 'MintRefunded');
    expect(refunded.args.requestId).toBe(late.requestId);
    expect(refunded.args.refunded).toBe(PRICE);
    expect(await f.provider.getBalance(late.requester)).toBe(before + PRICE);
    expect((await events(f, 'MintFulfilled')).map((e) => e.args.requestId)).toEqual([fresh.requestId]);
    // Nothing was uploaded for the late request: the generate stage stopped before the gateway.
    const result = await node.generateQueue.getJobs(['completed']);
    expect(result.find((j) => j.data.request.requestId === String(late.requestId))?.returnvalue).toEqual({ manifestId: '' });
  });
});
