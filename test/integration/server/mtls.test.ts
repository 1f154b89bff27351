// Mutual TLS admission of the KMIP listener (KMIP 1.4 §10, KMIP Profiles "Authentication Suites"):
// only clients with a certificate from a trusted CA, valid now, carrying clientAuth, over TLS 1.2+
// with an acceptable cipher, reach the executor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoExecutor } from '../../support/test-executors.js';
import { attempt, rawTls, startTestServer } from '../../support/kmip-test-server.js';
import type { TestServer } from '../../support/kmip-test-server.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { testMessage } from '../../support/ttlv-messages.js';
import { randomBytes } from 'node:crypto';
import { createServer as createTlsServer } from 'node:tls';
import type { PemPair } from '../../../src/pki/dev-pki.js';
import type { AddressInfo } from 'node:net';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());

function failures(t: TestServer, reason: string): number {
  return t.metrics.render().split('\n').filter((l) => l.startsWith(`kmipd_tls_handshake_failures_total{reason="${reason}"}`)).map((l) => Number(l.split(' ')[1]))[0] ?? 0;
}

describe('mutual TLS', () => {
  let t: TestServer;
  const executor = echoExecutor();
  beforeAll(async () => {
    t = await startTestServer({ pki, executor });
  });
  afterAll(() => t.close());

  it('answers a client with a valid certificate and hands the executor its principal', async () => {
    const c = await t.client();
    const msg = testMessage(40);
    const reply = await c.send(msg);
    expect(reply.equals(msg)).toBe(true);
    expect(c.tlsVersion).toBe('TLSv1.3');
    const conn = executor.connections.at(-1)!;
    expect(conn.principal.subject).toBe('O=kmipd,OU=storage,CN=array-01');
    expect(conn.principal.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(conn.principal.fingerprint).toBe(conn.principal.certificate.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(conn.remoteAddress).toBe('127.0.0.1');
    await c.close();
    const open = t.logs.find((l) => l.msg === 'connection open' && l.conn === conn.id);
    expect(open).toMatchObject({ level: 'info', subject: 'O=kmipd,OU=storage,CN=array-01', fingerprint: conn.principal.fingerprint, tlsVersion: 'TLSv1.3' });
    expect(typeof open?.cipher).toBe('string');
  });

  it('refuses a client without a certificate', async () => {
    const before = executor.calls;
    const o = await attempt(t.port, pki, {}, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'no_client_cert')).toBeGreaterThanOrEqual(1);
    expect(executor.calls).toBe(before);
  });

  it('refuses a TLS 1.2 client without a certificate', async () => {
    const n = failures(t, 'no_client_cert');
    const o = await attempt(t.port, pki, { maxVersion: 'TLSv1.2' }, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'no_client_cert')).toBe(n + 1);
  });

  it('refuses a certificate from another CA, and logs who it was', async () => {
    const o = await attempt(t.port, pki, { cert: pki.foreign.cert, key: pki.foreign.key }, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'cert_untrusted')).toBe(1);
    const line = t.logs.find((l) => l.msg === 'tls handshake failed' && l.reason === 'cert_untrusted');
    expect(line).toMatchObject({ subject: 'CN=foreign', remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  });

  it('refuses an expired certificate', async () => {
    const o = await attempt(t.port, pki, { cert: pki.expired.cert, key: pki.expired.key }, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'cert_expired')).toBe(1);
  });

  it('refuses a certificate without the clientAuth EKU', async () => {
    const o = await attempt(t.port, pki, { cert: pki.noEku.cert, key: pki.noEku.key }, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'client_eku')).toBe(1);
    expect(t.logs.find((l) => l.reason === 'client_eku')).toMatchObject({ subject: 'CN=no-eku', detail: 'no extendedKeyUsage' });
  });

  it('refuses a certificate whose EKU is serverAuth only', async () => {
    const o = await attempt(t.port, pki, { cert: pki.serverAuthEku.cert, key: pki.serverAuthEku.key }, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'cert_purpose')).toBe(1);
  });

  it('refuses TLS 1.1 (and the client really offered TLS 1.1: a permissive server accepts it)', async () => {
    const tls11 = { cert: pki.client.cert, key: pki.client.key, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
    const o = await attempt(t.port, pki, tls11, testMessage(8));
    expect(o.answered).toBe(false);
    expect(failures(t, 'protocol_version')).toBe(1);

    // Control: the same client options work against a server that allows TLS 1.1.
    const permissive = createTlsServer({ key: pki.server.key, cert: pki.server.cert, minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.pipe(s));
    await new Promise<void>((r) => permissive.listen(0, '127.0.0.1', r));
    const ok = await attempt((permissive.address() as AddressInfo).port, pki, tls11, testMessage(8));
    permissive.close();
    expect(ok.answered).toBe(true);
  });

  it('refuses a client that offers only CBC suites', async () => {
    for (const ciphers of ['ECDHE-RSA-AES128-SHA', 'AES128-SHA']) {
      const o = await attempt(t.port, pki, { cert: pki.client.cert, key: pki.client.key, maxVersion: 'TLSv1.2', ciphers }, testMessage(8));
      expect(o.answered, ciphers).toBe(false);
    }
    expect(failures(t, 'no_shared_cipher')).toBe(2);
  });

  it('negotiates an AEAD suite with a TLS 1.2 client', async () => {
    const s = await rawTls(t.port, pki, { cert: pki.client.cert, key: pki.client.key, maxVersion: 'TLSv1.2' });
    expect(s.getProtocol()).toBe('TLSv1.2');
    expect(s.getCipher().name).toMatch(/^ECDHE-RSA-(AES\d+-GCM|CHACHA20-POLY1305)/);
    s.destroy();
  });

  it('resumes TLS sessions and still knows the principal', async () => {
    const first = await t.client();
    await first.send(testMessage(8)); // TLS 1.3 tickets arrive after the handshake
    const session = first.session;
    await first.close();
    expect(session).toBeDefined();
    const second = await t.client(pki.client, { session });
    await second.send(testMessage(8));
    expect(second.sessionReused).toBe(true);
    expect(executor.connections.at(-1)!.principal.subject).toBe('O=kmipd,OU=storage,CN=array-01');
    await second.close();
  });
});

describe('session resumption does not bypass client authentication', () => {
  // Two servers sharing ticket keys (as processes behind one address would): a session one of
  // them established is offered to the other, whose trust configuration differs.
  const ticketKeys = randomBytes(48);

  async function ticketFrom(t: TestServer, pair: PemPair): Promise<Buffer> {
    const c = await t.client(pair);
    await c.send(testMessage(8)); // TLS 1.3 tickets follow the handshake
    const session = c.session!;
    await c.close();
    return session;
  }

  async function resumeAt(t: TestServer, pair: PemPair, session: Buffer): Promise<{ answered: boolean; reused: boolean | undefined }> {
    const s = await rawTls(t.port, pki, { cert: pair.cert, key: pair.key, session }).catch(() => undefined);
    const reused = s?.isSessionReused();
    s?.destroy();
    const o = await attempt(t.port, pki, { cert: pair.cert, key: pair.key, session }, testMessage(8));
    return { answered: o.answered, reused };
  }

  it('resumes across servers with the same trust configuration (the control)', async () => {
    const a = await startTestServer({ pki, executor: echoExecutor(), ticketKeys });
    const b = await startTestServer({ pki, executor: echoExecutor(), ticketKeys });
    try {
      const r = await resumeAt(b, pki.client, await ticketFrom(a, pki.client));
      expect(r).toEqual({ answered: true, reused: true });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a session established while a since-removed CA was trusted', async () => {
    const a = await startTestServer({ pki, executor: echoExecutor(), ticketKeys, caPem: pki.bundlePem });
    const b = await startTestServer({ pki, executor: echoExecutor(), ticketKeys });
    try {
      const r = await resumeAt(b, pki.foreign, await ticketFrom(a, pki.foreign));
      expect(r.answered).toBe(false);
      expect(r.reused).not.toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a session established while the clientAuth EKU was not required', async () => {
    const a = await startTestServer({ pki, executor: echoExecutor(), ticketKeys, requireClientAuthEku: false });
    const b = await startTestServer({ pki, executor: echoExecutor(), ticketKeys });
    try {
      const r = await resumeAt(b, pki.noEku, await ticketFrom(a, pki.noEku));
      expect(r.answered).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('mutual TLS options', () => {
  it('accepts a certificate without EKU when requireClientAuthEku is false', async () => {
    const t = await startTestServer({ pki, executor: echoExecutor(), requireClientAuthEku: false });
    try {
      const o = await attempt(t.port, pki, { cert: pki.noEku.cert, key: pki.noEku.key }, testMessage(8));
      expect(o.answered).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('accepts CBC-only clients when legacyCiphers is on, still preferring AEAD', async () => {
    const t = await startTestServer({ pki, executor: echoExecutor(), legacyCiphers: true });
    try {
      for (const ciphers of ['ECDHE-RSA-AES128-SHA', 'AES128-SHA', 'AES256-SHA256', 'ECDHE-RSA-AES256-SHA384']) {
        const o = await attempt(t.port, pki, { cert: pki.client.cert, key: pki.client.key, maxVersion: 'TLSv1.2', ciphers }, testMessage(8));
        expect(o.answered, ciphers).toBe(true);
      }
      const s = await rawTls(t.port, pki, { cert: pki.client.cert, key: pki.client.key, maxVersion: 'TLSv1.2' });
      expect(s.getCipher().name).toMatch(/GCM|CHACHA20/);
      s.destroy();
      // TLS 1.1 stays refused in legacy mode.
      const old = await attempt(t.port, pki, { cert: pki.client.cert, key: pki.client.key, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, testMessage(8));
      expect(old.answered).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('trusts every CA of a bundle (an external CA next to ours)', async () => {
    const t = await startTestServer({ pki, executor: echoExecutor(), caPem: pki.bundlePem });
    try {
      expect((await attempt(t.port, pki, { cert: pki.foreign.cert, key: pki.foreign.key }, testMessage(8))).answered).toBe(true);
      expect((await attempt(t.port, pki, { cert: pki.client.cert, key: pki.client.key }, testMessage(8))).answered).toBe(true);
    } finally {
      await t.close();
    }
  });
});
