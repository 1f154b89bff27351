/**
 * The TLS policy of the KMIP listener (KMIP 1.4 §10 "Transport": TLS with mutual
 * authentication; KMIP Profiles, "Authentication Suites"). Protocol floor, cipher suites, session
 * resumption, and the files they come from.
 *
 * Default suites are forward-secret AEAD only: TLS 1.3, and TLS 1.2 with ECDHE plus AES-GCM or
 * ChaCha20-Poly1305. `legacyCiphers` appends, after them, exactly these TLS 1.2 suites for
 * appliances whose firmware predates AEAD (KMIP Profiles 1.x suites list RSA AES-CBC ones):
 *   ECDHE with CBC:     ECDHE-ECDSA-AES128-SHA256  ECDHE-RSA-AES128-SHA256
 *                       ECDHE-ECDSA-AES256-SHA384  ECDHE-RSA-AES256-SHA384
 *                       ECDHE-ECDSA-AES128-SHA     ECDHE-RSA-AES128-SHA
 *                       ECDHE-ECDSA-AES256-SHA     ECDHE-RSA-AES256-SHA
 *   static RSA, CBC:    AES128-SHA256 (TLS_RSA_WITH_AES_128_CBC_SHA256)
 *                       AES256-SHA256 (TLS_RSA_WITH_AES_256_CBC_SHA256)
 *                       AES128-SHA    (TLS_RSA_WITH_AES_128_CBC_SHA)
 *                       AES256-SHA    (TLS_RSA_WITH_AES_256_CBC_SHA)
 * The server's order wins (honorCipherOrder), so a client offering both gets an AEAD suite.
 * TLS 1.0/1.1 stay refused even in legacy mode: no cipher choice makes them acceptable.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { resolvePath } from '../config/config.js';
import type { TlsConfig } from '../config/config.js';

export const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

export const TLS12_AEAD_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

export const TLS12_LEGACY_SUITES = [
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
] as const;

/** OpenSSL cipher string; node routes the `TLS_` names to the TLS 1.3 suite list. */
export function cipherList(legacyCiphers: boolean): string {
  return [...TLS13_SUITES, ...TLS12_AEAD_SUITES, ...(legacyCiphers ? TLS12_LEGACY_SUITES : [])].join(':');
}

/**
 * How long a TLS session (ticket) may be resumed. Resumption skips certificate verification, so
 * this bounds how long a client whose certificate has since expired can keep reconnecting.
 */
export const SESSION_TIMEOUT_SECONDS = 300;

/** The PEM inputs of the server context, already read. */
export interface TlsMaterial {
  /** CA bundle: may hold several CAs (ours and external ones), all trusted for client certificates. */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readPem(dir: string, field: string, p: string): Buffer {
  const file = resolvePath(dir, p);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`tls.${field}: cannot read ${file}: ${(err as Error).message}`);
  }
}

export function readTlsMaterial(dir: string, tls: Pick<TlsConfig, 'ca' | 'cert' | 'key'>): TlsMaterial {
  const material = { ca: readPem(dir, 'ca', tls.ca), cert: readPem(dir, 'cert', tls.cert), key: readPem(dir, 'key', tls.key) };
  try {
    new X509Certificate(material.cert);
  } catch (err) {
    throw new Error(`tls.cert: ${resolvePath(dir, tls.cert)} is not a PEM certificate: ${(err as Error).message}`);
  }
  return material;
}

/** Days until the server certificate expires (negative once expired), for a start-up warning. */
export function serverCertDaysLeft(material: TlsMaterial, now = Date.now()): number {
  const cert = new X509Certificate(material.cert);
  return Math.floor((Date.parse(cert.validTo) - now) / 86_400_000);
}

export interface TlsPolicy {
  legacyCiphers: boolean;
  requireClientAuthEku: boolean;
  handshakeTimeoutMs: number;
  /**
   * Session ticket keys (48 bytes) shared by several server processes behind one address, so a
   * client can resume with any of them. Default: random per process.
   */
  ticketKeys?: Buffer;
}

/**
 * The TLS session id context: OpenSSL resumes a session only into a context with the same value.
 * A resumed session skips certificate verification, so the value is derived from everything
 * that decides whether a client is accepted (trusted CAs, EKU rule): a session established under
 * another trust configuration (a CA since removed, shared ticket keys) gets a full handshake.
 */
export function sessionIdContext(material: TlsMaterial, policy: Pick<TlsPolicy, 'requireClientAuthEku'>): string {
  return createHash('sha256')
    .update(material.ca)
    .update(policy.requireClientAuthEku ? 'eku:clientAuth' : 'eku:any')
    .digest('hex')
    .slice(0, 32);
}

/**
 * Options for the one `tls.Server` (and so the one secure context) of the listener.
 *
 * `rejectUnauthorized` is false on purpose, although unverified clients are always refused:
 * OpenSSL still verifies every client chain against `ca`, but with `true` node destroys a
 * failing socket inside its handshake code before any event carries the peer address, so the
 * handshake-failure log line could not say who failed or why. The listener instead refuses in
 * its `secureConnection` handler, before a session exists or a byte is read (see listener.ts).
 */
export function tlsServerOptions(material: TlsMaterial, policy: TlsPolicy): TlsOptions {
  return {
    ca: material.ca,
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: cipherList(policy.legacyCiphers),
    honorCipherOrder: true,
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: policy.handshakeTimeoutMs,
    sessionTimeout: SESSION_TIMEOUT_SECONDS,
    sessionIdContext: sessionIdContext(material, policy),
    ...(policy.ticketKeys ? { ticketKeys: policy.ticketKeys } : {}),
  };
}
