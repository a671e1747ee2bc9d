import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summariseProfile } from '../../bench/profile-summary';

/** A profile whose stacks are given root first, each with its self time in microseconds. */
function profileOf(stacks: [string[], number][]): string {
  const nodes: { id: number; callFrame: { functionName: string; url: string }; children: number[] }[] = [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [] },
  ];
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  for (const [frames, us] of stacks) {
    let parent = nodes[0];
    for (const frame of frames) {
      const [functionName, url] = frame.startsWith('(') ? [frame, ''] : ['f', frame];
      const node = { id: nodes.length + 1, callFrame: { functionName, url }, children: [] as number[] };
      parent.children.push(node.id);
      nodes.push(node);
      parent = node;
    }
    samples.push(parent.id);
    timeDeltas.push(us);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-prof-')), 'p.cpuprofile');
  fs.writeFileSync(file, JSON.stringify({ nodes, samples, timeDeltas }));
  return file;
}

describe('summariseProfile', () => {
  it('counts each sample once: nearest pipeline module, else library, else runtime; idle left out', () => {
    const file = profileOf([
      [['/app/dist/pipeline/queue/fulfill.js', '/app/dist/pipeline/storage/bundle.js', '/app/node_modules/arbundles/x.js'], 3_000],
      [['/app/dist/pipeline/chain/listener.js', '/app/node_modules/ethers/lib/abi.js'], 2_000],
      [['node:net', '/app/node_modules/ioredis/built/Redis.js'], 1_000],
      [['node:net'], 1_000],
      [['(garbage collector)'], 500],
      [['node:internal/modules/cjs/loader'], 400],
      [['(idle)'], 9_000],
    ]);
    const rows = Object.fromEntries(summariseProfile(file, 2).map((r) => [r.stage, r.msPerUnit]));
    expect(rows).toEqual({
      'Arweave: sign items, bundle, upload': 1.5,
      'intake: chain events → jobs': 1,
      'queues: Redis and BullMQ': 0.5,
      'Node runtime (sockets, streams, timers)': 0.5,
      'garbage collector': 0.25,
      'start-up (loading modules)': 0.2,
    });
  });
});
