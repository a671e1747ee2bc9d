import { ContractFactory, type EventLog, hexlify, randomBytes, toUtf8Bytes, Wallet } from 'ethers';
import { abi, bytecode } from '../pipeline/chain/artifacts/AIGCCollection';
import { abi as factoryAbi, bytecode as factoryBytecode } from '../pipeline/chain/artifacts/CollectionFactory';
import { collectionInterface, connectCollection, createCollection, paramsFromTemplate } from '../pipeline/chain/collection';
import { createProvider } from '../pipeline/chain/provider';
import { parseMintRequested, requestStruct } from '../pipeline/chain/request';
import { startAnvil } from '../pipeline/embedded/anvil';
import { fulfillmentDomain, signFulfillment } from '../pipeline/provenance/typed-data';
import { loadTemplate } from '../pipeline/template';

/** Batch sizes of `fulfillBatch` measured for gas per NFT. */
const BATCH_SIZES = [1, 2, 5, 10, 20, 50];
/** Ritual's prompt-to-nft: gas per NFT measured with their code, and the figure they publish. */
const RITUAL_PER_NFT = { measured: 491_454, published: 465_241 };

/**
 * Gas of the collection's hot paths on anvil: a 60-byte prompt, first-time minters, after one warm-up mint (so the
 * counters and the signer's earnings slot are already non-zero, as on any live collection).
 */
export async function run(): Promise<Record<string, unknown>> {
  const anvil = await startAnvil({ accounts: 2 + 2 + BATCH_SIZES.reduce((a, b) => a + b, 0) });
  try {
    const provider = createProvider(anvil.rpcUrl, 50);
    const [deployer, operator, ...collectors] = anvil.privateKeys.map((k) => new Wallet(k, provider));
    const template = loadTemplate('open-prompt');
    const price = BigInt(template.mint.priceWei);
    const prompt = toUtf8Bytes('a lighthouse on a basalt cliff at dawn, soft light, film gra'); // 60 bytes
    if (prompt.length !== 60) throw new Error(`bench prompt must be 60 bytes, is ${prompt.length}`);

    const impl = await new ContractFactory(abi, bytecode, deployer).deploy();
    await impl.waitForDeployment();
    const factoryContract = await new ContractFactory(factoryAbi, factoryBytecode, deployer).deploy(await impl.getAddress());
    const factoryDeploy = (await factoryContract.deploymentTransaction()!.wait())!.gasUsed;
    const implementationDeploy = (await impl.deploymentTransaction()!.wait())!.gasUsed;
    const factory = await factoryContract.getAddress();

    const params = paramsFromTemplate(template, deployer.address, operator.address);
    const created = await createCollection({ deployer, factory, params });
    const cloneReceipt = await provider.getTransactionReceipt((await provider.getBlock(created.blockNumber, true))!.transactions[0]);
    const cloneDeploy = cloneReceipt!.gasUsed;

    const collection = connectCollection(created.address, provider);
    const domain = fulfillmentDomain(anvil.chainId, created.address);
    const request = async (wallet: Wallet) => {
      const receipt = await (await collection.connect(wallet).getFunction('requestMint')(prompt, { value: price })).wait();
      const log = (receipt.logs as EventLog[]).find((l) => collectionInterface.parseLog(l)?.name === 'MintRequested')!;
      return { receipt, args: parseMintRequested(log) };
    };
    const fulfillment = async (r: Awaited<ReturnType<typeof request>>['args']) => {
      const values = {
        requestId: r.requestId,
        promptHash: r.promptHash,
        seed: r.seed,
        imageSha256: hexlify(randomBytes(32)),
        manifestId: hexlify(randomBytes(32)),
        modelHash: hexlify(randomBytes(32)),
      };
      return {
        requestId: r.requestId,
        request: requestStruct(r),
        manifestId: values.manifestId,
        imageSha256: values.imageSha256,
        modelHash: values.modelHash,
        signature: await signFulfillment(operator, domain, values),
      };
    };
    const sender = collection.connect(operator);

    // Warm-up: the first request ever also initialises the counters slot.
    const warm = await request(collectors[0]);
    await (await sender.getFunction('fulfill')(await fulfillment(warm.args))).wait();

    const single = await request(collectors[1]);
    const fulfillReceipt = await (await sender.getFunction('fulfill')(await fulfillment(single.args))).wait();

    // Gas per NFT (a first-time collector's requestMint + its share of one fulfillBatch) by batch size.
    let next = 2;
    const perNftByBatch: Record<string, number> = {};
    const batchPerToken: Record<string, number> = {};
    for (const size of BATCH_SIZES) {
      const batch = [];
      let requested = 0n;
      for (const wallet of collectors.slice(next, next + size)) {
        const r = await request(wallet);
        requested += r.receipt.gasUsed;
        batch.push(await fulfillment(r.args));
      }
      next += size;
      const receipt = await (await sender.getFunction('fulfillBatch')(batch)).wait();
      const minted = (receipt.logs as EventLog[]).filter((l) => collectionInterface.parseLog(l)?.name === 'MintFulfilled').length;
      if (minted !== size) throw new Error(`batch minted ${minted} of ${size}`);
      batchPerToken[size] = Math.round(Number(receipt.gasUsed) / size);
      perNftByBatch[size] = Math.round(Number(requested + receipt.gasUsed) / size);
    }

    const requestMint = Number(single.receipt.gasUsed);
    const fulfill = Number(fulfillReceipt.gasUsed);
    provider.destroy();
    return {
      bench: 'gas',
      requestMint,
      fulfill,
      requestPlusFulfill: requestMint + fulfill,
      fulfillBatch20PerToken: batchPerToken[20],
      /** requestMint + fulfillBatch share, per NFT, by batch size. */
      perNftByBatch,
      ritualPerNft: RITUAL_PER_NFT,
      cloneDeploy: Number(cloneDeploy),
      factoryDeploy: Number(factoryDeploy),
      implementationDeploy: Number(implementationDeploy),
    };
  } finally {
    await anvil.stop();
  }
}
