import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertComplete, loadConfig } from '../../pipeline/config';
import { loadGatewayConfig } from '../../services/diffusion-gateway/config';
import { suggest } from '../../protocol/suggest';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-config-'));
const writeJson = (name: string, value: unknown) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};
const messageOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return (error as { shortMessage?: string }).shortMessage ?? (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('node config file', () => {
  it('names each unknown key, with the key it probably meant', () => {
    const file = writeJson('typos.json', {
      colection: { address: `0x${'1'.repeat(40)}` },
      gateway: { url: 'http://127.0.0.1:8080', apikey: 'secret' },
      collections: [{ address: `0x${'2'.repeat(40)}`, chain: { rpcurl: 'http://127.0.0.1:8545' } }],
      frobnicate: true,
    });
    const message = messageOf(() => loadConfig({ file, env: {} }));
    expect(message).toContain(`unknown setting colection in ${file} (did you mean collection?)`);
    expect(message).toContain('unknown setting gateway.apikey');
    expect(message).toContain('(did you mean gateway.apiKey?)');
    expect(message).toContain('(did you mean collections.0.chain.rpcUrl?)');
    expect(message).toMatch(/unknown setting frobnicate in \S+; |unknown setting frobnicate in \S+$/);
    expect(message).not.toContain('frobnicate in ' + file + ' (did you mean');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('says in one line that a missing file is missing, and how to make one', () => {
    const message = messageOf(() => loadConfig({ file: path.join(dir, 'nope.json'), env: {} }));
    expect(message).toBe(
      `config file ${path.join(dir, 'nope.json')} does not exist: write one with \`aigc init-node <dir>\` or fix --config`,
    );
    expect(message).not.toMatch(/ENOENT/);
  });

  it('says a file is not JSON', () => {
    expect(messageOf(() => loadConfig({ file: writeJson('bad.json', '{ "chain": '), env: {} }))).toMatch(
      /^config file \S+ is not valid JSON: /,
    );
  });

  it('reports every missing setting at once, each with its env var', () => {
    const message = messageOf(() => assertComplete(loadConfig({ env: {} })));
    for (const setting of [
      'redis.url (REDIS_URL)',
      'collection.address (AIGC_COLLECTION)',
      'chain.rpcUrl (AIGC_RPC_URL)',
      'signer.privateKey (AIGC_SIGNER_KEY)',
      'gateway.url (AIGC_GATEWAY_URL)',
      'arweave.url (AIGC_ARWEAVE_URL)',
      'arweave.walletPath (AIGC_ARWEAVE_WALLET)',
    ])
      expect(message).toContain(setting);
    expect(() => assertComplete(loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6379' } }))).toThrow(/^missing settings /);
  });
});

describe('gateway config', () => {
  it('names the env var of a bad value, not only its JSON path', () => {
    expect(messageOf(() => loadGatewayConfig({ env: { GATEWAY_PORT: 'eighty' } }))).toMatch(/port \(GATEWAY_PORT\): /);
    expect(messageOf(() => loadGatewayConfig({ env: { GATEWAY_HOST: '0.0.0.0' } }))).toMatch(/apiKeys \(GATEWAY_API_KEYS\): /);
  });

  it('names an unknown key of its file with a did-you-mean, and a missing file in one line', () => {
    const file = writeJson('gateway.json', { limits: { concurency: 2 } });
    expect(messageOf(() => loadGatewayConfig({ env: { GATEWAY_CONFIG: file } }))).toContain(
      'unknown setting limits.concurency (did you mean limits.concurrency?)',
    );
    expect(messageOf(() => loadGatewayConfig({ env: { GATEWAY_CONFIG: path.join(dir, 'none.json') } }))).toMatch(
      /^gateway config file \S+ does not exist \(GATEWAY_CONFIG\)/,
    );
  });
});

describe('suggest', () => {
  it('finds near names and leaves far ones alone', () => {
    expect(suggest('colection', ['collection', 'chain'])).toBe('collection');
    expect(suggest('apikey', ['url', 'apiKey', 'timeoutMs'])).toBe('apiKey');
    expect(suggest('frobnicate', ['collection', 'chain', 'gateway'])).toBeUndefined();
  });
});
