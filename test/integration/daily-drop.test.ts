import { Queue } from 'bullmq';
import { type EventLog, toUtf8String, Wallet } from 'ethers';
import IORedis from 'ioredis';
import { connectCollection, deployFromTemplate } from '../../pipeline/chain/collection';
import { periodIndex } from '../../pipeline/drop/schedule';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { type DropJobData, type MintForJobData, QUEUE } from '../../pipeline/queue/jobs';
import { type CollectionTemplate, loadTemplate } from '../../pipeline/template';
import { type NodeFixture, startNodeFixture } from '../helpers/node-stack';
import { until } from '../helpers/wait';

// The daily-drop template with a 3-second period: the node requests one piece per period, paid by the operator, and a
// period is paid once however often it fires (a restart, two nodes, duplicate firings). Counted per period from the
// chain's events; nothing here asserts how fast anything happens.
jest.setTimeout(600_000);

const PERIOD_S = 3;
const silent = createLogger({ level: 'silent' });

let f: NodeFixture;
let operator: string;
let owner: string;
let redis: IORedis;

beforeAll(async () => {
  f = await startNodeFixture();
  operator = new Wallet(f.stack.anvil.privateKeys[1]).address;
  owner = new Wallet(f.stack.anvil.privateKeys[0]).address;
  redis = new IORedis(f.redis.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis?.disconnect();
  await f?.stop();
});

type Drop = { name: string; template: CollectionTemplate; address: string; deployBlock: number; prefix: string };

/** A collection from the daily-drop template, with a short period starting now and prompts that name their period. */
async function deployDrop(name: string, drop: Partial<NonNullable<CollectionTemplate['drop']>> = {}): Promise<Drop> {
  const base = loadTemplate('daily-drop');
  const prompts = Array.from({ length: 400 }, (_, i) => `${name} piece #${i}`);
  const template: CollectionTemplate = {
    ...base,
    name,
    // Shorter than the schema allows (60 s): a template built in code is not validated, which is what tests need.
    drop: { ...base.drop!, periodSeconds: PERIOD_S, prompts, startAt: Math.floor(Date.now() / 1000), ...drop },
  };
  const deployed = await deployFromTemplate({ deployer: new Wallet(f.stack.anvil.privateKeys[0], f.provider), template, operator });
  return { name, template, address: deployed.address, deployBlock: deployed.blockNumber, prefix: `drop-${name}` };
}

const start = (d: Drop, template = d.template) =>
  startNode({
    config: f.config({ collection: { address: d.address }, chain: { startBlock: d.deployBlock }, redis: { prefix: d.prefix } }),
    template,
    logger: silent,
  });

const periodNow = (d: Drop) => periodIndex(d.template.drop!, Date.now());

type Piece = { period: number; requestId: bigint; requester: string; recipient: string; paid: bigint; prompt: string };

/** The drop's requests on chain, with the period each prompt names. */
async function pieces(d: Drop): Promise<Piece[]> {
  const contract = connectCollection(d.address, f.provider);
  const logs = (await contract.queryFilter(contract.filters.MintRequested(), d.deployBlock)) as EventLog[];
  return logs.map((l) => {
    const prompt = toUtf8String(l.args.prompt);
    return {
      period: Number(/#(\d+)$/.exec(prompt)![1]),
      requestId: l.args.requestId,
      requester: l.args.requester,
      recipient: l.args.recipient,
      paid: l.args.paid,
      prompt,
    };
  });
}

async function fulfilled(d: Drop): Promise<bigint[]> {
  const contract = connectCollection(d.address, f.provider);
  const logs = (await contract.queryFilter(contract.filters.MintFulfilled(), d.deployBlock)) as EventLog[];
  return logs.map((l) => l.args.requestId as bigint);
}

/** Pieces per period: how many requests each period got. */
const perPeriod = (all: Piece[]) => all.reduce((m, p) => m.set(p.period, (m.get(p.period) ?? 0) + 1), new Map<number, number>());

/** Waits until the chain has the pieces of every period from `from` through `to`, each minted. */
async function untilMinted(d: Drop, from: number, to: number): Promise<void> {
  await until(
    `${d.name}: periods ${from}…${to} requested and minted`,
    async () => {
      const all = await pieces(d);
      const periods = new Set(all.map((p) => p.period));
      for (let p = from; p <= to; p++) if (!periods.has(p)) return false;
      return (await fulfilled(d)).length >= all.length;
    },
    180_000,
    300,
  );
}

/** Sum of this node's `aigc_drops_total{result}`. */
async function dropCount(nodes: RunningNode[], result: string): Promise<number> {
  let total = 0;
  for (const node of nodes) {
    for (const v of (await node.metrics.drops.get()).values) if (v.labels.result === result) total += v.value;
  }
  return total;
}

/** The drop's sponsored mints in the `mint-for` queue (one per submitted period). */
async function dropMints(d: Drop): Promise<MintForJobData[]> {
  const queue = new Queue<MintForJobData>(`${QUEUE.mintFor}-31337`, { connection: redis, prefix: d.prefix });
  try {
    const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed']);
    return jobs.map((j) => j.data).filter((m) => m.collection.toLowerCase() === d.address.toLowerCase());
  } finally {
    await queue.close();
  }
}

/** Every period appears exactly once, with its prompt, paid by the operator for `recipient`, and minted to it. */
async function expectOncePerPeriod(d: Drop, recipient: string, required: number[]): Promise<Piece[]> {
  const all = await pieces(d);
  const counts = perPeriod(all);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  for (const p of required) expect(counts.get(p)).toBe(1);
  const price = BigInt(d.template.mint.priceWei);
  const contract = connectCollection(d.address, f.provider);
  for (const piece of all) {
    expect(piece.prompt).toBe(d.template.drop!.prompts[piece.period]);
    expect(piece).toMatchObject({ requester: operator, recipient, paid: price });
    expect(await contract.ownerOf(piece.requestId)).toBe(recipient);
  }
  // One sponsored mint per period, counted as submitted exactly once across nodes.
  const mints = await dropMints(d);
  expect(new Set(mints.map((m) => m.prompt)).size).toBe(mints.length);
  expect(mints.every((m) => m.keyId.startsWith('drop-'))).toBe(true);
  expect(new Set(all.map((p) => p.prompt))).toEqual(new Set(mints.map((m) => m.prompt)));
  return all;
}

it('one node: one piece per period, with that period’s prompt, for the collection owner', async () => {
  const d = await deployDrop('solo');
  const before = periodNow(d);
  const node = await start(d);
  const first = periodNow(d);
  let last: number;
  try {
    await untilMinted(d, first, first + 2);
    last = periodNow(d) - 1; // every period that ended while the node was up
    await untilMinted(d, first, last);
  } finally {
    await node.stop();
  }
  const all = await expectOncePerPeriod(d, owner, range(first, last));
  const periods = all.map((p) => p.period);
  expect(Math.min(...periods)).toBeGreaterThanOrEqual(before);
  expect(await dropCount([node], 'submitted')).toBe(all.length);
});

it('through a restart and duplicate firings: no period paid twice, none missed while a node was up', async () => {
  const recipient = Wallet.createRandom().address;
  const d = await deployDrop('restart', { recipient });
  const before = periodNow(d);
  const node1 = await start(d);
  const up1 = periodNow(d);
  let node2: RunningNode | undefined;
  let down1: number;
  let up2: number;
  let down2: number;
  try {
    await untilMinted(d, up1, up1 + 1);
    // A scheduler that fires more than once: extra firings of this period, for whichever node takes them.
    const queue = new Queue<DropJobData>(QUEUE.drop, { connection: redis, prefix: d.prefix });
    for (let i = 0; i < 3; i++) await queue.add('drop-now', { chainId: 31337, collection: d.address });
    await queue.close();
    down1 = periodNow(d);
    await node1.stop();
    node2 = await start(d); // same Redis prefix: the same scheduler, the same mint ids
    up2 = periodNow(d);
    await untilMinted(d, up2, up2 + 2);
    down2 = periodNow(d);
    await untilMinted(d, up2, down2 - 1);
  } finally {
    await node1.stop();
    await node2?.stop();
  }
  const all = await expectOncePerPeriod(d, recipient, [...range(up1, down1 - 1), ...range(up2, down2 - 1)]);
  expect(Math.min(...all.map((p) => p.period))).toBeGreaterThanOrEqual(before);
  const nodes = [node1, node2!];
  expect(await dropCount(nodes, 'submitted')).toBe((await dropMints(d)).length);
  // The extra firings and node 2's start found their periods already submitted.
  expect(await dropCount(nodes, 'duplicate')).toBeGreaterThanOrEqual(1);
});

it('two nodes at once on one Redis: one scheduler, one piece per period; a node without the drop removes its schedule', async () => {
  const d = await deployDrop('pair');
  const [a, b] = await Promise.all([start(d), start(d)]);
  const up = periodNow(d);
  let down: number;
  const queue = new Queue<DropJobData>(QUEUE.drop, { connection: redis, prefix: d.prefix });
  try {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ every: PERIOD_S * 1000 });
    await untilMinted(d, up, up + 2);
    down = periodNow(d);
    await untilMinted(d, up, down - 1);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  await expectOncePerPeriod(d, owner, range(up, down - 1));
  expect(await dropCount([a, b], 'submitted')).toBe((await dropMints(d)).length);

  // Kept when nodes stop (for the next start); removed by a node whose template for the collection has no drop.
  expect(await queue.getJobSchedulers()).toHaveLength(1);
  const plain = await start(d, { ...d.template, drop: undefined });
  await plain.stop();
  expect(await queue.getJobSchedulers()).toHaveLength(0);
  await queue.close();
});

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
