import { ContractFactory, type EventLog, hexlify, randomBytes, toUtf8Bytes, Wallet } from 'ethers';
import { abi, bytecode } from '../pipeline/chain/artifacts/AIGCCollection';
import { abi as factoryAbi, bytecode as factoryBytecode } from '../pipeline/chain/artifacts/CollectionFactory';
import { collectionInterface, connectCollection, createCollection, paramsFromTemplate } from '../pipeline/chain/collection';
import { createProvider } from '../pipeline/chain/provider';
import { parseMintRequested, requestStruct } from '../pipeline/chain/request';
import { startAnvil } from '../pipeline/embedded/anvil';
import { fulfillmentDomain, signFulfillment } from '../pipeline/provenance/typed-data';
import { loadTemplate } from '../pipeline/template';

/**
 * Gas of the collection's hot paths on anvil: a 60-byte prompt, first-time minters, after one warm-up mint (so the
 * counters and the signer's earnings slot are already non-zero, as on any live collection).
 */
export async function run(): Promise<Record<string, unknown>> {
  const anvil = await startAnvil({ accounts: 30 });
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

    const batch = [];
    for (const wallet of collectors.slice(2, 22)) batch.push(await fulfillment((await request(wallet)).args));
    const batchReceipt = await (await sender.getFunction('fulfillBatch')(batch)).wait();
    const minted = (batchReceipt.logs as EventLog[]).filter((l) => collectionInterface.parseLog(l)?.name === 'MintFulfilled').length;
    if (minted !== 20) throw new Error(`batch minted ${minted} of 20`);

    const requestMint = Number(single.receipt.gasUsed);
    const fulfill = Number(fulfillReceipt.gasUsed);
    provider.destroy();
    return {
      bench: 'gas',
      requestMint,
      fulfill,
      requestPlusFulfill: requestMint + fulfill,
      fulfillBatch20PerToken: Math.round(Number(batchReceipt.gasUsed) / 20),
      cloneDeploy: Number(cloneDeploy),
      factoryDeploy: Number(factoryDeploy),
      implementationDeploy: Number(implementationDeploy),
    };
  } finally {
    await anvil.stop();
  }
}
