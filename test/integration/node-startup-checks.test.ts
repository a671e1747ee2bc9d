import fs from 'node:fs';
import path from 'node:path';
import Arweave from 'arweave';
import { Wallet } from 'ethers';
import { SignerKind } from '../../pipeline/chain/collection';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { createLocalBackend } from '../../services/diffusion-gateway/backends/local';
import { type RunningGateway, startGateway } from '../helpers/gateway';
import { type NodeFixture, startNodeFixture, template } from '../helpers/node-stack';
import { until } from '../helpers/wait';

jest.setTimeout(180_000);

// Settings that cannot work are refused at start, each in one line that says what to do; /readyz names each check.
let f: NodeFixture;
let keyed: RunningGateway;
const silent = createLogger({ level: 'silent' });
const API_KEY = 'node-key-0123456789abcdef';

beforeAll(async () => {
  f = await startNodeFixture();
  keyed = await startGateway({ backend: createLocalBackend(), apiKeys: [API_KEY] });
});
afterAll(async () => {
  await keyed?.close();
  await f?.stop();
});

const refusal = async (config: ReturnType<NodeFixture['config']>) => {
  try {
    const node = await startNode({ config, template, logger: silent });
    await node.stop();
  } catch (error) {
    return error as { code: string; shortMessage: string };
  }
  throw new Error('the node started');
};

it('refuses a collection address with no code', async () => {
  const nowhere = Wallet.createRandom().address;
  const error = await refusal(f.config({ collection: { address: nowhere } }));
  expect(error.code).toBe('CONFIG_INVALID');
  expect(error.shortMessage).toMatch(
    new RegExp(`^no contract at ${nowhere} on chain \\d+: check collection.address \\(AIGC_COLLECTION\\)`),
  );
});

it('refuses a signer key the collection does not authorise', async () => {
  const stranger = new Wallet(f.stack.anvil.privateKeys[6]);
  const error = await refusal(f.config({ signer: { privateKey: stranger.privateKey } }));
  expect(error.shortMessage).toBe(
    `signer ${stranger.address} is not authorised by collection ${f.collection.target} on chain 31337: its owner runs \`aigc admin set-signer ${stranger.address}\``,
  );
});

it('refuses a gateway that answers 401 to the node’s key, and starts with the right key', async () => {
  const error = await refusal(f.config({ gateway: { url: keyed.url, apiKey: 'wrong-key-0123456789' } }));
  expect(error.code).toBe('UNAUTHORIZED');
  expect(error.shortMessage).toContain(
    `the gateway at ${keyed.url} refuses the node's API key (HTTP 401): set gateway.apiKey (AIGC_GATEWAY_API_KEY)`,
  );
  expect((await refusal(f.config({ gateway: { url: keyed.url } }))).code).toBe('UNAUTHORIZED');
  const node = await startNode({ config: f.config({ gateway: { url: keyed.url, apiKey: API_KEY } }), template, logger: silent });
  try {
    await until('the node leads', () => node.isLeader);
    const readyz = (await (await fetch(`${node.httpUrl}/readyz`)).json()) as { checks: { name: string; ok: boolean }[] };
    expect(readyz.checks.find((c) => c.name === 'gateway')).toEqual({ name: 'gateway', ok: true });
  } finally {
    await node.stop();
  }
});

it('refuses an authorised signer with no ETH', async () => {
  const owner = new Wallet(f.stack.anvil.privateKeys[0], f.provider);
  const empty = Wallet.createRandom();
  await (
    await f.collection.connect(owner).getFunction('setSigner')(empty.address, SignerKind.OPERATOR, `0x${'0'.repeat(64)}`, empty.address)
  ).wait();
  const error = await refusal(f.config({ signer: { privateKey: empty.privateKey } }));
  expect(error.code).toBe('INSUFFICIENT_FUNDS');
  expect(error.shortMessage).toMatch(new RegExp(`^signer ${empty.address} has no ETH on chain 31337 to pay for fulfilments: fund it`));
});

it('refuses an Arweave wallet with no AR, and names every refusal in one line', async () => {
  const jwk = await Arweave.init({}).wallets.generate();
  const walletPath = path.join(f.dataDir, 'empty-wallet.json');
  fs.writeFileSync(walletPath, JSON.stringify(jwk));
  const address = await Arweave.init({}).wallets.jwkToAddress(jwk);
  const error = await refusal(f.config({ arweave: { walletPath } }));
  expect(error.code).toBe('INSUFFICIENT_FUNDS');
  expect(error.shortMessage).toMatch(
    new RegExp(`^Arweave wallet ${address} has no AR on ${f.stack.arlocal.url} to pay for uploads: fund it`),
  );
  const both = await refusal(f.config({ arweave: { walletPath }, gateway: { url: keyed.url } }));
  expect(both.shortMessage).toContain('has no AR');
  expect(both.shortMessage).toContain('refuses the node');
  expect(both.shortMessage.split('\n')).toHaveLength(1);
});

describe('/readyz', () => {
  let node: RunningNode;
  afterAll(() => node?.stop());

  it('names each start-up check', async () => {
    node = await startNode({ config: f.config(), template, logger: silent });
    await until('the node leads', () => node.isLeader);
    const body = (await (await fetch(`${node.httpUrl}/readyz`)).json()) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(body.ok).toBe(true);
    const names = body.checks.map((c) => c.name);
    for (const name of [
      'redis',
      'rpc:31337',
      'gateway',
      'arweave',
      'arweave-balance',
      `collection:31337:${f.collection.target}`,
      `signer-authorised:31337:${f.collection.target}`,
      'signer-balance:31337',
    ])
      expect(names).toContain(name);
  });
});
