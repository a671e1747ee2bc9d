import type { EventLog } from 'ethers';
import type { DiffusionBackend } from '../../services/diffusion-gateway/backends/types';
import type { MintRequest } from '../../pipeline/chain/request';
import { type NodeFixture, startNodeFixture as startFixture } from '../../pipeline/embedded/node-fixture';
import { type CollectionTemplate, loadTemplate } from '../../pipeline/template';
import { requestMints } from './mint';

// The default template without moderation: these fixtures test the pipeline, and the classifier scores about one in a
// hundred of the procedural renderer's abstract images above its default porn threshold (0.7), which would end a
// request in a refund where a test counts mints. Moderation has its own tests (moderation*.test.ts).
const { moderation: _moderation, ...openPrompt } = loadTemplate('open-prompt');
export const template: CollectionTemplate = openPrompt;
export { PRICE } from './mint';
export type { NodeFixture };

/** anvil + arlocal + gateway + a private redis-server + a collection deployed from `template` (open-prompt by default), for node tests. */
export const startNodeFixture = ({
  backend,
  accounts,
  template: collectionTemplate = template,
}: { backend?: DiffusionBackend; accounts?: number; template?: CollectionTemplate } = {}): Promise<NodeFixture> =>
  startFixture({ template: collectionTemplate, backend, accounts });

/** Sends one requestMint per prompt from accounts 2…, round robin (accounts in parallel), and returns the requests in the order of `prompts`. */
export const sendRequests = (f: NodeFixture, prompts: string[]): Promise<MintRequest[]> =>
  requestMints(f.collection, f.stack.anvil.privateKeys.slice(2), prompts);

/** All events `name` of the collection since deployment. */
export async function events(f: NodeFixture, name: string): Promise<EventLog[]> {
  return (await f.collection.queryFilter(f.collection.filters[name](), f.deployBlock)) as EventLog[];
}
