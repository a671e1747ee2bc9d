import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

/** Files written by `createDevelopmentCredentials`, relative to its folder. */
export const DEV_CREDENTIAL_FILES = { ca: 'c2pa-dev-ca.pem', cert: 'c2pa-dev-cert.pem', key: 'c2pa-dev-key.pem' } as const;

const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** id-kp-emailProtection: one of the extended key usages C2PA accepts for a claim signer. */
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
/** id-kp-documentSigning (RFC 9336), the other. */
const DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';

/**
 * A local development CA and an ES256 leaf it issued, with the key usages C2PA requires of a claim signer
 * (digitalSignature, critical; emailProtection + documentSigning; not a CA). Both subjects say DEVELOPMENT ONLY: no
 * trust list includes this CA, so readers show the credentials as valid but untrusted. Writes the CA certificate,
 * the chain (leaf, then CA) and the leaf's PKCS#8 key (mode 0600) into `dir`; existing files are kept unless `force`.
 *
 * @example
 * const { certPath, keyPath } = await createDevelopmentCredentials({ dir: '.aigc/credentials' });
 */
export async function createDevelopmentCredentials({
  dir,
  force = false,
  days = 825,
}: {
  dir: string;
  force?: boolean;
  days?: number;
}): Promise<{ caPath: string; certPath: string; keyPath: string; created: boolean; subject: string }> {
  const caPath = path.join(dir, DEV_CREDENTIAL_FILES.ca);
  const certPath = path.join(dir, DEV_CREDENTIAL_FILES.cert);
  const keyPath = path.join(dir, DEV_CREDENTIAL_FILES.key);
  const subject = 'CN=aigc-nft node (DEVELOPMENT ONLY), O=aigc-nft development, OU=C2PA claim signer';
  if (!force && fs.existsSync(certPath) && fs.existsSync(keyPath)) return { caPath, certPath, keyPath, created: false, subject };

  x509.cryptoProvider.set(webcrypto as never);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const caKeys = await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify']);
  const leafKeys = await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify']);
  const serial = () =>
    Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1');
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=aigc-nft development CA (DEVELOPMENT ONLY), O=aigc-nft development',
    notBefore,
    notAfter,
    keys: caKeys as never,
    signingAlgorithm: ES256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as never),
    ],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey as never,
    signingKey: caKeys.privateKey as never,
    signingAlgorithm: ES256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([EMAIL_PROTECTION, DOCUMENT_SIGNING], false),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey as never)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(caPath, `${ca.toString('pem')}\n`);
  fs.writeFileSync(certPath, `${leaf.toString('pem')}\n${ca.toString('pem')}\n`);
  fs.writeFileSync(keyPath, keyPem, { mode: 0o600 });
  return { caPath, certPath, keyPath, created: true, subject };
}
