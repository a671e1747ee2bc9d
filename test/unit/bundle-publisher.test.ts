import { randomBytes } from 'node:crypto';
import { Bundle } from 'arbundles';
import { Wallet } from 'ethers';
import { AigcError } from '../../pipeline/errors';
import type { ArweaveStore } from '../../pipeline/storage/arweave';
import { createBundlePublisher, ethereumItemSigner, signItem } from '../../pipeline/storage/bundle';
import { sleep, until } from '../helpers/wait';

// The group-commit logic against a store whose uploads finish when the test says so.
const signer = ethereumItemSigner(Wallet.createRandom().privateKey);
type Upload = { ids: string[]; tags: Record<string, string>; finish(error?: Error): void };

function heldStore() {
  const uploads: Upload[] = [];
  const store = {
    upload: (data: Uint8Array, tags: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const ids = new Bundle(Buffer.from(data)).items.map((i) => i.id);
        const name = `bundle-${uploads.length + 1}`;
        uploads.push({ ids, tags, finish: (error) => (error ? reject(error) : resolve(name)) });
      }),
  } as unknown as ArweaveStore;
  return { store, uploads };
}

const item = async (bytes = 100) => signItem(signer, randomBytes(bytes), { Test: 'yes' });

describe('bundle publisher (group commit)', () => {
  it('with one upload at a time, puts everything that arrives during an upload into the next bundle', async () => {
    const { store, uploads } = heldStore();
    const publisher = createBundlePublisher({ store, signer, tags: { 'App-Name': 'test' }, windowMs: 5 });
    const [a, b, c] = await Promise.all([item(), item(), item()]);
    const first = publisher.publish([a.raw]);
    await until('upload 1', () => uploads.length === 1, 1_000, 2);
    const second = publisher.publish([b.raw]);
    const third = publisher.publish([c.raw]);
    await sleep(30); // checks that nothing happens: no upload starts while the first is busy
    expect(uploads).toHaveLength(1); // still busy: b and c wait
    uploads[0].finish();
    expect(await first).toBe('bundle-1');
    await until('upload 2', () => uploads.length === 2, 1_000, 2);
    expect(uploads[1].ids).toEqual([b.id, c.id]);
    expect(uploads[1].tags).toMatchObject({ 'Bundle-Format': 'binary', 'Bundle-Version': '2.0.0', 'App-Name': 'test', Type: 'bundle' });
    uploads[1].finish();
    expect(await Promise.all([second, third])).toEqual(['bundle-2', 'bundle-2']);
  });

  it('with two upload slots, starts a second bundle while the first is in flight', async () => {
    const { store, uploads } = heldStore();
    const publisher = createBundlePublisher({ store, signer, tags: {}, windowMs: 5, uploads: 2 });
    const [a, b, c] = await Promise.all([item(), item(), item()]);
    const first = publisher.publish([a.raw]);
    await until('upload 1', () => uploads.length === 1, 1_000, 2);
    const second = publisher.publish([b.raw]);
    await until('upload 2', () => uploads.length === 2, 1_000, 2);
    const third = publisher.publish([c.raw]);
    await sleep(30); // checks that nothing happens: no third upload while both slots are busy
    expect(uploads).toHaveLength(2); // both slots busy
    uploads[1].finish();
    expect(await second).toBe('bundle-2');
    await until('upload 3', () => uploads.length === 3, 1_000, 2);
    expect(uploads[2].ids).toEqual([c.id]);
    uploads[0].finish();
    uploads[2].finish();
    expect(await Promise.all([first, third])).toEqual(['bundle-1', 'bundle-3']);
  });

  it('splits at maxBytes and fails only the requests of a bundle whose upload failed', async () => {
    const { store, uploads } = heldStore();
    const publisher = createBundlePublisher({ store, signer, tags: {}, windowMs: 5, maxBytes: 3_000 });
    const [a, b] = await Promise.all([item(2_000), item(2_000)]);
    const first = publisher.publish([a.raw]);
    const second = publisher.publish([b.raw]);
    await until('upload 1', () => uploads.length === 1, 1_000, 2);
    expect(uploads[0].ids).toEqual([a.id]);
    uploads[0].finish(new Error('gateway 502'));
    await expect(first).rejects.toMatchObject({ code: 'ARWEAVE_FAILED', retryable: true });
    await expect(first).rejects.toBeInstanceOf(AigcError);
    await until('upload 2', () => uploads.length === 2, 1_000, 2);
    expect(uploads[1].ids).toEqual([b.id]);
    uploads[1].finish();
    expect(await second).toBe('bundle-2');
  });
});
