// The reveal cache against a real SoftHSM2 token: a hit gives the bytes a verified reveal gives,
// any changed byte of a stored row still goes through the HSM's MAC check and is refused, and the
// cached keys (session objects inside the HSM) are destroyed on forget(), expiry, the LRU bound,
// KEK destruction and recovery. Session objects are counted with C_FindObjects from a session of
// the test's own (session objects are visible to every session of the process).

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { HsmConfig } from '../../../src/hsm/config.js';
import { HsmError } from '../../../src/hsm/errors.js';
import type { Binding, ProtectedMaterial } from '../../../src/hsm/key-protector.js';
import { type Pkcs11Protector, openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { ck } from '../../../src/hsm/pkcs11-library.js';
import { type RawSession, type TestToken, describeHsm, makeTestToken, openRawSession } from '../../support/softhsm.js';

const SYMMETRIC_KEY = 2;

function bindingOf(i: number, extra?: string): Binding {
  return { uid: `cache-${String(i).padStart(4, '0')}`, objectType: SYMMETRIC_KEY, ...(extra === undefined ? {} : { extra }) };
}

async function failure(p: Promise<unknown>): Promise<HsmError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HsmError);
  return e as HsmError;
}

/** Secret-key session objects of this process: KEK copies plus cached keys. */
function sessionObjects(raw: RawSession): number {
  raw.p11.C_FindObjectsInit(raw.session, [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_TOKEN, value: false },
  ]);
  try {
    return raw.p11.C_FindObjects(raw.session, 100_000).length;
  } finally {
    raw.p11.C_FindObjectsFinal(raw.session);
  }
}

/** Lets scheduled releases (setImmediate) and a sweep of the given period run. */
const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = (c[at] ?? 0) ^ 0x01;
  return c;
}

describeHsm('reveal cache', () => {
  let token: TestToken;
  let raw: RawSession;
  const open: Pkcs11Protector[] = [];

  async function protector(config: Partial<HsmConfig> = {}): Promise<Pkcs11Protector> {
    // One session: sequential calls then never copy the KEK into a second one, which would
    // change the count of session objects.
    const p = await openPkcs11Protector({ ...token.config, sessions: 1, ...config });
    open.push(p);
    return p;
  }

  beforeAll(async () => {
    token = await makeTestToken();
    const admin = await openPkcs11Protector(token.config);
    await admin.createKek(1);
    await admin.close();
    raw = openRawSession(token);
  });

  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
  });

  afterAll(async () => {
    raw?.close();
    await token?.cleanup();
  });

  it('is on by default with 1024 entries and 60 s', async () => {
    const hsm = await protector();
    expect(hsm.revealCacheStats()).toEqual({ maxEntries: 1024, ttlMs: 60_000, entries: 0, hits: 0, misses: 0, evictions: 0 });
  });

  it('answers a hit with the bytes of a verified reveal, without a new session object', async () => {
    const hsm = await protector();
    const b = bindingOf(1, 'tenant-a');
    const pm = await hsm.generate({ kind: 'aes', bits: 256 }, b);
    const generic = await hsm.protect(Buffer.from('0123456789abcdefXYZ'), bindingOf(2)); // 19 bytes: padded inside the HSM
    const miss = await hsm.reveal(pm, b);
    const objects = sessionObjects(raw);
    const hit = await hsm.reveal(pm, b);
    expect(hit.equals(miss)).toBe(true);
    expect(hit).toHaveLength(32);
    expect(hit).not.toBe(miss); // a fresh buffer each time: the caller zeroes its own
    expect(sessionObjects(raw)).toBe(objects);
    expect((await hsm.reveal(generic, bindingOf(2))).toString()).toBe('0123456789abcdefXYZ');
    expect((await hsm.reveal(generic, bindingOf(2))).toString()).toBe('0123456789abcdefXYZ');
    expect(hsm.revealCacheStats()).toMatchObject({ entries: 2, hits: 2, misses: 2 });
    // A protector without a cache, on the same token, reveals the same key.
    const plain = await protector({ revealCacheEntries: 0 });
    expect((await plain.reveal(pm, b)).equals(miss)).toBe(true);
  });

  it('works the same with asyncCalls and token KEKs, under 64 concurrent reveals of 8 keys', async () => {
    const hsm = await protector({ asyncCalls: true, sessionKeyCopies: false, sessions: 4, revealCacheEntries: 4 });
    const rows: { b: Binding; pm: ProtectedMaterial }[] = [];
    for (let i = 0; i < 8; i++) {
      const b = bindingOf(300 + i);
      rows.push({ b, pm: await hsm.generate({ kind: 'aes', bits: 256 }, b) });
    }
    const expected: string[] = [];
    for (const r of rows) expected.push((await hsm.reveal(r.pm, r.b)).toString('hex'));
    const got = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const r = rows[i % 8] as { b: Binding; pm: ProtectedMaterial };
        return (await hsm.reveal(r.pm, r.b)).toString('hex');
      }),
    );
    expect(got).toEqual(Array.from({ length: 64 }, (_, i) => expected[i % 8]));
    expect(hsm.revealCacheStats().entries).toBeLessThanOrEqual(4);
  });

  it('refuses a row with any byte changed after the genuine row was cached, and keeps serving the genuine one', async () => {
    const hsm = await protector();
    const admin = await protector({ revealCacheEntries: 0 });
    await admin.createKek(2).catch((e: unknown) => {
      if (!(e instanceof HsmError && e.code === 'KekExists')) throw e;
    });
    const b = bindingOf(3, 'tenant-a');
    // Under KEK 1 explicitly (rewrap), so that a changed kekVersion names another existing KEK.
    const pm = await hsm.rewrap(await hsm.generate({ kind: 'aes', bits: 128 }, b), b, 1);
    const key = await hsm.reveal(pm, b);
    expect((await hsm.reveal(pm, b)).equals(key)).toBe(true);
    const { hits } = hsm.revealCacheStats();
    const tampered: [string, ProtectedMaterial, Binding][] = [
      ['wrapped, last byte', { ...pm, wrapped: flip(pm.wrapped, pm.wrapped.length - 1) }, b],
      ['wrapped, header', { ...pm, wrapped: flip(pm.wrapped, 4) }, b],
      ['mac', { ...pm, mac: flip(pm.mac, 0) }, b],
      ['mac, truncated', { ...pm, mac: pm.mac.subarray(0, 31) }, b],
      ['kekVersion', { ...pm, kekVersion: 2 }, b],
      ['uid', pm, { ...b, uid: 'cache-0004' }],
      ['objectType', pm, { ...b, objectType: 7 }],
      ['extra', pm, { ...b, extra: 'tenant-b' }],
      ['extra absent', pm, { uid: b.uid, objectType: b.objectType }],
    ];
    for (const [what, tpm, tb] of tampered) {
      const e = await failure(hsm.reveal(tpm, tb));
      expect(e.code, what).toBe('IntegrityFailure');
    }
    expect(hsm.revealCacheStats().hits).toBe(hits);
    // The genuine row is still a hit, with the same bytes.
    expect((await hsm.reveal(pm, b)).equals(key)).toBe(true);
    expect(hsm.revealCacheStats().hits).toBe(hits + 1);
  });

  it('forget(uid) destroys the cached key inside the HSM; the next reveal verifies again', async () => {
    const hsm = await protector();
    const b = bindingOf(5);
    const pm = await hsm.generate({ kind: 'aes', bits: 256 }, b);
    const before = sessionObjects(raw);
    const key = await hsm.reveal(pm, b);
    expect(sessionObjects(raw)).toBe(before + 1);
    hsm.forget(b.uid);
    hsm.forget('no-such-uid');
    expect(hsm.revealCacheStats().entries).toBe(0);
    await settle();
    expect(sessionObjects(raw)).toBe(before);
    const misses = hsm.revealCacheStats().misses;
    expect((await hsm.reveal(pm, b)).equals(key)).toBe(true);
    expect(hsm.revealCacheStats()).toMatchObject({ misses: misses + 1, entries: 1 });
    // rewrap replaces the row: its cached key goes too.
    await hsm.rewrap(pm, b, 1);
    await settle();
    expect(hsm.revealCacheStats().entries).toBe(0);
  });

  it('expires keys after the TTL, also while idle (that hits do not extend it: unit test)', async () => {
    const hsm = await protector({ revealCacheTtlMs: 1000 }); // swept every 250 ms
    const b = bindingOf(6);
    const pm = await hsm.generate({ kind: 'aes', bits: 128 }, b);
    const before = sessionObjects(raw);
    await hsm.reveal(pm, b);
    await hsm.reveal(pm, b);
    expect(hsm.revealCacheStats()).toMatchObject({ hits: 1, entries: 1 });
    expect(sessionObjects(raw)).toBe(before + 1);
    await settle(1000 + 250 + 200); // no call in between: the sweep alone must remove it
    expect(hsm.revealCacheStats().entries).toBe(0);
    expect(sessionObjects(raw)).toBe(before);
    await hsm.reveal(pm, b);
    expect(hsm.revealCacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('keeps at most revealCacheEntries keys, least recently used out first', async () => {
    const hsm = await protector({ revealCacheEntries: 3 });
    const rows = await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
      const b = bindingOf(100 + i);
      return { b, pm: await hsm.generate({ kind: 'aes', bits: 128 }, b) };
    }));
    const before = sessionObjects(raw);
    const [r0, r1, r2, r3, r4] = rows as [typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0]];
    for (const r of [r0, r1, r2]) await hsm.reveal(r.pm, r.b);
    await hsm.reveal(r0.pm, r0.b); // r0 becomes the most recently used: r1 is next out
    for (const r of [r3, r4]) await hsm.reveal(r.pm, r.b);
    await settle();
    expect(hsm.revealCacheStats()).toMatchObject({ entries: 3, evictions: 2, hits: 1, misses: 5 });
    expect(sessionObjects(raw)).toBe(before + 3);
    await hsm.reveal(r0.pm, r0.b);
    expect(hsm.revealCacheStats().hits).toBe(2);
    await hsm.reveal(r1.pm, r1.b);
    expect(hsm.revealCacheStats().misses).toBe(6);
  });

  it('drops the cached keys of a destroyed KEK version', async () => {
    const hsm = await protector();
    await hsm.createKek(3);
    const b = bindingOf(7);
    const pm3 = await hsm.generate({ kind: 'aes', bits: 128 }, b);
    expect(pm3.kekVersion).toBe(3);
    const b1 = bindingOf(8);
    const pm1 = await hsm.rewrap(await hsm.generate({ kind: 'aes', bits: 128 }, b1), b1, 1);
    await hsm.reveal(pm3, b);
    await hsm.reveal(pm1, b1);
    expect(hsm.revealCacheStats().entries).toBe(2);
    await hsm.destroyKek(3);
    expect(hsm.revealCacheStats().entries).toBe(1);
    // Without the KEK the row cannot be revealed any more, cache or not.
    expect((await failure(hsm.reveal(pm3, b))).code).toBe('KekNotFound');
    await hsm.reveal(pm1, b1);
    expect(hsm.revealCacheStats().hits).toBe(1);
  });

  it('forgets everything on recovery, and reveals correctly afterwards', async () => {
    const hsm = await protector();
    const b = bindingOf(9);
    const pm = await hsm.generate({ kind: 'aes', bits: 256 }, b);
    const key = await hsm.reveal(pm, b);
    expect(hsm.revealCacheStats().entries).toBe(1);
    // Sessions closed behind the protector's back: the cached object died with its session.
    const other = openRawSession(token);
    other.p11.C_CloseAllSessions(other.slot);
    other.close();
    raw.close();
    raw = openRawSession(token);
    const { hits, misses } = hsm.revealCacheStats();
    expect((await hsm.reveal(pm, b)).equals(key)).toBe(true);
    // The failed hit led to the recovery; the retry was a miss that cached the key again.
    expect(hsm.revealCacheStats()).toMatchObject({ hits: hits + 1, misses: misses + 1, entries: 1 });
    expect((await hsm.reveal(pm, b)).equals(key)).toBe(true);
    expect(hsm.revealCacheStats().hits).toBe(hits + 2);
  });

  it('forgets everything on a planned re-initialisation', async () => {
    const hsm = await protector({ recycleAfterObjects: 6 });
    // 2 KEK copies + 2 generated keys + 2 cached keys: the second reveal reaches the limit of 6.
    const rows = [];
    for (const i of [0, 1]) {
      const b = bindingOf(200 + i);
      rows.push({ b, pm: await hsm.generate({ kind: 'aes', bits: 128 }, b) });
    }
    const keys = [];
    for (const r of rows) keys.push(await hsm.reveal(r.pm, r.b));
    await settle(50); // the planned recovery runs after the call that crossed the limit
    expect(hsm.revealCacheStats().entries).toBe(0);
    for (const [i, r] of rows.entries()) expect((await hsm.reveal(r.pm, r.b)).equals(keys[i] as Buffer)).toBe(true);
    // The re-initialisation ended every session of the process, the test's own included.
    raw.close();
    raw = openRawSession(token);
  });

  it('with revealCacheEntries 0 keeps nothing: every reveal verifies and unwraps', async () => {
    const hsm = await protector({ revealCacheEntries: 0 });
    const b = bindingOf(10);
    const pm = await hsm.generate({ kind: 'aes', bits: 256 }, b);
    const before = sessionObjects(raw);
    const key = await hsm.reveal(pm, b);
    expect((await hsm.reveal(pm, b)).equals(key)).toBe(true);
    expect(sessionObjects(raw)).toBe(before);
    expect(hsm.revealCacheStats()).toMatchObject({ maxEntries: 0, entries: 0, hits: 0, misses: 0 });
    expect((await failure(hsm.reveal({ ...pm, mac: flip(pm.mac, 5) }, b))).code).toBe('IntegrityFailure');
    const ttl0 = await protector({ revealCacheTtlMs: 0 });
    await ttl0.reveal(pm, b);
    await ttl0.reveal(pm, b);
    expect(ttl0.revealCacheStats()).toMatchObject({ entries: 0, hits: 0 });
  });
});
