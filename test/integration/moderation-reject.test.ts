import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { REJECT_REASON } from '../../pipeline/queue/jobs';
import type { RequestStatus } from '../../pipeline/requests/status';
import type { CollectionTemplate } from '../../pipeline/template';
import { events, type NodeFixture, PRICE, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { readStatusStream } from '../helpers/sse';
import { fixturePhoto, photoBackend } from '../helpers/photo-backend';
import { until } from '../helpers/wait';

jest.setTimeout(300_000);

// The real gateway in front of a backend that renders a real photograph (the rocket launch fixture, scored ~0.79
// "drawing" by the classifier), under a collection whose moderation refuses drawing ≥ 0.5.
const photo = photoBackend(fixturePhoto('rocket.jpg'));
const strict: CollectionTemplate = { ...template, moderation: { policy: 'reject', thresholds: { drawing: 0.5 } } };

let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture({ backend: photo, template: strict });
  node = await startNode({ config: f.config(), template: strict, logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

it('an image the moderation policy refuses is rejected on chain, refunded, and the reason shown in status and SSE', async () => {
  const [bad] = await sendRequests(f, ['a launch at dawn']);
  const before = await f.provider.getBalance(bad.requester);
  const api = node.httpUrl!;
  const stream = readStatusStream<RequestStatus>(`${api}/v1/requests/${bad.requestId}/events`, 240_000);
  await until('the rejection', async () => (await events(f, 'MintRejected')).length === 1, 240_000);
  const [rejected] = await events(f, 'MintRejected');
  expect(rejected.args.requestId).toBe(bad.requestId);
  expect(rejected.args.reason).toBe(BigInt(REJECT_REASON.CONTENT_REJECTED));
  expect(rejected.args.refunded).toBe(PRICE);
  expect(await f.provider.getBalance(bad.requester)).toBe(before + PRICE);
  expect((await events(f, 'MintFulfilled')).length).toBe(0);

  const reason = /gateway answered 422: image refused by moderation: drawing 0\.\d\d ≥ 0\.5/;
  const status = (await (await fetch(`${api}/v1/requests/${bad.requestId}`)).json()) as RequestStatus;
  expect(status).toMatchObject({ status: 'rejected' });
  expect(status.error).toMatch(reason);
  const { statuses } = await stream;
  const last = statuses[statuses.length - 1];
  expect(last.status).toBe('rejected');
  expect(last.error).toMatch(reason);
});
