/**
 * Client certificates for appliances (K7; RFC 5280 profile, RFC 2986 CSRs, RFC 7292 PKCS#12):
 * issue a key pair and certificate, or sign an appliance's own CSR so its private key never
 * leaves it. Every certificate gets the clientAuth extended key usage (PyKMIP and many
 * appliances refuse a client certificate without it) and is never a CA.
 *
 * node-forge builds and signs (node cannot); key pairs come from node's generator. forge only
 * handles RSA, so CSRs with EC keys are refused with a clear message (STACK.md).
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { issueClientCert, type PemPair } from '../pki/dev-pki.js';
import { dnText, normaliseFingerprint } from './certificate-facts.js';

const DAY_MS = 86_400_000;
/** Backdating absorbs clock skew on appliances that just received the certificate. */
const BACKDATE_MS = 5 * 60 * 1000;

export interface IssuedCertificate {
  cert: string;
  /** Absent when a CSR was signed: the appliance keeps its key. */
  key?: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

export function describeCertificate(pem: string): Omit<IssuedCertificate, 'cert' | 'key'> {
  const x = new X509Certificate(pem);
  return {
    fingerprint: normaliseFingerprint(x.fingerprint256),
    subject: dnText(x.subject),
    issuer: dnText(x.issuer),
    serial: x.serialNumber.toLowerCase(),
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
  };
}

export interface IssueOptions {
  ca: PemPair;
  name: string;
  tenant: string;
  days: number;
}

/** A new key pair and certificate: CN=name, OU=tenant, O=kmipd, clientAuth. */
export function issueCertificate(opts: IssueOptions): IssuedCertificate {
  const pair = issueClientCert({ ca: opts.ca, cn: opts.name, ou: opts.tenant, o: 'kmipd', days: opts.days });
  return { cert: pair.cert, key: pair.key, ...describeCertificate(pair.cert) };
}

export interface SignCsrOptions {
  ca: PemPair;
  csrPem: string;
  /** Used as CN when the CSR's subject has none. */
  name: string;
  days: number;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

/** The SAN entries worth keeping from a CSR: DNS (2), URI (6), email (1); never IPs or others. */
function requestedAltNames(csr: forge.pki.CertificateSigningRequest): { type: number; value: string }[] {
  const ext = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: { name: string; altNames?: { type: number; value: string }[] }[] } | null;
  const san = ext?.extensions?.find((e) => e.name === 'subjectAltName');
  return (san?.altNames ?? []).filter((a) => a.type === 1 || a.type === 2 || a.type === 6).map((a) => ({ type: a.type, value: a.value }));
}

/**
 * Signs a CSR: its subject and its DNS/URI/email SANs are kept; every other requested extension
 * (a CA flag, key usages) is ignored, the server decides those.
 */
export function signCsr(opts: SignCsrOptions): IssuedCertificate {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(opts.csrPem);
  } catch (err) {
    throw new Error(`cannot read the CSR (only RSA keys are supported): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!csr.verify()) throw new Error('the CSR signature does not verify: it was not made with the key it carries');
  if (csr.publicKey === null) throw new Error('the CSR carries no public key');
  const caCert = forge.pki.certificateFromPem(opts.ca.cert);
  const caKey = forge.pki.privateKeyFromPem(opts.ca.key);
  const cert = forge.pki.createCertificate();
  cert.serialNumber = randomSerial();
  cert.publicKey = csr.publicKey;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + opts.days * DAY_MS);
  const subject = csr.subject.attributes.length > 0 ? csr.subject.attributes : [];
  if (!subject.some((a) => a.shortName === 'CN')) subject.push({ shortName: 'CN', value: opts.name } as forge.pki.CertificateField);
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  const alt = requestedAltNames(csr);
  if (alt.length > 0) extensions.push({ name: 'subjectAltName', altNames: alt });
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { cert: pem, ...describeCertificate(pem) };
}

/** A PKCS#12 bundle (key, certificate, CA) for appliances that import one file; 3DES for their sake. */
export function pkcs12Bundle(pair: { cert: string; key: string }, caCert: string, password: string, friendlyName: string): Buffer {
  const key = forge.pki.privateKeyFromPem(pair.key);
  const chain = [forge.pki.certificateFromPem(pair.cert), forge.pki.certificateFromPem(caCert)];
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, chain, password, { algorithm: '3des', friendlyName });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** A password for a PKCS#12 bundle: 144 random bits, printable. */
export function generateBundlePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A test-and-tooling helper: a CSR as an appliance would make it (RSA). */
export function makeCsr(opts: { keyPem: string; cn: string; ou?: string; o?: string; sanUri?: string; sanDns?: string }): string {
  const key = forge.pki.privateKeyFromPem(opts.keyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  const subject: forge.pki.CertificateField[] = [];
  if (opts.o !== undefined) subject.push({ shortName: 'O', value: opts.o });
  if (opts.ou !== undefined) subject.push({ shortName: 'OU', value: opts.ou });
  subject.push({ shortName: 'CN', value: opts.cn });
  csr.setSubject(subject);
  const alt: { type: number; value: string }[] = [];
  if (opts.sanUri !== undefined) alt.push({ type: 6, value: opts.sanUri });
  if (opts.sanDns !== undefined) alt.push({ type: 2, value: opts.sanDns });
  if (alt.length > 0) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: alt }] }]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
