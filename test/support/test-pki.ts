// A test PKI for the transport suites, minted with src/pki/dev-pki.ts in a temp directory: the
// good certificates and every kind of bad one a mutual-TLS server must refuse.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueClientCert, issueServerCert, writePemPair } from '../../src/pki/dev-pki.js';
import type { PemPair } from '../../src/pki/dev-pki.js';

export interface TestPki {
  dir: string;
  ca: PemPair;
  /** A second, unrelated CA: its certificates must be refused unless it is in the bundle. */
  otherCa: PemPair;
  server: PemPair;
  client: PemPair;
  /** Valid chain, no extended key usage at all. */
  noEku: PemPair;
  /** Valid chain, EKU serverAuth only (OpenSSL itself refuses it for a client). */
  serverAuthEku: PemPair;
  expired: PemPair;
  /** Signed by otherCa. */
  foreign: PemPair;
  /** ca.crt + otherCa.crt: a bundle trusting an external CA too. */
  bundlePem: string;
  paths: { caCrt: string; serverCrt: string; serverKey: string; clientCrt: string; clientKey: string; bundle: string };
  cleanup(): void;
}

const DAY = 86_400_000;

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-pki-'));
  const ca = createCa({ cn: 'kmipd test CA' });
  const otherCa = createCa({ cn: 'external CA', o: 'elsewhere' });
  const server = issueServerCert({ ca });
  const client = issueClientCert({ ca, cn: 'array-01', o: 'kmipd', ou: 'storage' });
  // Key generation dominates: the bad certificates share one key.
  const reuseKey = client.key;
  const noEku = issueClientCert({ ca, cn: 'no-eku', eku: 'none', reuseKey });
  const serverAuthEku = issueClientCert({ ca, cn: 'server-eku', eku: 'serverAuth', reuseKey });
  const expired = issueClientCert({
    ca,
    cn: 'expired',
    reuseKey,
    notBefore: new Date(Date.now() - 30 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
  const foreign = issueClientCert({ ca: otherCa, cn: 'foreign', reuseKey });
  const caFiles = writePemPair(dir, 'ca', ca);
  const serverFiles = writePemPair(dir, 'server', server);
  const clientFiles = writePemPair(dir, 'client', client);
  const bundlePem = otherCa.cert + ca.cert;
  const bundle = join(dir, 'bundle.crt');
  writeFileSync(bundle, bundlePem);
  return {
    dir,
    ca,
    otherCa,
    server,
    client,
    noEku,
    serverAuthEku,
    expired,
    foreign,
    bundlePem,
    paths: {
      caCrt: caFiles.certPath,
      serverCrt: serverFiles.certPath,
      serverKey: serverFiles.keyPath,
      clientCrt: clientFiles.certPath,
      clientKey: clientFiles.keyPath,
      bundle,
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
