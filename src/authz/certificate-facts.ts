/**
 * What a binding rule can look at in a verified client certificate (RFC 5280 §4.1.2.4 subject,
 * §4.2.1.6 subjectAltName, the issuer DN, and the SHA-256 fingerprint), read with node's
 * X509Certificate. Distinguished names are written as node prints them, one RDN per line, joined
 * with commas in certificate order: `O=kmipd,OU=t1,CN=array-01`.
 */
import type { X509Certificate } from 'node:crypto';

/** Shared between connections presenting the same certificate (see certificateFacts): frozen. */
export interface CertificateFacts {
  /** The whole subject DN, one line per RDN joined with commas (dnText). */
  subject: string;
  /** Extended key usage OIDs; null when the certificate has no extendedKeyUsage extension. */
  extKeyUsage: string[] | null;
  cn: string[];
  ou: string[];
  o: string[];
  sanUri: string[];
  sanDns: string[];
  sanEmail: string[];
  issuer: string;
  fingerprint: string;
}

/** `KEY=value` lines of node's DN text; repeated attributes (two OUs) keep every value. */
function dnAttributes(dn: string): [string, string][] {
  return dn
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i).trim().toUpperCase(), l.slice(i + 1)];
    });
}

export function dnText(dn: string): string {
  return dn.split('\n').join(',');
}

/**
 * node's subjectAltName text: `DNS:a, URI:urn:x, email:e@f`; entries holding a comma or quote
 * are written as JSON strings (`URI:"urn:a,b"`).
 */
export function parseSubjectAltName(text: string | undefined): [string, string][] {
  const out: [string, string][] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      // A JSON string: find its closing quote, skipping escapes.
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      next = text.indexOf(',', j + 1);
    } else {
      next = text.indexOf(', ', colon + 1);
      value = text.slice(colon + 1, next < 0 ? undefined : next);
    }
    out.push([type, value]);
    if (next < 0) break;
    i = next + 1;
    while (text[i] === ' ') i++;
  }
  return out;
}

export function normaliseFingerprint(fp: string): string {
  return fp.replace(/[:\s]/g, '').toLowerCase();
}

/**
 * Facts of the certificates seen recently, by SHA-256 fingerprint (node's colon form, which the
 * X509Certificate object computes once and keeps). Every connection of an appliance presents the
 * same certificate, and reading its subject, SANs and issuer crosses into OpenSSL and reparses
 * text each time (~110 µs of a connection in a profile of 16 clients reconnecting). The facts are
 * a function of the certificate's bytes alone, which the fingerprint identifies, so an entry never
 * goes stale: revocations and binding changes are applied to the facts by the caller
 * (access-control.ts), not kept here. Bounded, least recently used out first; entries are frozen
 * because every connection with that certificate shares them.
 */
export class CertificateFactsCache {
  readonly #entries = new Map<string, CertificateFacts>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(cert: X509Certificate): CertificateFacts {
    const key = cert.fingerprint256;
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Re-inserting moves the entry to the end of the Map's order: the least recent is first.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const facts = freezeFacts(readCertificateFacts(cert));
    this.#entries.set(key, facts);
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return facts;
  }
}

/** Distinct client certificates whose facts the process keeps (a deployment has a few hundred at most). */
export const FACTS_CACHE_SIZE = 1024;
const shared = new CertificateFactsCache(FACTS_CACHE_SIZE);

/** The facts of a verified client certificate (cached, see CertificateFactsCache). */
export function certificateFacts(cert: X509Certificate): CertificateFacts {
  return shared.get(cert);
}

function freezeFacts(f: CertificateFacts): CertificateFacts {
  for (const list of [f.cn, f.ou, f.o, f.sanUri, f.sanDns, f.sanEmail, f.extKeyUsage ?? []]) Object.freeze(list);
  return Object.freeze(f);
}

/** Reads the facts from the certificate, uncached. */
export function readCertificateFacts(cert: X509Certificate): CertificateFacts {
  const subject = dnAttributes(cert.subject);
  const pick = (key: string): string[] => subject.filter(([k]) => k === key).map(([, v]) => v);
  const san = parseSubjectAltName(cert.subjectAltName);
  const sanPick = (type: string): string[] => san.filter(([t]) => t === type).map(([, v]) => v);
  // X509Certificate.keyUsage holds the extended key usage OIDs (undefined when absent).
  const eku = cert.keyUsage as string[] | undefined;
  return {
    subject: dnText(cert.subject),
    extKeyUsage: eku === undefined ? null : [...eku],
    cn: pick('CN'),
    ou: pick('OU'),
    o: pick('O'),
    sanUri: sanPick('URI'),
    sanDns: sanPick('DNS'),
    sanEmail: sanPick('email'),
    issuer: dnText(cert.issuer),
    fingerprint: normaliseFingerprint(cert.fingerprint256),
  };
}
