import { Wallet } from 'ethers';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { runCli } from '../helpers/cli';
import { events, type NodeFixture, PRICE, sendRequests, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

// `aigc status` as users run it (the built binary) against a running node: the chain part from the collection, the
// node part from its GET /v1/status.
let f: NodeFixture;
let node: RunningNode;
beforeAll(async () => {
  f = await startNodeFixture();
  node = await startNode({ config: f.config(), template, logger: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await node?.stop();
  await f?.stop();
});

const aigc = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: f.dataDir, env: { PATH: process.env.PATH ?? '', ...env }, timeoutMs: 90_000 });

type StatusJson = {
  collection: string;
  paused: boolean;
  reserved: number;
  requests: { open: number; minted: number };
  signer: { address: string; kind: string; earningsWei: string; balanceWei: string };
  node: {
    signer: string;
    queues: { name: string; waiting: number; active: number; completed: number; failed: number }[];
    chains: {
      chainId: number;
      leader: boolean;
      lease: { epoch: number } | null;
      collections: { address: string; lastProcessedBlock: number | null }[];
    }[];
  } | null;
};

describe('aigc status', () => {
  it('--json: supply and open requests, the signer earnings and balance, queue depths, leader, last processed block', async () => {
    await until('the node leads', () => node.isLeader, 30_000);
    await sendRequests(f, ['a quiet harbour at dawn']);
    await until('the mint', async () => (await events(f, 'MintFulfilled')).length === 1, 120_000);
    const collection = await f.collection.getAddress();
    const operator = new Wallet(f.stack.anvil.privateKeys[1]).address;

    const run = await aigc(['status', '--collection', collection, '--rpc', f.stack.anvil.rpcUrl, '--node', node.httpUrl!, '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const s = JSON.parse(run.stdout) as StatusJson;
    expect(s).toMatchObject({ collection, paused: false, reserved: 1, requests: { open: 0, minted: 1 } });
    // The escrow of the one mint is the signer's, until withdrawn.
    expect(s.signer).toMatchObject({ address: operator, kind: 'operator', earningsWei: PRICE.toString() });
    expect(BigInt(s.signer.balanceWei)).toBe(await f.provider.getBalance(operator));

    expect(s.node?.signer).toBe(operator);
    const generate = s.node!.queues.find((q) => q.name === 'generate');
    expect(generate).toMatchObject({ waiting: 0, active: 0, completed: 1, failed: 0 });
    expect(s.node!.queues.map((q) => q.name)).toEqual(expect.arrayContaining([`fulfill-${s.node!.chains[0].chainId}`]));
    const [chain] = s.node!.chains;
    expect(chain).toMatchObject({ chainId: 31337, leader: true, lease: { epoch: expect.any(Number) } });
    expect(chain.collections[0].address).toBe(collection);
    expect(chain.collections[0].lastProcessedBlock).toBeGreaterThanOrEqual(f.deployBlock);
    // Every call reads afresh (nothing is consumed by the first).
    const again = (await (await fetch(`${node.httpUrl}/v1/status`)).json()) as NonNullable<StatusJson['node']>;
    expect(again.chains.map((c) => c.chainId)).toEqual([31337]);
  });

  it("aigc admin withdraw pays the signer's earnings to its payee; status then shows none left", async () => {
    const collection = await f.collection.getAddress();
    const operator = new Wallet(f.stack.anvil.privateKeys[1]).address;
    const before = await f.provider.getBalance(operator);
    const target = ['--collection', collection, '--rpc', f.stack.anvil.rpcUrl];
    const run = await aigc(['admin', 'withdraw', '--signer', operator, ...target, '--key', 'env:ANYONE', '--json'], {
      ANYONE: f.stack.anvil.privateKeys[7],
    });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ signer: operator, payee: operator, withdrawnWei: PRICE.toString(), earningsWei: '0' });
    // Sent by another key: the payee gains exactly the earnings.
    expect((await f.provider.getBalance(operator)) - before).toBe(PRICE);
    const status = JSON.parse((await aigc(['status', ...target, '--signer', operator, '--json'])).stdout) as StatusJson;
    expect(status.signer.earningsWei).toBe('0');
  });

  it('prints the chain part and says the node part needs --node when no node is known', async () => {
    const run = await aigc(['status', '--collection', await f.collection.getAddress(), '--rpc', f.stack.anvil.rpcUrl]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^.+ \(.+\) at 0x[0-9a-fA-F]{40} on chain 31337/);
    expect(run.stdout).toMatch(/signer {7}unknown: pass --signer <address> or --node <url>/);
    expect(run.stdout).toMatch(/node: not known; pass --node <url>/);
  });

  it('exits non-zero, after the chain part, when the named node does not answer', async () => {
    const run = await aigc([
      'status',
      '--collection',
      await f.collection.getAddress(),
      '--rpc',
      f.stack.anvil.rpcUrl,
      '--node',
      'http://127.0.0.1:9',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/minting {6}open/);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: the node at http:\/\/127\.0\.0\.1:9 did not answer/)]);
  });
});
