import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Contract, Wallet } from 'ethers';
import { createLogger } from '../../pipeline/logger';
import { type RunningNode, startNode } from '../../pipeline/node';
import { runCli } from '../helpers/cli';
import { type NodeFixture, startNodeFixture, template } from '../helpers/node-stack';

jest.setTimeout(120_000);

// `aigc mint` as a user runs it: the built binary, a key in an environment variable, the node's event stream.
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

const aigc = (args: string[]) => runCli(args, { env: { ...process.env, AIGC_MINT_KEY: f.stack.anvil.privateKeys[6] }, timeoutMs: 90_000 });

describe('aigc mint', () => {
  it('mints, follows the stages, saves the image and verifies the token', async () => {
    const out = path.join(f.dataDir, 'fox.png');
    const collection = await f.collection.getAddress();
    const { code, stdout, stderr } = await aigc([
      'mint',
      'a red fox',
      '--collection',
      collection,
      '--rpc',
      f.stack.anvil.rpcUrl,
      '--node',
      node.httpUrl!,
      '--arweave',
      f.stack.arlocal.url,
      '--wait',
      '--out',
      out,
      '--json',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout) as { tokenId: string; owner: string; tokenURI: string; verified: boolean; imagePath: string };
    expect(result.verified).toBe(true);
    expect(result.owner).toBe(new Wallet(f.stack.anvil.privateKeys[6]).address);
    expect(await f.collection.tokenURI(result.tokenId)).toBe(result.tokenURI);
    // The saved file is the image the token's manifest names (by its hash).
    const manifestId = result.tokenURI.slice('ar://'.length);
    const manifest = (await (await fetch(`${f.stack.arlocal.url}/${manifestId}`)).json()) as { aigc: { image: { sha256: string } } };
    expect(createHash('sha256').update(fs.readFileSync(out)).digest('hex')).toBe(manifest.aigc.image.sha256);
  });

  it('says in one line why the collection refuses, with a non-zero exit', async () => {
    const collection = await f.collection.getAddress();
    const owner = new Wallet(f.stack.anvil.privateKeys[0], f.provider);
    await (await (f.collection.connect(owner) as Contract).getFunction('pause')()).wait();
    try {
      const { code, stderr } = await aigc(['mint', 'a red fox', '--collection', collection, '--rpc', f.stack.anvil.rpcUrl, '--wait']);
      expect(code).not.toBe(0);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: .*AIGCPaused/);
    } finally {
      await (await (f.collection.connect(owner) as Contract).getFunction('unpause')()).wait();
    }
  });
});
