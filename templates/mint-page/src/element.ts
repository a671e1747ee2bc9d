import { toUtf8Bytes } from 'ethers';
import type { CollectionInfo } from '../../../pipeline/http/collection-routes';
import { promptProblem } from '../../../protocol/prompt';
import {
  call,
  collection,
  contractError,
  latestBlock,
  MINT_REQUESTED,
  outcome,
  type PageRequest,
  parseRequest,
  requestsBy,
  requestStruct,
  transfersTo,
  waitForReceipt,
} from './chain';
import { byteLength, escapeHtml as h, eth, gatewayUrl, shortAddress, when } from './format';
import { followRequest, type Progress } from './progress';
import { errorCode, httpRpc, type Rpc, toHex } from './rpc';
import { STYLES } from './styles';
import { type BrowserVerification, verifyInBrowser } from './verify';
import { CHAINS, chainIdOf, chainName, connect, discoverWallets, type Eip1193, switchChain, type WalletChoice } from './wallet';

/** A state a collector can understand, with a way out. `id` is also the element's `data-state`. */
type Problem = {
  id: string;
  title: string;
  text: string;
  /** A second, technical line (the operator's own message). */
  detail?: string;
  action?: { label: string; run: () => unknown };
  link?: { label: string; href: string };
};

type View =
  | { kind: 'loading' }
  | { kind: 'ready' }
  | { kind: 'choose-wallet'; wallets: WalletChoice[] }
  | { kind: 'confirm'; what: string }
  | { kind: 'pending'; txHash: string }
  | {
      kind: 'progress';
      request: PageRequest;
      progress: Progress['status'] | 'sent';
      via?: Progress['via'];
      slow: boolean;
      refundable: boolean;
    }
  | { kind: 'minted'; request: PageRequest; verification?: BrowserVerification; verifyError?: string }
  | { kind: 'problem'; problem: Problem };

const REJECT_WORDS: Record<number, string> = {
  1: 'the prompt is invalid',
  2: 'the image could not be generated',
  3: 'the content was refused by moderation',
};
const STEPS = ['Requested', 'Rendering', 'Storing', 'Minted'] as const;
const STEP_OF: Record<string, number> = { sent: 0, requested: 1, rendering: 1, rendered: 2, minted: 4 };
/** After this long without an end, the page says it is slow and shows when a refund becomes possible. */
const SLOW_AFTER_MS = 90_000;
/** Set when the script runs: the first render is measured from here. */
const scriptStart = performance.now();
/** Where this script was loaded from: the default node (the node serves /embed.js). */
const scriptOrigin = (() => {
  const src = (document.currentScript as HTMLScriptElement | null)?.src;
  return src ? new URL(src).origin : undefined;
})();

/**
 * `<aigc-mint collection="0x…" chain-id="8453" rpc="https://…" node="https://…">`: a mint page for one collection.
 * `node` defaults to where this script came from; `rpc` (a public JSON-RPC URL) is used for reads, else the wallet.
 * `arweave` overrides the node's Arweave gateway.
 */
export class AigcMint extends HTMLElement {
  /** Milliseconds from the script's start to the first render and to the collection shown (for budgets and tests). */
  readonly timings: { firstRender?: number; ready?: number } = {};
  private root: ShadowRoot;
  private info?: CollectionInfo;
  private view: View = { kind: 'loading' };
  private wallets: () => WalletChoice[] = () => [];
  private wallet?: Eip1193;
  private account?: string;
  private walletChain?: number;
  private stopFollowing?: () => void;
  private ticker?: ReturnType<typeof setInterval>;
  private preset = '';
  private fee?: bigint;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
  }

  private get address() {
    return this.getAttribute('collection') ?? '';
  }
  private get chainId() {
    return Number(this.getAttribute('chain-id'));
  }
  private get node() {
    return (this.getAttribute('node') || scriptOrigin || location.origin).replace(/\/+$/, '');
  }
  private get gateway() {
    return (this.getAttribute('arweave') || this.info?.arweaveGateway || 'https://arweave.net').replace(/\/+$/, '');
  }
  private get price() {
    return BigInt(this.info?.priceWei ?? 0);
  }

  /** Reads: the page's public RPC when given, else the wallet once it is on the collection's chain. */
  private reader(): Rpc {
    const rpc = this.getAttribute('rpc');
    if (rpc) return httpRpc(rpc);
    if (this.wallet) return this.wallet;
    throw new Error('connect a wallet to read the chain');
  }

  connectedCallback(): void {
    this.root.innerHTML = `<style>${STYLES}</style>${this.skeleton()}`;
    this.timings.firstRender = performance.now() - scriptStart;
    this.wire();
    this.wallets = discoverWallets();
    void this.load();
  }

  disconnectedCallback(): void {
    this.stopFollowing?.();
    clearInterval(this.ticker);
  }

  private $<T extends HTMLElement = HTMLElement>(selector: string): T {
    return this.root.querySelector<T>(selector)!;
  }

  private skeleton(): string {
    return `<section class="card" aria-labelledby="title" aria-busy="true">
  <header id="head"><div><h2 id="title">Loading the collection…</h2></div></header>
  <div class="wallet" id="wallet"></div>
  <form id="form" novalidate>
    <label for="prompt">Your prompt</label>
    <textarea id="prompt" name="prompt" aria-describedby="count prompt-problem hint" placeholder="Describe the image you want"></textarea>
    <p class="muted count" id="count" aria-live="polite"></p>
    <p class="field-error" id="prompt-problem" aria-live="polite" hidden></p>
    <p class="muted" id="hint">Your prompt is stored on chain and in the token's public metadata.</p>
    <fieldset id="presets" hidden><legend>Style</legend></fieldset>
    <p class="cost" id="cost"></p>
    <button type="submit" class="submit" id="mint" disabled>Mint</button>
  </form>
  <div class="panel" id="status" role="status" aria-live="polite" hidden></div>
  <div class="panel problem" id="problem" role="alert" hidden></div>
  <div class="panel result" id="result" hidden></div>
  <details id="mine" hidden><summary>My tokens</summary><div id="mine-list" aria-live="polite"></div></details>
</section>`;
  }

  private wire(): void {
    const prompt = this.$<HTMLTextAreaElement>('#prompt');
    prompt.addEventListener('input', () => this.renderForm());
    this.$('#form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.mint();
    });
    this.$('#presets').addEventListener('change', (event) => {
      this.preset = (event.target as HTMLInputElement).value;
      this.renderForm();
    });
    this.$('#mine').addEventListener('toggle', () => {
      if ((this.$('#mine') as HTMLDetailsElement).open) void this.loadMine();
    });
  }

  // ─── Loading ──────────────────────────────────────────────────────────────────────────────────────────────────

  private async load(): Promise<void> {
    try {
      const res = await fetch(`${this.node}/v1/collections/${this.chainId}/${this.address}`);
      const body = (await res.json()) as CollectionInfo & { error?: { message: string } };
      if (!res.ok) throw new Error(body.error?.message ?? `the node answered HTTP ${res.status}`);
      this.info = body;
    } catch (error) {
      // For the site owner: a browser hides why a cross-origin read failed; the usual cause is the node's CORS list.
      console.warn(
        `<aigc-mint>: cannot read ${this.node}/v1/collections/${this.chainId}/${this.address}: ${(error as Error).message}. ` +
          `Is the node up, and does it allow this site (AIGC_CORS_ORIGINS=${location.origin} or *)?`,
      );
      this.show({
        kind: 'problem',
        problem: {
          id: 'unavailable',
          title: 'This mint page cannot reach its server',
          text: `The collection could not be loaded (${(error as Error).message}). Nothing was paid.`,
          action: { label: 'Try again', run: () => this.load() },
        },
      });
      return;
    }
    this.renderHead();
    this.renderPresets();
    this.$('section').removeAttribute('aria-busy');
    this.show(this.availability() ?? { kind: 'ready' });
    this.timings.ready ??= performance.now() - scriptStart;
  }

  /** Sold out, paused, not open yet or closed, by the chain's clock; undefined when a mint can be requested. */
  private availability(): View | undefined {
    const i = this.info!;
    const problem = (id: string, title: string, text: string): View => ({ kind: 'problem', problem: { id, title, text } });
    if (i.remaining <= 0) return problem('sold-out', 'Sold out', `All ${i.maxSupply} tokens are minted or being minted.`);
    if (i.paused) return problem('paused', 'Minting is paused', 'The creator has paused new mints. Come back later.');
    if (i.mintStart && i.chainTime < i.mintStart) return problem('not-open', 'Not open yet', `Minting opens ${when(i.mintStart)}.`);
    if (i.mintEnd && i.chainTime >= i.mintEnd) return problem('closed', 'Minting has closed', `Minting closed ${when(i.mintEnd)}.`);
    return undefined;
  }

  private renderHead(): void {
    const i = this.info!;
    const image = i.image ? `<img src="${h(gatewayUrl(i.image, this.gateway))}" alt="">` : '';
    this.$('#head').classList.toggle('with-image', Boolean(i.image));
    const window = i.mintEnd
      ? `until ${when(i.mintEnd)}`
      : i.mintStart && i.chainTime < i.mintStart
        ? `opens ${when(i.mintStart)}`
        : 'open';
    this.$('#head').innerHTML = `${image}<div><h2 id="title">${h(i.name)}</h2><p class="muted">${h(i.description)}</p></div>`;
    this.root.querySelector('#meta')?.remove();
    this.$('#head').insertAdjacentHTML(
      'afterend',
      `<ul class="meta" id="meta"><li>Price <strong>${eth(this.price)}</strong></li>
<li><strong>${i.remaining}</strong> of ${i.maxSupply} left</li><li>Mint ${h(window)}</li><li>${h(chainName(i.chainId))}</li></ul>`,
    );
    this.renderWallet();
  }

  private renderPresets(): void {
    const presets = this.info!.presets;
    const box = this.$('#presets');
    if (!presets.length || !box.hidden) return;
    box.hidden = false;
    const option = (label: string, suffix: string, checked: boolean) =>
      `<label class="preset"><input type="radio" name="preset" value="${h(suffix)}"${checked ? ' checked' : ''}><span>${h(label)}</span></label>`;
    box.insertAdjacentHTML('beforeend', option('None', '', true) + presets.map((p) => option(p.label, p.suffix, false)).join(''));
  }

  /** The prompt as it goes on chain: the collector's text and the chosen preset. */
  private prompt(): string {
    const text = this.$<HTMLTextAreaElement>('#prompt').value.trim();
    return text && this.preset ? `${text}${this.preset}` : text;
  }

  /**
   * Why the node would refuse the typed text (the shared policy of protocol/prompt.ts, which the node applies after
   * payment, with a refund), or undefined; an empty box is not a problem yet.
   */
  private promptProblem(): string | undefined {
    const text = this.$<HTMLTextAreaElement>('#prompt').value;
    return text ? promptProblem(text) : undefined;
  }

  private renderForm(): void {
    if (!this.info) return;
    const max = this.info.maxPromptBytes;
    const bytes = byteLength(this.prompt());
    const over = bytes > max;
    const problem = this.promptProblem();
    const problemBox = this.$('#prompt-problem');
    problemBox.hidden = !problem;
    problemBox.textContent = problem ? `This prompt cannot be minted: ${problem}.` : '';
    const count = this.$('#count');
    count.dataset.over = String(over);
    count.textContent = over
      ? `${bytes} of ${max} bytes: ${bytes - max} too many${this.preset ? ' (with the style)' : ''}`
      : `${bytes} of ${max} bytes${this.preset ? ' (with the style)' : ''}`;
    this.$('#prompt').setAttribute('aria-invalid', String(over || Boolean(problem)));
    const busy = ['confirm', 'pending', 'progress'].includes(this.view.kind);
    const blocked = this.view.kind === 'problem' && ['sold-out', 'paused', 'not-open', 'closed'].includes(this.view.problem.id);
    const button = this.$<HTMLButtonElement>('#mint');
    button.disabled = busy || blocked || over || bytes === 0 || Boolean(problem);
    button.textContent = this.account ? `Mint for ${eth(this.price)}` : `Connect wallet and mint for ${eth(this.price)}`;
    const fee = this.fee === undefined ? 'plus the network fee' : `plus a network fee of about ${eth(this.fee)}`;
    this.$('#cost').textContent = `${eth(this.price)} ${fee}. Refunded if the image is not delivered.`;
  }

  private renderWallet(): void {
    const box = this.$('#wallet');
    if (this.account) {
      const chain = this.walletChain === this.chainId ? '' : ` · on ${h(chainName(this.walletChain ?? 0))}`;
      box.innerHTML = `<p>Connected <strong title="${h(this.account)}">${h(shortAddress(this.account))}</strong>${chain}</p>`;
      (this.$('#mine') as HTMLDetailsElement).hidden = false;
    } else {
      box.innerHTML = `<p class="muted">Connect a wallet to mint.</p><button type="button" class="secondary" id="connect">Connect wallet</button>`;
      this.$('#connect').addEventListener('click', () => void this.connectWallet());
      (this.$('#mine') as HTMLDetailsElement).hidden = true;
    }
  }

  // ─── Views ────────────────────────────────────────────────────────────────────────────────────────────────────

  private show(view: View): void {
    this.view = view;
    this.dataset.state = view.kind === 'problem' ? view.problem.id : view.kind === 'progress' && view.slow ? 'slow' : view.kind;
    const status = this.$('#status');
    const problem = this.$('#problem');
    const result = this.$('#result');
    status.hidden = !['confirm', 'pending', 'progress', 'choose-wallet'].includes(view.kind);
    problem.hidden = view.kind !== 'problem';
    result.hidden = view.kind !== 'minted';
    if (view.kind === 'choose-wallet') status.innerHTML = this.walletChooser(view.wallets);
    if (view.kind === 'confirm') status.innerHTML = `<p><span class="spinner" aria-hidden="true"></span> ${h(view.what)}</p>`;
    if (view.kind === 'pending')
      status.innerHTML = `<p><span class="spinner" aria-hidden="true"></span> Payment sent; waiting for the chain to include it.</p>`;
    if (view.kind === 'progress') status.innerHTML = this.progressHtml(view);
    if (view.kind === 'problem') problem.innerHTML = this.problemHtml(view.problem);
    if (view.kind === 'minted') result.innerHTML = this.resultHtml(view);
    this.bindActions(view);
    this.renderForm();
  }

  private walletChooser(wallets: WalletChoice[]): string {
    const items = wallets
      .map(
        (w, i) =>
          `<li><button type="button" class="secondary" data-wallet="${i}">${w.icon ? `<img src="${h(w.icon)}" alt="">` : ''}${h(w.name)}</button></li>`,
      )
      .join('');
    return `<h3 id="choose">Choose a wallet</h3><ul class="wallets" aria-labelledby="choose">${items}</ul>`;
  }

  private progressHtml(v: Extract<View, { kind: 'progress' }>): string {
    const at = STEP_OF[v.progress] ?? 1;
    const steps = STEPS.map((name, i) => {
      const state = i < at ? 'done' : i === at ? 'current' : 'todo';
      const sr = state === 'done' ? ' (done)' : state === 'current' ? ' (in progress)' : '';
      return `<li data-step="${state}"${state === 'current' ? ' aria-current="step"' : ''}>${name}<span class="sr">${sr}</span></li>`;
    }).join('');
    const words: Record<string, string> = {
      sent: 'Payment confirmed on chain.',
      requested: 'Paid. Waiting for the operator to start rendering.',
      rendering: 'Rendering your image.',
      rendered: 'Image stored on Arweave and signed; minting your token.',
    };
    const source = v.via === 'chain' ? ' (following the chain: only the end is visible there)' : '';
    const deadline = Number(v.request.deadline);
    const slow = v.slow
      ? `<div class="panel"><h3>This is taking longer than it should</h3>
<p>${v.refundable ? `The operator did not deliver before the deadline: you can take your ${eth(v.request.paid)} back now.` : `If it is not minted by ${when(deadline)}, you can take your ${eth(v.request.paid)} back.`}</p>
<div class="actions"><button type="button" id="refund"${v.refundable ? '' : ' disabled aria-disabled="true"'}>Refund ${eth(v.request.paid)}</button></div></div>`
      : '';
    return `<h3>Request #${v.request.requestId}</h3><ol class="steps" aria-label="Progress">${steps}</ol>
<p>${h(words[v.progress] ?? '')}${source}</p>${slow}`;
  }

  private problemHtml(p: Problem): string {
    const action = p.action ? `<button type="button" id="problem-action">${h(p.action.label)}</button>` : '';
    const link = p.link ? `<a class="button secondary" href="${h(p.link.href)}" target="_blank" rel="noopener">${h(p.link.label)}</a>` : '';
    const detail = p.detail ? `<p class="muted">${h(p.detail)}</p>` : '';
    return `<h3 tabindex="-1" id="problem-title">${h(p.title)}</h3><p>${h(p.text)}</p>${detail}${action || link ? `<div class="actions">${action}${link}</div>` : ''}`;
  }

  private resultHtml(v: Extract<View, { kind: 'minted' }>): string {
    const r = v.request;
    const explorer = CHAINS[this.chainId]?.explorer;
    const tokenLink = explorer
      ? `<a href="${explorer}/nft/${this.address}/${r.requestId}" target="_blank" rel="noopener">View token #${r.requestId}</a>`
      : '';
    const verification = v.verification;
    const image = verification?.imageUrl
      ? `<img class="art" src="${h(verification.imageUrl)}" alt="Your token: ${h(r.prompt)}">`
      : `<p><span class="spinner" aria-hidden="true"></span> Loading your image…</p>`;
    let badge = `<p class="muted"><span class="spinner" aria-hidden="true"></span> Checking provenance…</p>`;
    if (v.verifyError) badge = `<p class="muted">Provenance could not be checked: ${h(v.verifyError)}</p>`;
    if (verification) {
      const checks = verification.checks
        .map((c) => `<li data-ok="${c.ok}">${c.ok ? '✓' : '✗'} ${h(c.name)}${c.detail ? `: ${h(c.detail)}` : ''}</li>`)
        .join('');
      badge = `<button type="button" class="badge" id="badge" data-ok="${verification.ok}" aria-expanded="false" aria-controls="checks">
${verification.ok ? '✓ Verified' : '✗ Not verified'}</button>
<div id="checks" hidden><p class="muted">Checked in your browser, from the chain (${h(this.rpcHost())}) and Arweave (${h(new URL(this.gateway).host)}); no server vouched for it:</p>
<ul class="checks">${checks}</ul><p class="muted"><a href="${h(verification.manifestUrl)}" target="_blank" rel="noopener">Token metadata (provenance record)</a></p></div>`;
    }
    return `<h3 tabindex="-1" id="result-title">Minted: token #${r.requestId}</h3>${image}<p class="muted">“<bdi>${h(r.prompt)}</bdi>”</p>
<div class="actions">${badge}</div>${tokenLink ? `<p>${tokenLink}</p>` : ''}
<div class="actions"><button type="button" class="secondary" id="again">Mint another</button></div>`;
  }

  private rpcHost(): string {
    const rpc = this.getAttribute('rpc');
    return rpc ? `via ${new URL(rpc).host}` : 'via your wallet';
  }

  private bindActions(view: View): void {
    if (view.kind === 'problem') {
      this.root.querySelector('#problem-action')?.addEventListener('click', () => void view.problem.action!.run());
      this.$('#problem-title').focus();
    }
    if (view.kind === 'choose-wallet')
      for (const b of this.root.querySelectorAll<HTMLButtonElement>('[data-wallet]'))
        b.addEventListener('click', () => void this.useWallet(view.wallets[Number(b.dataset.wallet)]));
    if (view.kind === 'progress') this.root.querySelector('#refund')?.addEventListener('click', () => void this.refund(view.request));
    if (view.kind === 'minted') {
      this.root.querySelector('#again')?.addEventListener('click', () => this.show({ kind: 'ready' }));
      const badge = this.root.querySelector<HTMLButtonElement>('#badge');
      badge?.addEventListener('click', () => {
        const open = badge.getAttribute('aria-expanded') !== 'true';
        badge.setAttribute('aria-expanded', String(open));
        this.$('#checks').hidden = !open;
      });
    }
  }

  private fail(id: string, title: string, text: string, action?: Problem['action'], link?: Problem['link']): void {
    this.show({ kind: 'problem', problem: { id, title, text, action, link } });
  }

  // ─── Wallet ───────────────────────────────────────────────────────────────────────────────────────────────────

  /** Connects a wallet (a chooser when several announce themselves); true when an account is connected. */
  private async connectWallet(): Promise<boolean> {
    if (this.account) return true;
    const found = this.wallets();
    if (!found.length) {
      this.fail(
        'no-wallet',
        'No wallet found',
        'Minting needs an Ethereum wallet in this browser (a browser extension or a wallet app’s browser). Install one, then reload this page.',
        { label: 'Try again', run: () => this.connectWallet() },
        { label: 'Find a wallet', href: 'https://ethereum.org/wallets/find-wallet/' },
      );
      return false;
    }
    if (found.length > 1) {
      this.show({ kind: 'choose-wallet', wallets: found });
      return false;
    }
    return this.useWallet(found[0]);
  }

  private async useWallet(choice: WalletChoice): Promise<boolean> {
    this.show({ kind: 'confirm', what: `Approve the connection in ${choice.name}.` });
    try {
      this.account = await connect(choice.provider);
      this.wallet = choice.provider;
      this.walletChain = await chainIdOf(choice.provider);
    } catch (error) {
      this.walletRefused(error, 'You did not connect a wallet. Nothing was paid.', () => this.connectWallet());
      return false;
    }
    choice.provider.on?.('accountsChanged', (accounts) => {
      this.account = (accounts as string[])[0];
      this.renderWallet();
      this.renderForm();
    });
    choice.provider.on?.('chainChanged', (id) => {
      this.walletChain = Number(BigInt(id as string));
      this.renderWallet();
    });
    this.renderWallet();
    this.show(this.availability() ?? { kind: 'ready' });
    void this.estimateFee();
    return true;
  }

  private walletRefused(error: unknown, text: string, retry: () => unknown): void {
    if (errorCode(error) === 4001) this.fail('refused', 'Cancelled in your wallet', text, { label: 'Try again', run: retry });
    else this.fail('failed', 'The wallet reported an error', (error as Error).message ?? String(error), { label: 'Try again', run: retry });
  }

  /** True once the wallet is on the collection's chain; else shows how to switch. */
  private async onRightChain(): Promise<boolean> {
    this.walletChain = await chainIdOf(this.wallet!);
    this.renderWallet();
    if (this.walletChain === this.chainId) return true;
    const name = chainName(this.chainId);
    this.fail('wrong-network', 'Wrong network', `Your wallet is on ${chainName(this.walletChain)}; this collection is on ${name}.`, {
      label: `Switch to ${name}`,
      run: async () => {
        try {
          await switchChain(this.wallet!, this.chainId, this.getAttribute('rpc') ?? undefined);
        } catch (error) {
          this.walletRefused(error, `Your wallet stayed on ${chainName(this.walletChain!)}. Switch to ${name} to mint.`, () =>
            this.onRightChain(),
          );
          return;
        }
        if (await this.onRightChain()) this.show(this.availability() ?? { kind: 'ready' });
      },
    });
    return false;
  }

  private async estimateFee(prompt = this.prompt() || 'x'): Promise<bigint | undefined> {
    if (!this.account || this.walletChain !== this.chainId) return undefined;
    try {
      const rpc = this.reader();
      const tx = { from: this.account, to: this.address, value: toHex(this.price), data: this.requestData(prompt) };
      const [gas, gasPrice] = await Promise.all([
        rpc.request({ method: 'eth_estimateGas', params: [tx] }),
        rpc.request({ method: 'eth_gasPrice' }),
      ]);
      this.fee = BigInt(gas as string) * BigInt(gasPrice as string);
      this.renderForm();
      return this.fee;
    } catch {
      return undefined;
    }
  }

  private requestData(prompt: string): string {
    return collection.encodeFunctionData('requestMint', [toUtf8Bytes(prompt)]);
  }

  // ─── Minting ──────────────────────────────────────────────────────────────────────────────────────────────────

  private async mint(): Promise<void> {
    const prompt = this.prompt();
    if (!prompt || this.promptProblem() || byteLength(prompt) > this.info!.maxPromptBytes) return;
    if (!(await this.connectWallet())) return;
    if (!(await this.onRightChain())) return;
    await this.load().catch(() => undefined); // fresh supply and window
    if (this.view.kind === 'problem') return;
    const rpc = this.reader();
    const balance = BigInt((await rpc.request({ method: 'eth_getBalance', params: [this.account, 'latest'] })) as string);
    const poor = (needed: bigint) =>
      this.fail(
        'insufficient-funds',
        'Not enough ETH',
        `This mint needs ${eth(needed)} (price and network fee); your wallet has ${eth(balance)} on ${chainName(this.chainId)}. Add funds, then try again.`,
        { label: 'Try again', run: () => this.mint() },
      );
    if (balance < this.price) return poor(this.price);
    const data = this.requestData(prompt);
    try {
      await call(rpc, this.address, 'requestMint', [toUtf8Bytes(prompt)], this.account, this.price);
    } catch (error) {
      return this.refusedByContract(error);
    }
    const fee = (await this.estimateFee(prompt)) ?? 0n;
    if (balance < this.price + fee) return poor(this.price + fee);

    this.show({ kind: 'confirm', what: `Confirm the payment of ${eth(this.price)} in your wallet.` });
    let txHash: string;
    try {
      txHash = (await this.wallet!.request({
        method: 'eth_sendTransaction',
        params: [{ from: this.account, to: this.address, value: toHex(this.price), data }],
      })) as string;
    } catch (error) {
      if (contractError(error)) return this.refusedByContract(error);
      return this.walletRefused(error, 'You cancelled the payment. Nothing was paid.', () => this.mint());
    }
    this.show({ kind: 'pending', txHash });
    const receipt = await waitForReceipt(rpc, txHash);
    const log = receipt.logs.find((l) => l.topics[0] === MINT_REQUESTED());
    if (receipt.status !== '0x1' || !log)
      return this.fail('failed', 'The payment failed on chain', `Transaction ${txHash} did not go through; nothing was paid but the fee.`, {
        label: 'Try again',
        run: () => this.mint(),
      });
    this.follow(parseRequest(log));
  }

  /** A contract error from a simulated or sent request, as a state the collector understands. */
  private refusedByContract(error: unknown): void {
    const e = contractError(error);
    const again = { label: 'Try again', run: () => this.mint() };
    const arg = (i: number) => Number(e?.args[i] ?? 0);
    switch (e?.name) {
      case 'AIGCSoldOut':
        return this.fail('sold-out', 'Sold out', `All ${arg(0)} tokens are minted or being minted. Nothing was paid.`);
      case 'AIGCMintNotOpen':
        return this.fail('not-open', 'Not open yet', `Minting opens ${when(arg(0))}. Nothing was paid.`);
      case 'AIGCMintClosed':
        return this.fail('closed', 'Minting has closed', `Minting closed ${when(arg(0))}. Nothing was paid.`);
      case 'AIGCPaused':
        return this.fail('paused', 'Minting is paused', 'The creator has paused new mints. Come back later. Nothing was paid.');
      case 'AIGCWalletLimit':
        return this.fail('wallet-limit', 'Limit reached', `Each wallet may request ${arg(1)} mints, and this one has. Nothing was paid.`);
      case 'AIGCPromptLength':
        return this.fail('prompt-too-long', 'Prompt too long', `The prompt is ${arg(0)} bytes; at most ${arg(1)} are taken.`, again);
      case 'AIGCWrongPayment':
        return this.fail('failed', 'The price changed', `The price is now ${eth(BigInt(arg(1)))}. Nothing was paid.`, again);
      default:
        return this.fail('failed', 'The request would fail', `${(error as Error).message ?? String(error)}. Nothing was paid.`, again);
    }
  }

  /** Follows a paid request through its stages to its end. */
  private follow(request: PageRequest): void {
    const started = Date.now();
    let current: Extract<View, { kind: 'progress' }> = { kind: 'progress', request, progress: 'sent', slow: false, refundable: false };
    const update = (next: Partial<typeof current>) => {
      const changed = Object.entries(next).some(([k, v]) => current[k as keyof typeof current] !== v);
      current = { ...current, ...next };
      if (changed && this.view.kind === 'progress') this.show(current);
    };
    this.show(current);
    // The chain's clock decides the deadline (a test chain may run ahead of the wall clock).
    this.ticker = setInterval(() => {
      void latestBlock(this.reader())
        .then(({ timestamp }) => {
          const refundable = timestamp >= Number(request.deadline);
          update({ refundable, slow: refundable || Date.now() - started > SLOW_AFTER_MS });
        })
        .catch(() => undefined);
    }, 3_000);
    this.stopFollowing = followRequest(
      { node: this.node, rpc: this.reader(), address: this.address, requestId: request.requestId, fromBlock: request.blockNumber },
      (p) => {
        if (p.status === 'minted') return void this.minted(request);
        if (p.status === 'rejected') return void this.rejected(request, p);
        if (p.status === 'refunded') return this.refunded(request);
        update({ progress: p.status, via: p.via });
      },
      () => update({ via: 'chain' }),
    );
  }

  private stopWatching(): void {
    this.stopFollowing?.();
    this.stopFollowing = undefined;
    clearInterval(this.ticker);
  }

  private async minted(request: PageRequest): Promise<void> {
    this.stopWatching();
    this.show({ kind: 'minted', request });
    this.$('#result-title').focus();
    try {
      const verification = await verifyInBrowser({
        rpc: this.reader(),
        address: this.address,
        chainId: this.chainId,
        request,
        gateway: this.gateway,
      });
      this.show({ kind: 'minted', request, verification });
    } catch (error) {
      this.show({ kind: 'minted', request, verifyError: (error as Error).message });
    }
  }

  private async rejected(request: PageRequest, p: Progress): Promise<void> {
    this.stopWatching();
    const end =
      p.reason === undefined
        ? await outcome(this.reader(), this.address, request.requestId, request.blockNumber).catch(() => undefined)
        : undefined;
    const code = p.reason ?? (end?.kind === 'rejected' ? end.reason : undefined);
    const reason = code !== undefined ? (REJECT_WORDS[code] ?? `reason code ${code}`) : 'no reason given';
    this.show({
      kind: 'problem',
      problem: {
        id: 'rejected',
        title: 'The operator could not make this image',
        text: `Rejected: ${reason}. Your ${eth(request.paid)} was refunded to ${shortAddress(request.requester)}.`,
        detail: p.error ? `Operator’s message: ${p.error}` : undefined,
        action: { label: 'Try another prompt', run: () => this.show({ kind: 'ready' }) },
      },
    });
  }

  private refunded(request: PageRequest): void {
    this.stopWatching();
    this.fail(
      'refunded',
      'Refunded',
      `Request #${request.requestId} was not delivered in time; ${eth(request.paid)} went back to ${shortAddress(request.requester)}.`,
      {
        label: 'Mint again',
        run: () => this.show({ kind: 'ready' }),
      },
    );
  }

  private async refund(request: PageRequest): Promise<void> {
    this.stopWatching();
    this.show({ kind: 'confirm', what: `Confirm the refund of ${eth(request.paid)} in your wallet.` });
    try {
      if (!(await this.connectWallet()) || !(await this.onRightChain())) return;
      const hash = (await this.wallet!.request({
        method: 'eth_sendTransaction',
        params: [
          {
            from: this.account,
            to: this.address,
            data: collection.encodeFunctionData('refund', [request.requestId, requestStruct(request)]),
          },
        ],
      })) as string;
      this.show({ kind: 'pending', txHash: hash });
      const receipt = await waitForReceipt(this.reader(), hash);
      if (receipt.status !== '0x1') throw new Error(`refund transaction ${hash} failed`);
    } catch (error) {
      const end = await outcome(this.reader(), this.address, request.requestId, request.blockNumber).catch(() => undefined);
      if (end?.kind === 'minted') return void this.minted(request);
      if (end?.kind === 'refunded') return this.refunded(request);
      return this.walletRefused(error, 'You cancelled the refund; the request stays open.', () => this.refund(request));
    }
    this.refunded(request);
  }

  // ─── My tokens ────────────────────────────────────────────────────────────────────────────────────────────────

  private async loadMine(): Promise<void> {
    const list = this.$('#mine-list');
    if (!this.account) return;
    list.innerHTML = '<p class="muted"><span class="spinner" aria-hidden="true"></span> Looking up your tokens…</p>';
    try {
      const rpc = this.reader();
      const from = this.info!.startBlock;
      const [ids, requests, { timestamp }] = await Promise.all([
        transfersTo(rpc, this.address, this.account, from),
        requestsBy(rpc, this.address, this.account, from),
        latestBlock(rpc),
      ]);
      const owned: bigint[] = [];
      for (const id of new Set(ids)) {
        const [owner] = (await call(rpc, this.address, 'ownerOf', [id]).catch(() => [''])) as [string];
        if (owner.toLowerCase() === this.account.toLowerCase()) owned.push(id);
      }
      const open: PageRequest[] = [];
      for (const r of requests)
        if (((await call(rpc, this.address, 'isPending', [r.requestId, requestStruct(r)])) as [boolean])[0]) open.push(r);
      const tokens = await Promise.all(
        owned.map(async (id) => {
          const [uri] = (await call(rpc, this.address, 'tokenURI', [id])) as [string];
          const manifest = (await (await fetch(gatewayUrl(uri, this.gateway))).json().catch(() => ({}))) as {
            image?: string;
            prompt?: string;
          };
          const img = manifest.image
            ? `<img src="${h(gatewayUrl(manifest.image, this.gateway))}" alt="Token #${id}: ${h(manifest.prompt ?? '')}" loading="lazy">`
            : '';
          return `<li>${img}<span class="muted">#${id}</span></li>`;
        }),
      );
      const pending = open.map((r) => {
        const due = timestamp >= Number(r.deadline);
        return `<li>Request #${r.requestId} (“<bdi>${h(r.prompt)}</bdi>”): ${due ? `not delivered; <button type="button" data-refund="${r.requestId}">Refund ${eth(r.paid)}</button>` : `in progress; refundable from ${when(Number(r.deadline))}`}</li>`;
      });
      list.innerHTML =
        (tokens.length
          ? `<ul class="tokens">${tokens.join('')}</ul>`
          : '<p class="muted">No tokens of this collection in this wallet yet.</p>') +
        (pending.length ? `<h3>Open requests</h3><ul class="pending">${pending.join('')}</ul>` : '');
      for (const b of list.querySelectorAll<HTMLButtonElement>('[data-refund]'))
        b.addEventListener('click', () => void this.refund(open.find((r) => r.requestId === BigInt(b.dataset.refund!))!));
    } catch (error) {
      list.innerHTML = `<p>Your tokens could not be listed (${h((error as Error).message)}).</p>`;
    }
  }
}
