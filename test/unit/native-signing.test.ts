import { signsNatively } from '../../pipeline/crypto/sign-digest';
import { nativeSigning, StartupRefusal } from '../../pipeline/startup/checks';

describe('native signing start-up check', () => {
  it('passes where the libsecp256k1 binding loads (this machine)', async () => {
    expect(signsNatively()).toBe(true);
    await expect(nativeSigning().check()).resolves.toBeUndefined();
  });

  it('refuses to start on the JavaScript fallback, saying how to rebuild the binding', async () => {
    const refusal = await nativeSigning(() => false)
      .check()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refusal).toBeInstanceOf(StartupRefusal);
    expect((refusal as StartupRefusal).code).toBe('CONFIG_INVALID');
    expect((refusal as Error).message).toMatch(/npm rebuild secp256k1/);
  });
});
