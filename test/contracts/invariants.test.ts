import fc from 'fast-check';
import { type Contract, toUtf8Bytes, Wallet, ZeroHash } from 'ethers';
import { SignerKind } from '../../pipeline/chain/collection';
import { type MintRequest, parseMintRequested, requestStruct } from '../../pipeline/chain/request';
import { advanceTime, type ChainFixture, newCollection, PRICE, send, signedFulfillment, startChain } from '../helpers/collection';

// Random sequences of request / fulfil / batch fulfil / reject / refund / withdraw from several accounts, checked
// against a model after every step.
jest.setTimeout(240_000);

type Action =
  | { t: 'request'; who: number; sponsor: boolean }
  | { t: 'fulfill'; pick: number; signer: number }
  | { t: 'batch'; picks: number[]; signer: number }
  | { t: 'reject'; pick: number; signer: number }
  | { t: 'refund'; pick: number; wait: boolean }
  | { t: 'withdraw'; signer: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('request' as const), who: fc.nat(3), sponsor: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fulfill' as const), pick: fc.nat(50), signer: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batch' as const), picks: fc.array(fc.nat(50), { minLength: 1, maxLength: 5 }), signer: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reject' as const), pick: fc.nat(50), signer: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('refund' as const), pick: fc.nat(50), wait: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('withdraw' as const), signer: fc.nat(1) }) },
);

let chain: ChainFixture;
let c: Contract;
let address: string;
let signers: Wallet[]; // [operator A, operator B, unauthorised]
let collectors: Wallet[];

beforeAll(async () => {
  chain = await startChain(9);
  c = await newCollection(chain, { mint: { refundDelay: 60 } });
  address = await c.getAddress();
  const b = chain.wallets[2];
  await send(c, chain.owner, 'setSigner', b.address, SignerKind.OPERATOR, ZeroHash);
  signers = [chain.operator, b, chain.wallets[3]];
  collectors = chain.wallets.slice(4, 8);
});
afterAll(() => chain?.stop());

async function succeeds(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== 'CALL_EXCEPTION') throw error;
    return false;
  }
}

describe('AIGCCollection invariants', () => {
  it('escrow balances, each request ends at most once, tokens equal fulfilments', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 18 }), async (actions) => {
        const snapshot = await chain.provider.send('evm_snapshot', []);
        try {
          const requests: MintRequest[] = [];
          const status = new Map<bigint, 'open' | 'minted' | 'rejected' | 'refunded'>();
          const earnings = [0n, 0n];
          let minted = 0;
          const tokensBefore = await Promise.all(collectors.map((w) => c.balanceOf(w.address)));
          const pick = (i: number) => requests[i % requests.length];

          for (const a of actions) {
            if (a.t === 'request') {
              const payer = collectors[a.who];
              const to = a.sponsor ? collectors[(a.who + 1) % collectors.length].address : payer.address;
              const receipt = await send(c, payer, 'requestMintFor', to, toUtf8Bytes(`prompt ${requests.length}`), { value: PRICE });
              const r = parseMintRequested(receipt.logs[0]);
              requests.push(r);
              status.set(r.requestId, 'open');
            } else if (a.t === 'withdraw') {
              await send(c, signers[a.signer], 'withdraw');
              earnings[a.signer] = 0n;
            } else if (requests.length === 0) {
              continue;
            } else if (a.t === 'fulfill') {
              const r = pick(a.pick);
              const expected = status.get(r.requestId) === 'open' && a.signer < 2;
              const ok = await succeeds(async () => send(c, chain.wallets[8], 'fulfill', await signedFulfillment(r, signers[a.signer], { collection: address })));
              expect(ok).toBe(expected);
              if (ok) {
                status.set(r.requestId, 'minted');
                earnings[a.signer] += r.paid;
                minted++;
              }
            } else if (a.t === 'batch') {
              const items = await Promise.all(a.picks.map((p) => signedFulfillment(pick(p), signers[a.signer], { collection: address })));
              await send(c, chain.wallets[8], 'fulfillBatch', items);
              for (const p of a.picks) {
                const r = pick(p);
                if (status.get(r.requestId) !== 'open') continue; // skipped: already ended, or a duplicate in this batch
                status.set(r.requestId, 'minted');
                earnings[a.signer] += r.paid;
                minted++;
              }
            } else if (a.t === 'reject') {
              const r = pick(a.pick);
              const expected = status.get(r.requestId) === 'open' && a.signer < 2;
              const ok = await succeeds(() => send(c, signers[a.signer], 'reject', r.requestId, requestStruct(r), 2));
              expect(ok).toBe(expected);
              if (ok) status.set(r.requestId, 'rejected');
            } else {
              const r = pick(a.pick);
              if (a.wait) await advanceTime(chain.provider, 61);
              const latest = (await chain.provider.getBlock('latest'))!.timestamp;
              const due = BigInt(latest + 1) >= r.requestedAt + 60n;
              const ok = await succeeds(() => send(c, chain.wallets[8], 'refund', r.requestId, requestStruct(r)));
              expect(ok).toBe(status.get(r.requestId) === 'open' && due);
              if (ok) status.set(r.requestId, 'refunded');
            }

            // Invariant: the contract holds exactly the open escrow plus unwithdrawn earnings.
            const open = requests.filter((r) => status.get(r.requestId) === 'open').reduce((s, r) => s + r.paid, 0n);
            const onChain = await Promise.all(signers.slice(0, 2).map(async (s) => (await c.signerInfo(s.address))[1] as bigint));
            expect(onChain).toEqual(earnings);
            expect(await chain.provider.getBalance(address)).toBe(open + earnings[0] + earnings[1]);
          }
          // Tokens minted equal fulfilments; every minted request is owned by its recipient.
          const tokensAfter = await Promise.all(collectors.map((w) => c.balanceOf(w.address)));
          expect(tokensAfter.reduce((s, n, i) => s + n - tokensBefore[i], 0n)).toBe(BigInt(minted));
          for (const r of requests) {
            if (status.get(r.requestId) === 'minted') expect(await c.ownerOf(r.requestId)).toBe(r.recipient);
            else await expect(c.ownerOf(r.requestId)).rejects.toMatchObject({ revert: { name: 'ERC721NonexistentToken' } });
          }
        } finally {
          await chain.provider.send('evm_revert', [snapshot]);
        }
      }),
      { numRuns: 12 },
    );
  });
});
