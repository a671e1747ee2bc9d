import fc from 'fast-check';
import { AbiCoder, type Contract, ContractFactory, hexlify, keccak256, type Log, toUtf8Bytes, type TransactionReceipt, type Wallet, ZeroAddress, ZeroHash } from 'ethers';
import { collectionInterface, SignerKind } from '../../pipeline/chain/collection';
import { type MintRequest, parseMintRequested, requestStruct } from '../../pipeline/chain/request';
import { abi as refusingAbi, bytecode as refusingBytecode } from '../artifacts/RefusingRequester';
import { type ChainFixture, newCollection, PRICE, send, signedFulfillment, startChain } from '../helpers/collection';

// Random sequences of requests (own, sponsored by a third party, by the operator, by a contract that refuses ether),
// fulfilments (honest, unauthorised, late, batched with duplicates and mixed signers), rejections, refunds,
// withdrawals, claims, payee and signer-kind changes, wallet-limit changes and clock jumps, mixed with attacks on the
// preimage check (a manifest id equal to the hash of a forged request; tampered preimages). After every step the chain
// is compared with a model: every account's ether, earnings, credits, wallet-limit counts, owners and `verify`.
jest.setTimeout(180_000);
// FC_SEED=… FC_PATH=… replays a reported counterexample; FC_STATS=1 prints how often each outcome was reached.

const DELAY = 600; // refund delays are 600 or 900 s; a clock jump is longer, so a request expires iff a jump followed it
const JUMP = 1_000;
const coder = AbiCoder.defaultAbiCoder();
const REQUEST = 'tuple(address requester,uint96 paid,address recipient,uint64 deadline,uint8 counted,bytes32 seed,bytes32 promptHash)';
type RequestStruct = ReturnType<typeof requestStruct>;

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const signerIx = fc.constantFrom(0, 0, 1, 2); // operator A (twice as likely), operator B, the never-authorised key

type Action =
  | { t: 'request'; payer: 'self' | 'third' | 'operator' | 'refusing'; who: number; to: number; sponsored: boolean }
  | { t: 'fulfill'; pick: number; signer: number; caller: number }
  | { t: 'batch'; items: { pick: number; signer: number }[]; dup: boolean }
  | { t: 'reject'; pick: number; by: number; reason: number }
  | { t: 'refund'; pick: number; wait: boolean }
  | { t: 'withdraw'; signer: number; caller: number }
  | { t: 'claim'; who: number; to: number }
  | { t: 'payee'; signer: number; payee: number }
  | { t: 'kind'; signer: number; kind: number }
  | { t: 'limit'; limit: number; delay: number }
  | { t: 'time' }
  | { t: 'forgeManifest'; pick: number; signer: number; seed: string; promptHash: string }
  | { t: 'forge'; pick: number; field: 'paid' | 'requester' | 'recipient' | 'counted' | 'deadline' | 'seed'; op: 'reject' | 'refund' | 'fulfill' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('request' as const), payer: fc.constantFrom('self' as const, 'self' as const, 'third' as const, 'operator' as const, 'refusing' as const, 'refusing' as const), who: fc.nat(2), to: fc.nat(3), sponsored: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('fulfill' as const), pick: fc.nat(50), signer: signerIx, caller: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batch' as const), items: fc.array(fc.record({ pick: fc.nat(50), signer: signerIx }), { minLength: 1, maxLength: 5 }), dup: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reject' as const), pick: fc.nat(50), by: signerIx, reason: fc.nat(255) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('refund' as const), pick: fc.nat(50), wait: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('withdraw' as const), signer: signerIx, caller: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('claim' as const), who: fc.nat(4), to: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('payee' as const), signer: fc.nat(1), payee: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('kind' as const), signer: fc.nat(1), kind: fc.constantFrom(SignerKind.NONE, SignerKind.OPERATOR, SignerKind.OPERATOR, SignerKind.TEE, SignerKind.COMPROMISED) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('limit' as const), limit: fc.constantFrom(0, 1, 2, 3), delay: fc.constantFrom(DELAY, 900) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'time' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('forgeManifest' as const), pick: fc.nat(50), signer: fc.nat(1), seed: bytes32, promptHash: bytes32 }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('forge' as const), pick: fc.nat(50), field: fc.constantFrom('paid' as const, 'requester' as const, 'recipient' as const, 'counted' as const, 'deadline' as const, 'seed' as const), op: fc.constantFrom('reject' as const, 'refund' as const, 'fulfill' as const) }) },
);

let chain: ChainFixture;
let c: Contract;
let address: string;
let refusing: Contract; // a requester (and payee) whose receive() reverts
let refusingAddress: string;
let baseConfig: Record<string, unknown>;
let signers: Wallet[]; // [operator A, operator B, never authorised]
let collectors: Wallet[];
let sponsor: Wallet; // a third party that pays for others; also forwards the refusing contract's calls
let attacker: Wallet;
let payees: Wallet[];
let tracked: string[]; // every address whose ether, credit, count and tokens are checked


beforeAll(async () => {
  chain = await startChain(12);
  c = await newCollection(chain, { mint: { refundDelay: DELAY } });
  address = await c.getAddress();
  const w = chain.wallets;
  signers = [w[1], w[2], w[3]];
  collectors = w.slice(4, 8);
  [sponsor, attacker] = [w[8], w[9]];
  payees = [w[10], w[11]];
  await send(c, chain.owner, 'setSigner', signers[1].address, SignerKind.OPERATOR, ZeroHash, ZeroAddress);
  const deployed = await new ContractFactory(refusingAbi, refusingBytecode, sponsor).deploy();
  await deployed.waitForDeployment();
  refusing = deployed as unknown as Contract;
  refusingAddress = await refusing.getAddress();
  const [config] = await c.mintConfig();
  baseConfig = { price: config.price, maxSupply: config.maxSupply, maxPromptBytes: config.maxPromptBytes, refundDelay: config.refundDelay, mintStart: config.mintStart, mintEnd: config.mintEnd };
  tracked = [...w.map((x) => x.address), refusingAddress, address];
});
const stats = new Map<string, number>();
afterAll(() => {
  if (process.env.FC_STATS) console.log([...stats].sort().map(([k, n]) => `${n}\t${k}`).join('\n'));
  return chain?.stop();
});

type Outcome = { ok: true; receipt: TransactionReceipt } | { ok: false; error: string };

/** Sends a transaction; a revert becomes the name of the collection's custom error (decoded also when forwarded). */
async function attempt(run: () => Promise<TransactionReceipt>): Promise<Outcome> {
  try {
    return { ok: true, receipt: await run() };
  } catch (error) {
    const e = error as { code?: string; revert?: { name: string }; data?: string; receipt?: unknown };
    if (e.code !== 'CALL_EXCEPTION' || e.receipt) throw error; // a mined revert would mean the estimate and the block disagreed
    const name = e.data && e.data.length >= 10 ? collectionInterface.parseError(e.data)?.name : undefined;
    return { ok: false, error: name ?? e.revert?.name ?? `unknown revert ${e.data}` };
  }
}

const isActive = (kind: number) => kind === SignerKind.OPERATOR || kind === SignerKind.TEE;

type Status = 'open' | 'minted' | 'rejected' | 'refunded';
type Req = {
  r: MintRequest;
  prompt: string;
  status: Status;
  expired: boolean;
  countedAccount: string | null;
  minted?: { signer: string; manifestId: string; imageSha256: string; modelHash: string; signature: string };
};

// Two fixed sequences run first, so the paths the random ones reach only sometimes are always covered.
const examples: Action[][] = [
  // A requester that refuses ether: its reject and refund become credits, claimed to another address (and refused
  // when claimed to itself); a wallet limit hit by operator-sponsored requests counted on the recipient, then turned
  // off with requests open; a late fulfil; a batch with a duplicate; a payee change after earnings.
  [
    { t: 'limit', limit: 2, delay: DELAY },
    { t: 'request', payer: 'refusing', who: 0, to: 0, sponsored: false },
    { t: 'request', payer: 'refusing', who: 0, to: 0, sponsored: true },
    { t: 'request', payer: 'operator', who: 0, to: 1, sponsored: false },
    { t: 'request', payer: 'operator', who: 0, to: 1, sponsored: false },
    { t: 'request', payer: 'operator', who: 0, to: 1, sponsored: false },
    { t: 'reject', pick: 0, by: 0, reason: 7 },
    { t: 'claim', who: 0, to: 2 },
    { t: 'time' },
    { t: 'refund', pick: 9, wait: false },
    { t: 'claim', who: 0, to: 1 },
    { t: 'claim', who: 0, to: 0 },
    { t: 'fulfill', pick: 1, signer: 0, caller: 0 },
    { t: 'limit', limit: 0, delay: 900 },
    { t: 'refund', pick: 1, wait: false },
    { t: 'request', payer: 'self', who: 0, to: 0, sponsored: false },
    { t: 'request', payer: 'third', who: 0, to: 2, sponsored: false },
    { t: 'batch', items: [{ pick: 1, signer: 0 }, { pick: 2, signer: 1 }, { pick: 4, signer: 0 }], dup: true },
    { t: 'payee', signer: 0, payee: 4 },
    { t: 'claim', who: 1, to: 0 },
    { t: 'withdraw', signer: 1, caller: 1 },
    { t: 'payee', signer: 1, payee: 4 },
    { t: 'request', payer: 'self', who: 1, to: 0, sponsored: false },
    { t: 'fulfill', pick: 1, signer: 1, caller: 1 },
    { t: 'withdraw', signer: 1, caller: 0 },
    { t: 'claim', who: 0, to: 2 },
  ],
  // The forged-preimage attack; tampered preimages; a compromised key fails verify, a retired one does not.
  [
    { t: 'request', payer: 'self', who: 0, to: 0, sponsored: false },
    { t: 'request', payer: 'self', who: 1, to: 0, sponsored: false },
    { t: 'request', payer: 'third', who: 0, to: 2, sponsored: false },
    { t: 'forgeManifest', pick: 0, signer: 0, seed: ZeroHash, promptHash: keccak256('0x01') },
    { t: 'fulfill', pick: 1, signer: 1, caller: 1 },
    { t: 'forge', pick: 0, field: 'paid', op: 'reject' },
    { t: 'kind', signer: 0, kind: SignerKind.COMPROMISED },
    { t: 'fulfill', pick: 1, signer: 0, caller: 0 },
    { t: 'forge', pick: 2, field: 'counted', op: 'fulfill' },
    { t: 'kind', signer: 1, kind: SignerKind.NONE },
    { t: 'kind', signer: 0, kind: SignerKind.TEE },
    { t: 'forgeManifest', pick: 1, signer: 0, seed: keccak256('0x02'), promptHash: ZeroHash },
    { t: 'time' },
    { t: 'forge', pick: 0, field: 'requester', op: 'refund' },
    { t: 'forge', pick: 0, field: 'deadline', op: 'refund' },
    { t: 'refund', pick: 0, wait: false },
    { t: 'withdraw', signer: 1, caller: 2 },
    { t: 'withdraw', signer: 0, caller: 2 },
  ],
];

describe('AIGCCollection invariants', () => {
  it('money, ends, counts, owners and verify match the model under random and adversarial sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 12, maxLength: 30, size: "max" }), async (actions) => {
        const snapshot = await chain.provider.send('evm_snapshot', []);
        try {
          await run(actions);
        } finally {
          await chain.provider.send('evm_revert', [snapshot]);
        }
      }),
      { numRuns: 12, examples: examples.map((e) => [e] as [Action[]]), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
    );
  });
});

async function run(actions: Action[]) {
  // ─── Model ───
  const requests: Req[] = [];
  const signerModel = new Map<string, { kind: number; earnings: bigint; rawPayee: string }>(signers.map((s, i) => [s.address, { kind: i < 2 ? SignerKind.OPERATOR : SignerKind.NONE, earnings: 0n, rawPayee: ZeroAddress }]));
  const credits = new Map<string, bigint>();
  const eth = new Map<string, bigint>();
  for (const a of tracked) eth.set(a, await chain.provider.getBalance(a));
  const ends = new Map<bigint, number>();
  let limit = 0;
  let delay = DELAY;

  const add = (m: Map<string, bigint>, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);
  const payeeOf = (s: string) => {
    const raw = signerModel.get(s)!.rawPayee;
    return raw === ZeroAddress ? s : raw;
  };
  const count = (a: string) => requests.filter((q) => q.countedAccount === a && (q.status === 'open' || q.status === 'minted')).length;
  /** The contract pushes `amount` to `to`; the refusing contract refuses it and is credited instead. */
  const push = (to: string, amount: bigint) => {
    if (to === refusingAddress) add(credits, to, amount);
    else {
      add(eth, to, amount);
      add(eth, address, -amount);
    }
  };
  const paidFee = (from: string, o: Outcome, value = 0n) => {
    if (!o.ok) return;
    add(eth, from, -(o.receipt.fee + value));
    add(eth, address, value);
    for (const log of o.receipt.logs) {
      if (log.address !== address) continue;
      const e = c.interface.parseLog(log);
      if (e && ['MintFulfilled', 'MintRejected', 'MintRefunded'].includes(e.name)) ends.set(e.args.requestId, (ends.get(e.args.requestId) ?? 0) + 1);
    }
  };
  const expectOutcome = (o: Outcome, expected: string | null, what: string) => {
    expect({ what, result: o.ok ? null : o.error }).toEqual({ what, result: expected });
    if (process.env.FC_STATS) {
      const key = `${what.replace(/ #\d+| by signer \d/g, '')}: ${expected ?? 'ok'}`;
      stats.set(key, (stats.get(key) ?? 0) + 1);
    }
  };
  /** Two picks in three go to an open request, if any, so that sequences end requests rather than retry ended ones. */
  const pick = (i: number) => {
    const open = requests.filter((q) => q.status === 'open');
    return i % 3 !== 0 && open.length > 0 ? open[i % open.length] : requests[i % requests.length];
  };
  const fulfilError = (q: Req, signer: string) =>
    q.status !== 'open' ? 'AIGCUnknownRequest' : q.expired ? 'AIGCRequestExpired' : !isActive(signerModel.get(signer)?.kind ?? 0) ? 'AIGCUnauthorizedSigner' : null;
  const mintIt = (q: Req, signer: string, f: { manifestId: string; imageSha256: string; modelHash: string; signature: string }) => {
    q.status = 'minted';
    q.minted = { signer, manifestId: f.manifestId, imageSha256: f.imageSha256, modelHash: f.modelHash, signature: f.signature };
    signerModel.get(signer)!.earnings += q.r.paid;
  };
  const close = (q: Req, how: Status) => {
    q.status = how;
    push(q.r.requester, q.r.paid);
  };
  const jump = async () => {
    await chain.provider.send('evm_increaseTime', [JUMP]);
    await chain.provider.send('evm_mine', []);
    for (const q of requests) q.expired = true;
  };
  const forgedAttempts = async (id: bigint, forged: RequestStruct, by: Wallet, realSigner: Wallet, label: string) => {
    expect(await c.isPending(id, forged)).toBe(false);
    const rejectBy = isActive(signerModel.get(by.address)?.kind ?? 0);
    expectOutcome(await attempt(() => send(c, by, 'reject', id, forged, 0)), rejectBy ? 'AIGCUnknownRequest' : 'AIGCUnauthorizedSigner', `${label}: reject`);
    expectOutcome(await attempt(() => send(c, attacker, 'refund', id, forged)), 'AIGCUnknownRequest', `${label}: refund`);
    const q = requests.find((x) => x.r.requestId === id)!;
    const f = await signedFulfillment(q.r, realSigner, { collection: address });
    expectOutcome(await attempt(() => send(c, attacker, 'fulfill', { ...f, request: forged })), 'AIGCUnknownRequest', `${label}: fulfil`);
  };

  for (const a of actions) {
    if (a.t === 'request') {
      const prompt = `prompt ${requests.length}`;
      let from: Wallet;
      let requester: string;
      let recipient: string;
      let countedAs: 0 | 1 | 2;
      let o: Outcome;
      const mint = (to?: string) => (to ? collectionInterface.encodeFunctionData('requestMintFor', [to, toUtf8Bytes(prompt)]) : collectionInterface.encodeFunctionData('requestMint', [toUtf8Bytes(prompt)]));
      if (a.payer === 'self') {
        from = collectors[a.who];
        [requester, recipient, countedAs] = [from.address, from.address, 1];
      } else if (a.payer === 'third') {
        from = sponsor;
        [requester, recipient, countedAs] = [from.address, collectors[a.to].address, 1];
      } else if (a.payer === 'operator') {
        from = signers[0];
        const active = isActive(signerModel.get(from.address)!.kind);
        [requester, recipient, countedAs] = [from.address, collectors[a.to].address, active ? 2 : 1];
      } else {
        from = sponsor;
        [requester, recipient, countedAs] = [refusingAddress, a.sponsored ? collectors[a.to].address : refusingAddress, 1];
      }
      if (limit === 0) countedAs = 0;
      const countedAccount = countedAs === 0 ? null : countedAs === 2 ? recipient : requester;
      if (a.payer === 'self') o = await attempt(() => send(c, from, 'requestMint', toUtf8Bytes(prompt), { value: PRICE }));
      else if (a.payer === 'refusing') o = await attempt(() => send(refusing, from, 'forward', address, mint(a.sponsored ? recipient : undefined), { value: PRICE }));
      else o = await attempt(() => send(c, from, 'requestMintFor', recipient, toUtf8Bytes(prompt), { value: PRICE }));
      const overLimit = countedAccount !== null && count(countedAccount) + 1 > limit;
      expectOutcome(o, overLimit ? 'AIGCWalletLimit' : null, `request by ${a.payer}`);
      paidFee(from.address, o, PRICE);
      if (o.ok) {
        const r = parseMintRequested(o.receipt.logs.find((l) => l.address === address)!);
        const block = await chain.provider.getBlock(o.receipt.blockNumber);
        expect([r.requestId, r.requester, r.recipient, r.paid, r.counted, r.deadline]).toEqual([BigInt(requests.length + 1), requester, recipient, PRICE, countedAs, BigInt(block!.timestamp + delay)]);
        requests.push({ r, prompt, status: 'open', expired: false, countedAccount });
      }
    } else if (a.t === 'limit') {
      limit = a.limit;
      delay = a.delay;
      const o = await attempt(() => send(c, chain.owner, 'setMintConfig', { ...baseConfig, refundDelay: delay }, limit));
      expectOutcome(o, null, 'setMintConfig');
      paidFee(chain.owner.address, o);
    } else if (a.t === 'time') {
      await jump();
    } else if (a.t === 'withdraw') {
      const earning = signers.filter((x) => signerModel.get(x.address)!.earnings !== 0n);
      const s = a.signer !== 2 && earning.length > 0 ? earning[a.signer % earning.length] : signers[a.signer];
      const caller = [sponsor, attacker, collectors[0]][a.caller];
      const o = await attempt(() => send(c, caller, 'withdraw', s.address));
      const m = signerModel.get(s.address)!;
      expectOutcome(o, m.earnings === 0n ? 'AIGCNothingToWithdraw' : null, 'withdraw');
      paidFee(caller.address, o);
      if (o.ok) {
        push(payeeOf(s.address), m.earnings);
        m.earnings = 0n;
      }
    } else if (a.t === 'claim') {
      // Two in three claims are by an account that has a credit, if any.
      const creditors = [refusingAddress, signers[0].address, signers[1].address, payees[0].address, payees[1].address];
      const owed = creditors.filter((x) => (credits.get(x) ?? 0n) !== 0n);
      const who = a.who % 3 !== 0 && owed.length > 0 ? owed[a.who % owed.length] : creditors[a.who];
      const to = [sponsor.address, refusingAddress, payees[0].address][a.to];
      const credit = credits.get(who) ?? 0n;
      let o: Outcome;
      let from: string;
      if (who === refusingAddress) {
        from = sponsor.address;
        o = await attempt(() => send(refusing, sponsor, 'claim', address, to));
      } else {
        from = who;
        o = await attempt(() => send(c, chain.wallets.find((x) => x.address === who)!, 'claim', to));
      }
      expectOutcome(o, credit === 0n ? 'AIGCNothingToClaim' : to === refusingAddress ? 'AIGCTransferFailed' : null, 'claim');
      paidFee(from, o);
      if (o.ok) {
        credits.set(who, 0n);
        add(eth, to, credit);
        add(eth, address, -credit);
      }
    } else if (a.t === 'payee') {
      const s = signers[a.signer];
      const payee = [ZeroAddress, s.address, payees[0].address, payees[1].address, refusingAddress][a.payee];
      const m = signerModel.get(s.address)!;
      const o = await attempt(() => send(c, chain.owner, 'setSigner', s.address, m.kind, ZeroHash, payee));
      expectOutcome(o, null, 'setSigner payee');
      paidFee(chain.owner.address, o);
      // Earnings so far belong to the previous payee: credited (never pushed) when the effective payee changes.
      const effective = (raw: string) => (raw === ZeroAddress ? s.address : raw);
      if (effective(payee) !== effective(m.rawPayee)) {
        if (m.earnings !== 0n) add(credits, payeeOf(s.address), m.earnings);
        m.earnings = 0n;
      }
      m.rawPayee = payee;
    } else if (a.t === 'kind') {
      const s = signers[a.signer];
      const m = signerModel.get(s.address)!;
      const o = await attempt(() => send(c, chain.owner, 'setSigner', s.address, a.kind, ZeroHash, m.rawPayee));
      expectOutcome(o, null, 'setSigner kind');
      paidFee(chain.owner.address, o);
      m.kind = a.kind;
    } else if (requests.length === 0) {
      continue;
    } else if (a.t === 'fulfill') {
      const q = pick(a.pick);
      const s = signers[a.signer];
      const caller = [sponsor, attacker][a.caller];
      const f = await signedFulfillment(q.r, s, { collection: address });
      const o = await attempt(() => send(c, caller, 'fulfill', f));
      expectOutcome(o, fulfilError(q, s.address), `fulfil #${q.r.requestId} by signer ${a.signer}`);
      paidFee(caller.address, o);
      if (o.ok) mintIt(q, s.address, f);
    } else if (a.t === 'batch') {
      const items = await Promise.all(a.items.map(async ({ pick: p, signer }) => ({ q: pick(p), s: signers[signer], f: await signedFulfillment(pick(p).r, signers[signer], { collection: address }) })));
      if (a.dup) items.push(items[0]); // the very same item twice
      const o = await attempt(() => send(c, sponsor, 'fulfillBatch', items.map((i) => i.f)));
      expectOutcome(o, null, 'fulfillBatch');
      paidFee(sponsor.address, o);
      const skipped: [bigint, string][] = [];
      for (const { q, s, f } of items) {
        const err = fulfilError(q, s.address);
        if (err) skipped.push([q.r.requestId, c.interface.getError(err)!.selector]);
        else mintIt(q, s.address, f);
      }
      const logged = (o as { receipt: TransactionReceipt }).receipt.logs
        .map((l: Log) => (l.address === address ? c.interface.parseLog(l) : null))
        .filter((e) => e?.name === 'FulfillSkipped')
        .map((e) => [e!.args.requestId, e!.args.reason]);
      expect(logged).toEqual(skipped);
    } else if (a.t === 'reject') {
      const q = pick(a.pick);
      const by = signers[a.by];
      const o = await attempt(() => send(c, by, 'reject', q.r.requestId, requestStruct(q.r), a.reason));
      const expected = !isActive(signerModel.get(by.address)!.kind) ? 'AIGCUnauthorizedSigner' : q.status !== 'open' ? 'AIGCUnknownRequest' : null;
      expectOutcome(o, expected, `reject #${q.r.requestId}`);
      paidFee(by.address, o);
      if (o.ok) close(q, 'rejected');
    } else if (a.t === 'refund') {
      const q = pick(a.pick);
      if (a.wait) await jump();
      const o = await attempt(() => send(c, attacker, 'refund', q.r.requestId, requestStruct(q.r)));
      expectOutcome(o, q.status !== 'open' ? 'AIGCUnknownRequest' : !q.expired ? 'AIGCRefundTooEarly' : null, `refund #${q.r.requestId}`);
      paidFee(attacker.address, o);
      if (o.ok) close(q, 'refunded');
    } else if (a.t === 'forgeManifest') {
      // (a) A signer mints a pending request with manifestId = key(fake request) and tries to end it again as the fake.
      const open = requests.filter((q) => q.status === 'open' && !q.expired);
      const active = [signers[a.signer], signers[1 - a.signer]].filter((s) => isActive(signerModel.get(s.address)!.kind));
      if (open.length === 0 || active.length === 0) continue;
      const q = open[a.pick % open.length];
      const s = active[0];
      const fake: RequestStruct = { requester: attacker.address, paid: await chain.provider.getBalance(address), recipient: attacker.address, deadline: 1n, counted: 0, seed: a.seed, promptHash: a.promptHash };
      const manifestId = keccak256(coder.encode([REQUEST], [fake]));
      const f = await signedFulfillment(q.r, s, { collection: address, manifestId });
      const o = await attempt(() => send(c, sponsor, 'fulfill', f));
      expectOutcome(o, null, 'fulfil with a forged-preimage manifest');
      paidFee(sponsor.address, o);
      mintIt(q, s.address, f);
      expect(await c.manifestOf(q.r.requestId)).toBe(manifestId); // the slot now literally holds key(fake)
      await forgedAttempts(q.r.requestId, fake, s, s, 'forged manifest');
    } else {
      // (b) Tampered preimages of any request, in any state.
      const q = pick(a.pick);
      const real = requestStruct(q.r);
      const tampered: RequestStruct = { ...real };
      if (a.field === 'paid') tampered.paid = q.r.paid + 1n;
      else if (a.field === 'requester') tampered.requester = attacker.address;
      else if (a.field === 'recipient') tampered.recipient = attacker.address;
      else if (a.field === 'counted') tampered.counted = (real.counted + 1) % 3;
      else if (a.field === 'deadline') tampered.deadline = 1n;
      else tampered.seed = keccak256(real.seed);
      expect(await c.isPending(q.r.requestId, real)).toBe(q.status === 'open');
      const s = signers.find((x) => isActive(signerModel.get(x.address)!.kind)) ?? signers[0];
      if (a.op === 'fulfill') {
        const f = await signedFulfillment(q.r, s, { collection: address });
        expectOutcome(await attempt(() => send(c, attacker, 'fulfill', { ...f, request: tampered })), 'AIGCUnknownRequest', `tampered ${a.field}: fulfil`);
      } else if (a.op === 'reject') {
        const expected = isActive(signerModel.get(s.address)!.kind) ? 'AIGCUnknownRequest' : 'AIGCUnauthorizedSigner';
        expectOutcome(await attempt(() => send(c, s, 'reject', q.r.requestId, tampered, 0)), expected, `tampered ${a.field}: reject`);
      } else {
        expectOutcome(await attempt(() => send(c, attacker, 'refund', q.r.requestId, tampered)), 'AIGCUnknownRequest', `tampered ${a.field}: refund`);
      }
      expect(await c.isPending(q.r.requestId, tampered)).toBe(false);
    }

    await checkInvariants();
  }

  async function checkInvariants() {
    const open = requests.filter((q) => q.status === 'open');
    const mintedReqs = requests.filter((q) => q.status === 'minted');
    const escrow = open.reduce((s, q) => s + q.r.paid, 0n);
    const earnings = [...signerModel.values()].reduce((s, m) => s + m.earnings, 0n);
    const creditSum = [...credits.values()].reduce((s, v) => s + v, 0n);
    const p = chain.provider;
    const [balances, creditsOnChain, countsOnChain, tokensOnChain, infos, counts] = await Promise.all([
      Promise.all(tracked.map((t) => p.getBalance(t))),
      Promise.all(tracked.map((t) => c.creditOf(t) as Promise<bigint>)),
      Promise.all(tracked.map((t) => c.requestsOf(t) as Promise<bigint>)),
      Promise.all(tracked.map((t) => c.balanceOf(t) as Promise<bigint>)),
      Promise.all(signers.map(async (s) => [...(await c.signerInfo(s.address))])),
      c.requestCounts(),
    ]);
    // The contract holds exactly the open escrow + unwithdrawn earnings + unclaimed credits, and every account's ether
    // moved exactly as the model says (so a refused attack moved nothing).
    expect(balances[tracked.indexOf(address)]).toBe(escrow + earnings + creditSum);
    expect(Object.fromEntries(tracked.map((t, i) => [t, balances[i]]))).toEqual(Object.fromEntries(tracked.map((t) => [t, eth.get(t)])));
    expect(creditsOnChain).toEqual(tracked.map((t) => credits.get(t) ?? 0n));
    expect(infos).toEqual(signers.map((s) => {
      const m = signerModel.get(s.address)!;
      return [BigInt(m.kind), m.earnings, ZeroHash, payeeOf(s.address)];
    }));
    // Wallet-limit counts: requests counted against the account that are open or minted.
    expect(countsOnChain).toEqual(tracked.map((t) => BigInt(count(t))));
    expect([...counts]).toEqual([BigInt(requests.length), BigInt(open.length + mintedReqs.length)]);
    // Tokens = successful fulfilments, each owned by its recipient.
    expect(tokensOnChain).toEqual(tracked.map((t) => BigInt(mintedReqs.filter((q) => q.r.recipient === t).length)));
    // Every request ends at most once, and exactly when the model says it ended.
    for (const q of requests) expect([q.r.requestId, ends.get(q.r.requestId) ?? 0]).toEqual([q.r.requestId, q.status === 'open' ? 0 : 1]);
    await Promise.all(requests.map(async (q) => {
      const id = q.r.requestId;
      expect(await c.isPending(id, requestStruct(q.r))).toBe(q.status === 'open');
      if (q.status !== 'minted') {
        await expect(c.ownerOf(id)).rejects.toMatchObject({ revert: { name: 'TokenDoesNotExist' } });
        return;
      }
      const m = q.minted!;
      expect(await c.ownerOf(id)).toBe(q.r.recipient);
      const aigcData = coder.encode(['uint256', 'bytes32', 'bytes32', 'bytes32', 'bytes32'], [id, q.r.seed, m.modelHash, m.imageSha256, m.manifestId]);
      const compromised = signerModel.get(m.signer)!.kind === SignerKind.COMPROMISED;
      expect([id, await c.verify(toUtf8Bytes(q.prompt), aigcData, m.signature)]).toEqual([id, !compromised]);
    }));
  }
}
