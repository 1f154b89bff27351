/**
 * A development PKI for mutual TLS (RFC 5280 profiles): a self-signed CA, a server certificate
 * for the loopback names, and client certificates with the clientAuth extended key usage that
 * KMIP clients present (KMIP Profiles, "Authentication Suites": TLS with client certificates).
 *
 * Node can parse certificates but not issue them, so node-forge builds and signs them; key pairs
 * come from node's own generator, which is far faster than forge's. The options are deliberately
 * loose (any validity window, any or no EKU, any issuer) so tests can mint the bad certificates a
 * server has to refuse. Production deployments should use the site's own CA.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

export type EkuChoice = 'clientAuth' | 'serverAuth' | 'none';

interface ValidityOptions {
  /** Validity in days from now; ignored when notAfter is given. */
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
}

export interface CaOptions extends ValidityOptions {
  cn?: string;
  o?: string;
  keyBits?: number;
}

export interface ServerCertOptions extends ValidityOptions {
  ca: PemPair;
  cn?: string;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  keyBits?: number;
}

export interface ClientCertOptions extends ValidityOptions {
  ca: PemPair;
  cn: string;
  ou?: string;
  o?: string;
  /** A URI subject alternative name, e.g. a role or tenant (`urn:kmipd:role:admin`). */
  sanUri?: string;
  eku?: EkuChoice;
  keyBits?: number;
  /** Reuse this private key (PEM) instead of generating one: key generation dominates test set-up. */
  reuseKey?: string;
}

/** Backdating absorbs clock skew between the server and appliances that just received a cert. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 86_400_000;
const DEFAULT_KEY_BITS = 2048;

function generateRsaKey(bits: number): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

function publicPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

/** 128 random bits, positive (top bit clear) and without a leading zero octet, as RFC 5280 §4.1.2.2 asks. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

function validity(opts: ValidityOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now + (opts.days ?? defaultDays) * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) throw new Error('dev-pki: notAfter must be later than notBefore');
  return { notBefore, notAfter };
}

function subjectAttrs(cn: string, o?: string, ou?: string): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  if (o !== undefined) attrs.push({ shortName: 'O', value: o });
  if (ou !== undefined) attrs.push({ shortName: 'OU', value: ou });
  attrs.push({ shortName: 'CN', value: cn });
  return attrs;
}

interface BuildOptions {
  subject: forge.pki.CertificateField[];
  publicKeyPem: string;
  notBefore: Date;
  notAfter: Date;
  extensions: object[];
  /** Absent for a self-signed certificate. */
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  selfKey?: forge.pki.rsa.PrivateKey;
}

function build(opts: BuildOptions): string {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = randomSerial();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.publicKeyPem);
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  cert.setSubject(opts.subject);
  const extensions: object[] = [...opts.extensions, { name: 'subjectKeyIdentifier' }];
  if (opts.issuer) {
    cert.setIssuer(opts.issuer.cert.subject.attributes);
    extensions.push({
      name: 'authorityKeyIdentifier',
      keyIdentifier: opts.issuer.cert.generateSubjectKeyIdentifier().getBytes(),
    });
  } else {
    cert.setIssuer(opts.subject);
  }
  cert.setExtensions(extensions);
  const signer = opts.issuer?.key ?? opts.selfKey;
  if (!signer) throw new Error('dev-pki: no signing key');
  cert.sign(signer, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function parseIssuer(ca: PemPair): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  return { cert: forge.pki.certificateFromPem(ca.cert), key: forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey };
}

/** A self-signed CA that may sign end-entity certificates only (pathLenConstraint 0). */
export function createCa(opts: CaOptions = {}): PemPair {
  const key = generateRsaKey(opts.keyBits ?? DEFAULT_KEY_BITS);
  const { notBefore, notAfter } = validity(opts, 3650);
  const cert = build({
    subject: subjectAttrs(opts.cn ?? 'kmipd development CA', opts.o ?? 'kmipd'),
    publicKeyPem: publicPemOf(key),
    notBefore,
    notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
    selfKey: forge.pki.privateKeyFromPem(key) as forge.pki.rsa.PrivateKey,
  });
  return { cert, key };
}

/** The KMIP server's certificate: serverAuth, names clients connect to as SANs. */
export function issueServerCert(opts: ServerCertOptions): PemPair {
  const key = generateRsaKey(opts.keyBits ?? DEFAULT_KEY_BITS);
  const { notBefore, notAfter } = validity(opts, 825);
  const dnsNames = opts.dnsNames ?? ['localhost'];
  const ipAddresses = opts.ipAddresses ?? ['127.0.0.1', '::1'];
  const altNames = [...dnsNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))];
  const cert = build({
    subject: subjectAttrs(opts.cn ?? dnsNames[0] ?? 'kmipd', 'kmipd'),
    publicKeyPem: publicPemOf(key),
    notBefore,
    notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      // keyEncipherment: static-RSA key exchange, offered only with legacyCiphers, needs it.
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    issuer: parseIssuer(opts.ca),
  });
  return { cert, key };
}

/** A client certificate as an appliance would present it; `eku` lets tests make wrong ones. */
export function issueClientCert(opts: ClientCertOptions): PemPair {
  const key = opts.reuseKey ?? generateRsaKey(opts.keyBits ?? DEFAULT_KEY_BITS);
  const { notBefore, notAfter } = validity(opts, 825);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ];
  const eku = opts.eku ?? 'clientAuth';
  if (eku === 'clientAuth') extensions.push({ name: 'extKeyUsage', clientAuth: true });
  if (eku === 'serverAuth') extensions.push({ name: 'extKeyUsage', serverAuth: true });
  if (opts.sanUri !== undefined) extensions.push({ name: 'subjectAltName', altNames: [{ type: 6, value: opts.sanUri }] });
  const cert = build({
    subject: subjectAttrs(opts.cn, opts.o, opts.ou),
    publicKeyPem: publicPemOf(key),
    notBefore,
    notAfter,
    extensions,
    issuer: parseIssuer(opts.ca),
  });
  return { cert, key };
}

export interface WrittenPair {
  certPath: string;
  keyPath: string;
}

/**
 * Writes `<name>.crt` (0644) and `<name>.key` (0600) into `dir`. Refuses to replace existing
 * files: silently overwriting a CA key would orphan every certificate it issued.
 */
export function writePemPair(dir: string, name: string, pair: PemPair): WrittenPair {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  writeFileSync(keyPath, pair.key, { mode: 0o600, flag: 'wx' });
  // The mode given at creation is filtered by the umask; set it exactly.
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, pair.cert, { mode: 0o644, flag: 'wx' });
  chmodSync(certPath, 0o644);
  return { certPath, keyPath };
}
