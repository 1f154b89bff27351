// The certificate facts cache (src/authz/certificate-facts.ts): one entry per certificate (by
// fingerprint), identical to reading the certificate afresh, frozen, bounded with the least
// recently used certificate evicted first.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertificateFactsCache, certificateFacts, readCertificateFacts } from '../../../src/authz/certificate-facts.js';
import { createCa, issueClientCert } from '../../../src/pki/dev-pki.js';

const ca = createCa({ cn: 'facts CA' });
const first = issueClientCert({ ca, cn: 'array-01', ou: 'storage', o: 'acme', sanUri: 'urn:acme:array-01' });
// Key generation dominates; the certificates differ in their names and serials, which is what the cache keys on.
const issue = (cn: string, eku?: 'clientAuth' | 'none'): string => issueClientCert({ ca, cn, ou: 'storage', reuseKey: first.key, ...(eku ? { eku } : {}) }).cert;

describe('certificate facts cache', () => {
  it('gives a certificate presented again (a new X509Certificate object each connection) the facts read the first time', () => {
    const cache = new CertificateFactsCache(4);
    const a = cache.get(new X509Certificate(first.cert));
    const b = cache.get(new X509Certificate(first.cert));
    expect(b).toBe(a);
    expect(a).toEqual(readCertificateFacts(new X509Certificate(first.cert)));
    expect(a).toMatchObject({ subject: 'O=acme,OU=storage,CN=array-01', cn: ['array-01'], sanUri: ['urn:acme:array-01'], extKeyUsage: ['1.3.6.1.5.5.7.3.2'] });
    expect(cache.size).toBe(1);
  });

  it('keeps certificates apart, even with the same key and subject', () => {
    const cache = new CertificateFactsCache(4);
    const twin = issueClientCert({ ca, cn: 'array-01', ou: 'storage', o: 'acme', sanUri: 'urn:acme:array-01', reuseKey: first.key, eku: 'none' }).cert;
    const a = cache.get(new X509Certificate(first.cert));
    const b = cache.get(new X509Certificate(twin));
    expect(b).not.toBe(a);
    expect(b.fingerprint).not.toBe(a.fingerprint);
    expect(b.extKeyUsage).toBeNull();
    expect(b.fingerprint).toBe(new X509Certificate(twin).fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('shares frozen facts: a caller cannot change what the next connection sees', () => {
    const facts = certificateFacts(new X509Certificate(first.cert));
    expect(Object.isFrozen(facts) && Object.isFrozen(facts.ou)).toBe(true);
    expect(() => facts.ou.push('admin')).toThrow(TypeError);
    expect(() => {
      (facts as { subject: string }).subject = 'CN=admin';
    }).toThrow(TypeError);
    expect(certificateFacts(new X509Certificate(first.cert)).ou).toEqual(['storage']);
  });

  it('holds at most its capacity, evicting the least recently used certificate', () => {
    const cache = new CertificateFactsCache(3);
    const certs = ['c1', 'c2', 'c3', 'c4'].map((cn) => issue(cn));
    const [c1, c2, c3, c4] = certs.map((pem) => () => new X509Certificate(pem));
    const f1 = cache.get(c1!());
    const f2 = cache.get(c2!());
    cache.get(c3!());
    expect(cache.get(c1!())).toBe(f1); // c1 is now the most recent; c2 the least
    cache.get(c4!());
    expect(cache.size).toBe(3);
    expect(cache.get(c1!())).toBe(f1);
    const f2again = cache.get(c2!()); // evicted: read afresh, equal but not the same object
    expect(f2again).not.toBe(f2);
    expect(f2again).toEqual(f2);
    expect(cache.size).toBe(3);
  });
});
