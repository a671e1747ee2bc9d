import { createHash } from 'node:crypto';
import { AbiCoder, type Contract, type EventLog, isError, type JsonRpcProvider, keccak256, toUtf8Bytes } from 'ethers';
import { connectCollection, SignerKind } from '../chain/collection';
import { parseMintRequested, renderSeedOf } from '../chain/request';
import { AigcError, errorMessage } from '../errors';
import { bytes32ToArweaveId, parseArUri } from '../storage/ids';
import type { TokenManifest } from '../storage/manifest';
import { modelHash } from './model-hash';
import { type AttestationSummary, checkAttestation } from './verify-attestation';
import { checkCredentials, type CredentialsSummary } from './verify-credentials';
import { fulfillmentDomain, recoverFulfillmentSigner } from './typed-data';
import { collectionReads } from '../chain/typed-reads';
import { traitsSchema } from '../template';
import { pickTraits } from '../templates/traits';

/** One check: `detail` says what was found instead, on failed checks only. */
export type VerifyCheck = { name: string; ok: boolean; detail?: string };

export type VerifyReport = {
  tokenId: bigint;
  ok: boolean;
  owner?: string;
  tokenURI?: string;
  imageUri?: string;
  imageSha256?: string;
  signer?: string;
  /** What vouches for the signer key, from the manifest (checked against the chain for `tee`). */
  attestation?: AttestationSummary;
  /** The image's C2PA Content Credentials, when its manifest says it carries them. */
  credentials?: CredentialsSummary;
  checks: VerifyCheck[];
};

export type VerifyTokenParameters = {
  provider: JsonRpcProvider;
  collection: string;
  tokenId: bigint;
  /** Fetches Arweave data by id (any gateway). */
  download(id: string): Promise<Uint8Array>;
  /** First block to search for the token's events. @defaultValue 0 */
  fromBlock?: number;
};

async function findEvent(contract: Contract, name: 'MintRequested' | 'MintFulfilled' | 'AigcData', tokenId: bigint, fromBlock: number) {
  const logs = (await contract.queryFilter(contract.filters[name](tokenId), fromBlock)) as EventLog[];
  if (logs.length !== 1) throw new AigcError('VERIFY_FAILED', `expected one ${name} event for token ${tokenId}, found ${logs.length}`);
  return { log: logs[0], args: logs[0].args };
}

/** The token's owner and tokenURI; NOT_FOUND in one line for a token that does not exist (yet). */
async function readToken(contract: Contract, collection: string, tokenId: bigint) {
  const reads = collectionReads(contract);
  try {
    return { owner: await reads.ownerOf(tokenId), tokenURI: await reads.tokenURI(tokenId) };
  } catch (cause) {
    // ownerOf reverts for a token that was never minted, and only then.
    if (isError(cause, 'CALL_EXCEPTION'))
      throw new AigcError(
        'NOT_FOUND',
        `token ${tokenId} does not exist in collection ${collection} (not minted yet? check the request with \`aigc mint\`/status)`,
        { cause },
      );
    throw new AigcError('CHAIN_FAILED', `cannot read token ${tokenId} of ${collection}: ${errorMessage(cause)}`, {
      cause,
      retryable: true,
    });
  }
}

/**
 * Checks a token from public data alone: chain events and state, the Arweave manifest and image. Every check is
 * reported; `ok` is true only if all pass. The signature is checked over the values the chain recorded as signed,
 * so a wrong download fails the image checks alone. Throws NOT_FOUND for a token that does not exist.
 *
 * @example
 * const report = await verifyToken({ provider, collection, tokenId: 1n, download: store.download });
 * console.log(report.ok ? 'verified' : report.checks.filter((c) => !c.ok));
 */
export async function verifyToken({
  provider,
  collection,
  tokenId,
  download,
  fromBlock = 0,
}: VerifyTokenParameters): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, ...(ok ? {} : { detail }) });
  const contract = connectCollection(collection, provider);
  const report: VerifyReport = { tokenId, ok: false, checks };

  const reads = collectionReads(contract);
  ({ owner: report.owner, tokenURI: report.tokenURI } = await readToken(contract, collection, tokenId));
  const requested = await findEvent(contract, 'MintRequested', tokenId, fromBlock);
  const req = parseMintRequested(requested.log);
  const fulfilled = await findEvent(contract, 'MintFulfilled', tokenId, fromBlock);
  const ev = fulfilled.args;
  report.signer = ev.signer as string;
  check('owner is the recipient', report.owner.toLowerCase() === req.recipient.toLowerCase(), `owner ${report.owner}`);
  check(
    'tokenURI names the fulfilled manifest',
    parseArUri(report.tokenURI) === bytes32ToArweaveId(ev.manifestId as string),
    report.tokenURI,
  );

  const manifestBytes = await download(parseArUri(report.tokenURI));
  let manifest: TokenManifest;
  try {
    manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as TokenManifest;
  } catch {
    check('manifest is JSON', false, 'manifest on Arweave is not valid JSON');
    return report;
  }
  const a = manifest.aigc;
  check(
    'manifest names this token',
    a.requestId === tokenId.toString() && a.collection.toLowerCase() === collection.toLowerCase(),
    `manifest names request ${a.requestId} of ${a.collection}`,
  );
  check('seed matches the request event', a.seed === req.seed, `manifest ${a.seed}, chain ${req.seed}`);
  // The render seed mixes in the hash of the request's block, which the requester could not know: recompute it.
  const renderSeed = renderSeedOf(req);
  check(
    'manifest names the block that holds the request',
    a.requestBlockHash === requested.log.blockHash,
    `manifest ${a.requestBlockHash}, chain ${requested.log.blockHash}`,
  );
  check(
    'render seed = keccak256(request seed, request block hash)',
    a.renderSeed === renderSeed,
    `manifest ${a.renderSeed}, recomputed ${renderSeed}`,
  );
  checkTraits(manifest, renderSeed, check);
  const promptHash = keccak256(toUtf8Bytes(a.prompt));
  check('prompt hashes to the requested promptHash', promptHash === req.promptHash, `manifest prompt hashes to ${promptHash}`);
  check('model hashes to the signed modelHash', modelHash(a.model) === ev.modelHash, `manifest model ${a.model.id}`);

  report.imageUri = manifest.image;
  const image = await download(parseArUri(manifest.image));
  const sha = createHash('sha256').update(image).digest('hex');
  report.imageSha256 = sha;
  // The downloaded bytes are compared here and only here; the manifest and the signature are checked against the
  // signed hash, so one bad download fails one check.
  check('image bytes hash to the signed imageSha256', `0x${sha}` === ev.imageSha256, `downloaded bytes hash to 0x${sha}`);
  check('manifest states the signed image hash', `0x${a.image.sha256}` === ev.imageSha256, `manifest states ${a.image.sha256}`);
  const chainId = (await provider.getNetwork()).chainId;
  const credentials = await checkCredentials({
    recorded: a.credentials,
    image,
    mime: a.image.mime,
    expected: { chainId: Number(chainId), collection, requestId: tokenId.toString(), seed: req.seed, modelHash: ev.modelHash as string },
  });
  checks.push(...credentials.checks);
  report.credentials = credentials.summary;

  // ERC-7007: AigcData indexes keccak256(aigcData) and carries the proof; aigcData is rebuilt from the fulfilment.
  const aigc = await findEvent(contract, 'AigcData', tokenId, fromBlock);
  const aigcData = AbiCoder.defaultAbiCoder().encode(
    ['uint256', 'bytes32', 'bytes32', 'bytes32', 'bytes32'],
    [tokenId, req.seed, ev.modelHash, ev.imageSha256, ev.manifestId],
  );
  check(
    'AigcData indexes the fulfilment and the prompt',
    aigc.log.topics[3] === keccak256(aigcData) && aigc.log.topics[2] === req.promptHash,
    `AigcData topics ${aigc.log.topics[2]}, ${aigc.log.topics[3]}`,
  );
  const recovered = recoverFulfillmentSigner(
    fulfillmentDomain(chainId, collection),
    {
      requestId: tokenId,
      promptHash: req.promptHash,
      seed: req.seed,
      imageSha256: ev.imageSha256,
      manifestId: ev.manifestId,
      modelHash: ev.modelHash,
    },
    aigc.args.proof as string,
  );
  check('EIP-712 signature recovers to the signer', recovered === ev.signer, `recovered ${recovered}`);
  // verify() also checks the commitment stored with the token at mint: true only for the values minted.
  const verified = await reads.verify(requested.args.prompt as string, aigcData, aigc.args.proof as string);
  check('contract verify(prompt, aigcData, proof) is true (ERC-7007, bound at mint)', verified, 'verify() returned false');
  const [kind, , onChainAttestation] = await reads.signerInfo(ev.signer as string);
  check('signer key is not marked compromised', kind !== BigInt(SignerKind.COMPROMISED), `signer ${ev.signer} has kind ${kind}`);
  check(
    'manifest names the signer',
    typeof a.signer === 'string' && a.signer.toLowerCase() === (ev.signer as string).toLowerCase(),
    `manifest names ${a.signer}`,
  );
  const attested = await checkAttestation({
    attestation: a.attestation,
    signer: ev.signer as string,
    signerKind: kind,
    onChainAttestation,
    download,
  });
  report.attestation = attested.summary;
  checks.push(...attested.checks);

  report.ok = checks.every((c) => c.ok);
  return report;
}

/**
 * A manifest with `aigc.traits`: the values drawn again from the recomputed render seed with the manifest's trait
 * table must equal the recorded ones, and each trait must appear once in `attributes` with that value.
 */
function checkTraits(manifest: TokenManifest, renderSeed: string, check: (name: string, ok: boolean, detail: string) => void): void {
  const recorded = manifest.aigc.traits;
  if (recorded === undefined) return;
  const table = traitsSchema.safeParse(recorded.table);
  if (!table.success) {
    check('traits are drawn from the render seed', false, `aigc.traits.table is not a valid trait table: ${table.error.issues[0].message}`);
    return;
  }
  const drawn = pickTraits(table.data, renderSeed);
  const show = (ts: { trait_type: string; value: unknown }[] | undefined) =>
    (ts ?? []).map((t) => `${t.trait_type}=${String(t.value)}`).join(', ');
  check(
    'traits are drawn from the render seed',
    JSON.stringify(drawn) === JSON.stringify(recorded.values?.map((t) => ({ trait_type: t.trait_type, value: t.value }))),
    `manifest ${show(recorded.values)}, recomputed ${show(drawn)}`,
  );
  const attributes = Array.isArray(manifest.attributes) ? manifest.attributes : [];
  const wrong = drawn.filter((t) => {
    const found = attributes.filter((a) => a.trait_type === t.trait_type);
    return found.length !== 1 || found[0].value !== t.value;
  });
  check(
    'attributes state the drawn traits',
    wrong.length === 0,
    wrong
      .map(
        (t) =>
          `${t.trait_type}: attributes say ${show(attributes.filter((a) => a.trait_type === t.trait_type)) || 'nothing'}, drawn ${t.value}`,
      )
      .join('; '),
  );
}
