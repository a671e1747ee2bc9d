import { AbiCoder, getAddress, keccak256, type Log, recoverAddress, toUtf8Bytes, TypedDataEncoder } from 'ethers';
import { FULFILLMENT_TYPES, fulfillmentDomain } from '../../../pipeline/provenance/fulfillment';
import { modelHash } from '../../../pipeline/provenance/model-hash';
import { renderSeedOf } from '../../../pipeline/chain/render-seed';
import type { TokenManifest } from '../../../pipeline/storage/manifest';
import { call, collection, hexBytes, type PageRequest, requestLogs } from './chain';
import { gatewayUrl } from './format';
import type { Rpc } from './rpc';

/** One check the browser made, in words a collector can follow. */
export type BrowserCheck = { name: string; ok: boolean; detail?: string };
export type BrowserVerification = { ok: boolean; checks: BrowserCheck[]; imageUrl?: string; manifestUrl: string };

const SIGNER_KINDS = ['not authorised (retired)', 'the authorised operator key', 'an authorised TEE key', 'marked compromised'];

const hex = (bytes: ArrayBuffer) => `0x${[...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
const arId = (bytes32: string) =>
  btoa(String.fromCharCode(...hexBytes(bytes32)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

async function download(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.arrayBuffer();
}

/**
 * Checks a minted token in the browser from public data only, the chain (through `rpc`) and Arweave (through
 * `gateway`): no server vouches for the result. The same ground as `aigc verify`, except the TEE attestation
 * document, which needs the Node verifier.
 */
export async function verifyInBrowser({
  rpc,
  address,
  chainId,
  request,
  gateway,
}: {
  rpc: Rpc;
  address: string;
  chainId: number;
  request: PageRequest;
  gateway: string;
}): Promise<BrowserVerification> {
  const checks: BrowserCheck[] = [];
  const check = (name: string, ok: boolean, detail?: string) => checks.push({ name, ok, ...(ok ? {} : { detail }) });
  const id = request.requestId;
  const [fulfilledLog] = await requestLogs(rpc, address, 'MintFulfilled', id, request.blockNumber);
  const [aigcLog] = await requestLogs(rpc, address, 'AigcData', id, request.blockNumber);
  const fulfilled = collection.parseLog(fulfilledLog as unknown as Log)!.args;
  const proof = collection.parseLog(aigcLog as unknown as Log)!.args.proof as string;
  const signer = getAddress(fulfilled.signer as string);
  const [tokenURI] = (await call(rpc, address, 'tokenURI', [id])) as [string];
  const manifestUrl = gatewayUrl(tokenURI, gateway);
  check('The token points at the signed metadata', tokenURI === `ar://${arId(fulfilled.manifestId as string)}`, tokenURI);

  const manifest = JSON.parse(new TextDecoder().decode(await download(manifestUrl))) as TokenManifest;
  const a = manifest.aigc;
  const imageUrl = gatewayUrl(manifest.image, gateway);
  const sha = hex(await crypto.subtle.digest('SHA-256', await download(imageUrl)));
  check('The image is the one that was signed (SHA-256)', sha === fulfilled.imageSha256, `image hashes to ${sha}`);
  check(
    'The metadata describes this token and image',
    a.requestId === id.toString() && a.collection.toLowerCase() === address.toLowerCase() && `0x${a.image.sha256}` === sha,
  );
  check('The prompt is the one paid for', keccak256(toUtf8Bytes(a.prompt)) === request.promptHash);
  const renderSeed = renderSeedOf(request);
  check(
    "The seed comes from the chain (request seed and its block's hash)",
    a.requestBlockHash === request.blockHash && a.renderSeed === renderSeed,
  );
  check('The model is the one that was signed', modelHash(a.model) === fulfilled.modelHash, `${a.model.backend} ${a.model.id}`);
  const values = {
    requestId: id,
    promptHash: request.promptHash,
    seed: request.seed,
    imageSha256: sha,
    manifestId: fulfilled.manifestId as string,
    modelHash: modelHash(a.model),
  };
  const domain = fulfillmentDomain(chainId, address);
  let recovered = '';
  try {
    recovered = recoverAddress(TypedDataEncoder.hash(domain, FULFILLMENT_TYPES, values), proof);
  } catch {
    // a malformed signature fails the check below
  }
  check(`The signature over these values is by ${signer}`, recovered === signer, `recovered ${recovered || 'nothing'}`);
  const [kind] = (await call(rpc, address, 'signerInfo', [signer])) as [bigint];
  check(`The signer is ${SIGNER_KINDS[Number(kind)] ?? 'unknown'}`, kind === 1n || kind === 2n);
  const aigcData = AbiCoder.defaultAbiCoder().encode(
    ['uint256', 'bytes32', 'bytes32', 'bytes32', 'bytes32'],
    [id, request.seed, fulfilled.modelHash, fulfilled.imageSha256, fulfilled.manifestId],
  );
  const [onChain] = (await call(rpc, address, 'verify', [request.promptHex, aigcData, proof])) as [boolean];
  check('The contract confirms it (ERC-7007 verify)', onChain);
  return { ok: checks.every((c) => c.ok), checks, imageUrl, manifestUrl };
}
