import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, requireSetting, resolveCollections } from '../../pipeline/config';
import { AigcError } from '../../pipeline/errors';
import { loadTemplate } from '../../pipeline/template';

describe('config', () => {
  it('applies defaults, then file, then env, then overrides', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-')), 'config.json');
    fs.writeFileSync(file, JSON.stringify({ chain: { confirmations: 3, pollIntervalMs: 700 }, generate: { concurrency: 4 } }));
    const config = loadConfig({
      file,
      env: { AIGC_CONFIRMATIONS: '5', REDIS_URL: 'redis://10.0.0.2:6380' },
      overrides: { generate: { concurrency: 8 } },
    });
    expect(config.chain.confirmations).toBe(5);
    expect(config.chain.pollIntervalMs).toBe(700);
    expect(config.chain.maxBlockRange).toBe(2_000);
    expect(config.generate.concurrency).toBe(8);
    expect(config.redis.url).toBe('redis://10.0.0.2:6380');
    expect(config.redis.prefix).toBe('aigc');
  });

  it('names the setting and its env var when a value is bad', () => {
    expect(() => loadConfig({ env: { AIGC_CONFIRMATIONS: 'three', AIGC_RPC_URL: 'ftp://x' } })).toThrow(
      /chain\.rpcUrl \(AIGC_RPC_URL\): expected an http\(s\) URL.*chain\.confirmations \(AIGC_CONFIRMATIONS\)|chain\.confirmations \(AIGC_CONFIRMATIONS\).*chain\.rpcUrl \(AIGC_RPC_URL\)/,
    );
    expect(() => loadConfig({ env: { AIGC_SIGNER_KEY: '0x1234' } })).toThrow(
      /signer\.privateKey \(AIGC_SIGNER_KEY\): expected 0x followed by 64 hex digits/,
    );
  });

  it('says which env var to set for a missing required setting', () => {
    const config = loadConfig({ env: {} });
    expect(() => requireSetting(config.collection.address, 'collection.address')).toThrow(
      'missing setting collection.address: set AIGC_COLLECTION',
    );
  });

  it('reads the attester settings from env, with operator and the standard configfs-tsm path as defaults', () => {
    const defaults = loadConfig({ env: {} });
    expect(defaults.signer.attester).toBe('operator');
    expect(defaults.signer.tsmPath).toBe('/sys/kernel/config/tsm/report');
    const config = loadConfig({
      env: {
        AIGC_ATTESTER: 'tee',
        AIGC_SIGNER_KEYSTORE: '/etc/aigc/signer.json',
        AIGC_SIGNER_KEYSTORE_PASSWORD_FILE: '/run/secrets/pw',
        AIGC_TSM_PATH: '/tmp/tsm/report',
      },
    });
    expect(config.signer).toEqual({
      attester: 'tee',
      keystorePath: '/etc/aigc/signer.json',
      keystorePasswordFile: '/run/secrets/pw',
      tsmPath: '/tmp/tsm/report',
    });
  });

  it('refuses an unknown attester and a key given both in clear and as a keystore, naming the env vars', () => {
    expect(() => loadConfig({ env: { AIGC_ATTESTER: 'sgx' } })).toThrow(
      /signer\.attester \(AIGC_ATTESTER\): .*"operator"\|"tee"\|"simulated"/,
    );
    expect(() => loadConfig({ env: { AIGC_SIGNER_KEY: `0x${'11'.repeat(32)}`, AIGC_SIGNER_KEYSTORE: 'k.json' } })).toThrow(
      /signer\.keystorePath \(AIGC_SIGNER_KEYSTORE\): set either signer\.privateKey \(AIGC_SIGNER_KEY\) or a keystore, not both/,
    );
  });

  it('reads API keys and CORS origins from comma-separated env vars, and names the env var of a bad one', () => {
    const config = loadConfig({
      env: {
        AIGC_API_KEYS: ' site-a-0123456789abcdef, site-b-0123456789abcdef ,',
        AIGC_CORS_ORIGINS: 'https://mint.example.com,http://localhost:5173',
      },
    });
    expect(config.api.keys).toEqual(['site-a-0123456789abcdef', 'site-b-0123456789abcdef']);
    expect(config.api.corsOrigins).toEqual(['https://mint.example.com', 'http://localhost:5173']);
    expect(loadConfig({ env: {} }).api).toEqual({ keys: [], corsOrigins: [], ratePerMinute: 600, burst: 60 });
    let message = '';
    try {
      loadConfig({ env: { AIGC_API_KEYS: 'short-key-123,site-b-0123456789abcdef' } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/api\.keys\.0 \(AIGC_API_KEYS\): API keys must have at least 16 characters/);
    expect(message).not.toContain('short-key-123'); // a key never appears in an error
    expect(() => loadConfig({ env: { AIGC_CORS_ORIGINS: 'https://mint.example.com/page' } })).toThrow(
      /api\.corsOrigins\.0 \(AIGC_CORS_ORIGINS\): an origin such as/,
    );
  });

  it('refuses an unreadable config file with its path', () => {
    expect(() => loadConfig({ file: '/nonexistent/aigc.json', env: {} })).toThrow(/config file \/nonexistent\/aigc\.json does not exist/);
  });
});

describe('collection templates', () => {
  it('ships a valid default template', () => {
    const t = loadTemplate('open-prompt');
    expect(t.symbol).toBe('DREAM');
    expect(BigInt(t.mint.priceWei)).toBeGreaterThan(0n);
  });

  it('refuses a bad template naming every bad field', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-')), 'collection.json');
    const good = JSON.parse(fs.readFileSync(path.join(__dirname, '../../templates/collections/open-prompt/collection.json'), 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...good, symbol: 'lower', render: { ...good.render, width: 500 }, extra: 1 }));
    let error: unknown;
    try {
      loadTemplate(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AigcError);
    expect((error as AigcError).code).toBe('TEMPLATE_INVALID');
    expect((error as AigcError).message).toMatch(/symbol: 1-11 upper-case/);
    expect((error as AigcError).message).toMatch(/render\.width: must be a multiple of 8/);
    expect((error as AigcError).message).toMatch(/extra/);
  });

  describe('collections', () => {
    const A = `0x${'a'.repeat(40)}`;
    const B = `0x${'b'.repeat(40)}`;
    const C = `0x${'c'.repeat(40)}`;

    it('serves collection.address first, then each entry with its chain settings merged over chain', () => {
      const config = loadConfig({
        env: { AIGC_RPC_URL: 'http://rpc-one', AIGC_COLLECTION: A, AIGC_CONFIRMATIONS: '2', AIGC_START_BLOCK: '10' },
        overrides: {
          collections: [
            { address: B, template: 'open-prompt', startBlock: 50 },
            { address: C, chain: { rpcUrl: 'http://rpc-two', confirmations: 7, startBlock: 99 } },
          ],
        },
      });
      const targets = resolveCollections(config);
      expect(targets.map((t) => [t.address, t.chain.rpcUrl, t.chain.confirmations, t.chain.startBlock])).toEqual([
        [A, 'http://rpc-one', 2, 10],
        [B, 'http://rpc-one', 2, 50],
        [C, 'http://rpc-two', 7, 99],
      ]);
      // Unset per-collection values keep the node-wide ones, not the schema defaults.
      expect(targets[2].chain.pollIntervalMs).toBe(config.chain.pollIntervalMs);
    });

    it('refuses a collection without any RPC URL, a duplicate, and an empty list, saying what to set', () => {
      expect(() => resolveCollections(loadConfig({ env: {}, overrides: { collections: [{ address: B }] } }))).toThrow(
        'collections.0: no RPC URL: set collections.0.chain.rpcUrl or chain.rpcUrl (AIGC_RPC_URL)',
      );
      expect(() =>
        resolveCollections(
          loadConfig({ env: { AIGC_RPC_URL: 'http://rpc', AIGC_COLLECTION: A }, overrides: { collections: [{ address: A }] } }),
        ),
      ).toThrow(/configured twice/);
      expect(() => resolveCollections(loadConfig({ env: {} }))).toThrow(/set AIGC_COLLECTION/);
      expect(() => loadConfig({ env: {}, overrides: { collections: [{ address: 'nope' } as never] } })).toThrow(
        /collections\.0\.address: expected a 0x-prefixed 20-byte address/,
      );
      expect(() => loadConfig({ env: { AIGC_ARWEAVE_MODE: 'ipfs' } })).toThrow(/arweave\.mode \(AIGC_ARWEAVE_MODE\)/);
    });
  });
});
