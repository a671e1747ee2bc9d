import { type JsonRpcProvider, Wallet } from 'ethers';
import { createTxSender } from '../../pipeline/chain/tx-sender';
import { startAnvil, type Anvil } from '../../pipeline/embedded/anvil';
import { createProvider } from '../../pipeline/chain/provider';
import { AigcError } from '../../pipeline/errors';
import { createLogger } from '../../pipeline/logger';
import { until } from '../helpers/wait';

// The serial sender against a real anvil with mining switched off: a transaction left in the mempool past
// `stuckAfterMs` is replaced under the same nonce with higher fees, and the receipt of whichever lands is returned.
jest.setTimeout(30_000);

let anvil: Anvil;
let provider: JsonRpcProvider;
let wallet: Wallet;
let other: Wallet;
beforeAll(async () => {
  anvil = await startAnvil({ accounts: 3 });
  provider = createProvider(anvil.rpcUrl, 50);
  wallet = new Wallet(anvil.privateKeys[1], provider);
  other = new Wallet(anvil.privateKeys[2], provider);
});
afterAll(async () => {
  provider.destroy();
  await anvil.stop();
});

type RpcTx = { hash: string; nonce: string; maxFeePerGas: string };

describe('transaction sender', () => {
  it('replaces a stuck transaction with bumped fees and returns the mined receipt', async () => {
    const warnings: unknown[] = [];
    const logger = createLogger({ level: 'silent' });
    logger.warn = ((o: unknown) => warnings.push(o)) as typeof logger.warn;
    const sender = createTxSender({ wallet, provider, logger, stuckAfterMs: 300, bumpPercent: 20, pollMs: 50 });
    await provider.send('evm_setAutomine', [false]);
    try {
      const nonce = await provider.getTransactionCount(wallet.address, 'latest');
      const sent = sender.send({ to: other.address, value: 1n, gasLimit: 21_000n }, 'transfer');
      // Wait until the second replacement is in the mempool, then mine one block.
      const pooledFee = async () => {
        const pool = (await provider.send('txpool_content', [])) as { pending: Record<string, Record<string, RpcTx>> };
        const mine = Object.entries(pool.pending).find(([from]) => from.toLowerCase() === wallet.address.toLowerCase())?.[1];
        return mine?.[String(nonce)] ? BigInt(mine[String(nonce)].maxFeePerGas) : 0n;
      };
      await until(
        'the second replacement pooled',
        async () =>
          warnings.length >= 2 && (await pooledFee()) >= (BigInt((warnings[0] as { maxFeePerGas: string }).maxFeePerGas) * 120n) / 100n,
        30_000,
        20,
      );
      await provider.send('evm_mine', []);
      const receipt = await sent;
      expect(receipt.status).toBe(1);
      const mined = (await provider.send('eth_getTransactionByHash', [receipt.hash])) as RpcTx;
      expect(Number(mined.nonce)).toBe(nonce);
      // The block holds the last replacement: fees went up 20 % per bump, twice.
      const first = (warnings[0] as { maxFeePerGas: string }).maxFeePerGas;
      expect(BigInt(mined.maxFeePerGas)).toBe((BigInt(first) * 120n) / 100n);
      expect(await provider.getTransactionCount(wallet.address, 'latest')).toBe(nonce + 1);
    } finally {
      await provider.send('evm_setAutomine', [true]);
    }
  });

  it('sends back to back with gap-free nonces and reports a nonce taken by someone else', async () => {
    const sender = createTxSender({ wallet, provider, logger: createLogger({ level: 'silent' }), pollMs: 20 });
    const start = await provider.getTransactionCount(wallet.address, 'latest');
    const receipts = await Promise.all([1n, 2n, 3n].map((v) => sender.send({ to: other.address, value: v, gasLimit: 21_000n }, `t${v}`)));
    expect(receipts.map((r) => r.status)).toEqual([1, 1, 1]);
    expect(await provider.getTransactionCount(wallet.address, 'latest')).toBe(start + 3);

    // The sender reads the nonce itself; a transaction signed elsewhere with that nonce and mined first makes the
    // broadcast fail with "nonce too low", which must come back as a retryable CHAIN_FAILED.
    const used = await wallet.signTransaction(
      await wallet.populateTransaction({ to: other.address, value: 1n, nonce: start + 3, gasLimit: 21_000n }),
    );
    const getCount = provider.getTransactionCount.bind(provider);
    provider.getTransactionCount = (async () => start + 3) as typeof provider.getTransactionCount;
    try {
      await provider.send('eth_sendRawTransaction', [used]);
      const error = await sender.send({ to: other.address, value: 9n, gasLimit: 21_000n }, 'late').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AigcError);
      expect(error).toMatchObject({ code: 'CHAIN_FAILED', retryable: true });
      expect((error as Error).message).toMatch(/nonce already used/);
    } finally {
      provider.getTransactionCount = getCount;
    }
  });

  it('sends nothing once the lease a send was queued under has ended, not even a fee replacement', async () => {
    const noLease = () => new AigcError('NOT_LEADER', 'not the leader: test', { retryable: true });
    // A lease this test ends by hand; verify and assertValid check the same flag.
    const lease = {
      held: true,
      verifies: 0,
      assertValid() {
        if (!this.held) throw noLease();
      },
      async verify() {
        this.verifies++;
        this.assertValid();
      },
    };
    let current: typeof lease | undefined = lease;
    const fence = () => {
      if (!current) throw noLease();
      return current;
    };
    const warnings: unknown[] = [];
    const logger = createLogger({ level: 'silent' });
    logger.warn = ((o: unknown) => warnings.push(o)) as typeof logger.warn;
    const sender = createTxSender({ wallet, provider, logger, stuckAfterMs: 300, pollMs: 20, fence });
    const start = await provider.getTransactionCount(wallet.address, 'latest');

    // Under a live lease: sent, one check before the broadcast.
    expect((await sender.send({ to: other.address, value: 1n, gasLimit: 21_000n }, 'held')).status).toBe(1);
    expect(lease.verifies).toBe(1);

    // Queued behind a stuck transaction; the lease ends while it waits: neither the replacement nor it goes out.
    await provider.send('evm_setAutomine', [false]);
    try {
      const stuck = sender.send({ to: other.address, value: 2n, gasLimit: 21_000n }, 'stuck').catch((e: unknown) => e);
      const queued = sender.send({ to: other.address, value: 3n, gasLimit: 21_000n }, 'queued').catch((e: unknown) => e);
      await until(
        'the stuck transaction pooled',
        async () => (await provider.getTransactionCount(wallet.address, 'pending')) !== start + 1,
        30_000,
        10,
      );
      lease.held = false;
      current = undefined;
      expect(await stuck).toMatchObject({ code: 'NOT_LEADER', retryable: true });
      expect(await queued).toMatchObject({ code: 'NOT_LEADER' });
      expect(warnings).toHaveLength(1); // it was found stuck once, and the replacement was refused
      const pool = (await provider.send('txpool_content', [])) as { pending: Record<string, Record<string, unknown>> };
      const mine = Object.entries(pool.pending).find(([from]) => from.toLowerCase() === wallet.address.toLowerCase())?.[1] ?? {};
      expect(Object.keys(mine)).toEqual([String(start + 1)]); // only the first broadcast, nothing after the lease ended
      // Refused at once when no lease is current.
      await expect(sender.send({ to: other.address, value: 4n, gasLimit: 21_000n }, 'late')).rejects.toMatchObject({ code: 'NOT_LEADER' });
      await expect(sender.exclusive(async () => 1)).rejects.toMatchObject({ code: 'NOT_LEADER' });
    } finally {
      await provider.send('evm_setAutomine', [true]);
      await provider.send('evm_mine', []);
    }
  });
});
