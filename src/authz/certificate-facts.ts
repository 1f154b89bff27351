/**
 * What a binding rule can look at in a verified client certificate (RFC 5280 §4.1.2.4 subject,
 * §4.2.1.6 subjectAltName, the issuer DN, and the SHA-256 fingerprint), read with node's
 * X509Certificate. Distinguished names are written as node prints them, one RDN per line, joined
 * with commas in certificate order: `O=kmipd,OU=t1,CN=array-01`.
 */
import type { X509Certificate } from 'node:crypto';

export interface CertificateFacts {
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

export function certificateFacts(cert: X509Certificate): CertificateFacts {
  const subject = dnAttributes(cert.subject);
  const pick = (key: string): string[] => subject.filter(([k]) => k === key).map(([, v]) => v);
  const san = parseSubjectAltName(cert.subjectAltName);
  const sanPick = (type: string): string[] => san.filter(([t]) => t === type).map(([, v]) => v);
  return {
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
