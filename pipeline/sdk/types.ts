import type { Contract, Provider, Signer } from 'ethers';

/** What `createClient` is made from. */
export type ClientConfig = {
  /** Address of the AIGCCollection. */
  collection: string;
  /** Any ethers provider (`new JsonRpcProvider(url)`, `BrowserProvider`…); else `rpcUrl`, else the signer's. */
  provider?: Provider;
  /** JSON-RPC endpoint, used when no `provider` is given. */
  rpcUrl?: string;
  /** Sends `requestMint` (a `Wallet`, `NonceManager`, a browser wallet's signer…). Needed by `requestMint` only. */
  signer?: Signer;
  /** Base URL of an operator node (its HTTP API): `waitForMint` follows its event stream instead of polling the chain. */
  nodeUrl?: string;
  /** Arweave gateway for manifests and images. @defaultValue 'https://arweave.net' */
  arweaveUrl?: string;
};

/** What every action works on: the client's resolved configuration. */
export type ClientContext = {
  collection: string;
  provider: Provider;
  signer?: Signer;
  nodeUrl?: string;
  arweaveUrl: string;
  /** The collection bound to `provider`. */
  contract: Contract;
};
