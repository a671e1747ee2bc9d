import { JsonRpcProvider, Wallet } from 'ethers';
import { deployFromTemplate } from '../../pipeline/chain/collection';
import { type Anvil, startAnvil } from '../../pipeline/embedded/anvil';
import { createClient } from '../../pipeline/sdk';
import { loadTemplate } from '../../pipeline/template';

// Users bring a plain `new JsonRpcProvider(url)`, whose 250 ms read cache hands the nonce of a just-mined
// transaction to the next one of the same sender ("nonce too low"). Deploying and minting must not depend on it.
jest.setTimeout(90_000);

let anvil: Anvil;
let provider: JsonRpcProvider;

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 3 });
  provider = new JsonRpcProvider(anvil.rpcUrl);
});
afterAll(async () => {
  provider?.destroy();
  await anvil?.stop();
});

test('deployFromTemplate and two requestMint calls in a row through a plain provider and Wallet', async () => {
  const [ownerKey, operatorKey, collectorKey] = anvil.privateKeys;
  const owner = new Wallet(ownerKey, provider);
  const template = loadTemplate('open-prompt');
  // Three transactions back to back: the implementation, the factory and the collection.
  const { address } = await deployFromTemplate({ deployer: owner, template, operator: new Wallet(operatorKey).address });

  const client = createClient({ collection: address, provider, signer: new Wallet(collectorKey, provider) });
  const first = await client.requestMint({ prompt: 'a lighthouse at dawn' });
  const second = await client.requestMint({ prompt: 'a fox in the snow' });
  expect(second.request.requestId).toBe(first.request.requestId + 1n);
  expect(second.txHash).not.toBe(first.txHash);
  // A second deployment by the same owner right after: its nonces follow the first's.
  const again = await deployFromTemplate({ deployer: owner, template, operator: new Wallet(operatorKey).address });
  expect(again.address).not.toBe(address);
  expect(await provider.getTransactionCount(owner.address, 'latest')).toBe(6);
});
