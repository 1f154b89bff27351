// Group commit syncs the WAL off the event loop: a commit resolves only after an fdatasync of the
// WAL that started after its COMMIT has returned, a failed fdatasync fails the units it covered,
// and every other write on the connection (role bindings) goes through the committer too: the
// connection stays at synchronous=NORMAL, so a write beside the committer would not be synced.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError, openSqliteStore } from '../../../src/store/index.js';
import { sqliteAccessStore } from '../../../src/store/sqlite/bindings.js';
import { symmetricKey, tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  vi.restoreAllMocks();
  tmp.remove();
});

/** Makes every fdatasync wait for release(), or fail with `error`. */
function holdWalSyncs(error?: NodeJS.ErrnoException): { started: () => number; release: () => void } {
  const realSync = fs.fdatasync.bind(fs);
  let started = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    started++;
    void gate.then(() => (error ? cb(error) : realSync(fd, cb)));
  }) as typeof fs.fdatasync);
  return { started: () => started, release };
}

describe('group commit: the WAL fsync', () => {
  it('a commit settles only after the WAL fdatasync returns; the connection runs at synchronous=NORMAL', async () => {
    const store = await openSqliteStore({ path: tmp.file('s.sqlite') });
    const hold = holdWalSyncs();
    const unit = store.begin({ tenant: 't' });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, 't', 'k'));
    let settled = false;
    const commit = unit.commit().then(() => (settled = true));
    await vi.waitFor(() => expect(hold.started()).toBe(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    // Written (COMMIT returned), not yet acknowledged.
    expect((await store.begin({ tenant: 't' }).get(uid))?.uid).toBe(uid);
    expect(Number(store.db.pragma('synchronous', { simple: true }))).toBe(1); // NORMAL: COMMIT does not sync
    hold.release();
    await commit;
    expect(settled).toBe(true);
    await store.close();
  });

  it('a role binding written on the store connection settles only after the WAL fdatasync returns', async () => {
    const store = await openSqliteStore({ path: tmp.file('b.sqlite') });
    const access = sqliteAccessStore(store.db);
    const hold = holdWalSyncs();
    let settled = false;
    const added = access.addBinding({ field: 'cn', value: 'alice', tenant: 't1', role: 'Writer' }).then((b) => {
      settled = true;
      return b;
    });
    await vi.waitFor(() => expect(hold.started()).toBe(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    hold.release();
    expect((await added).value).toBe('alice');
    expect((await access.listBindings()).map((b) => b.value)).toEqual(['alice']);
    // A failing write (a second certificate with the same name) rejects alone.
    const cert = { fingerprint: 'aa', name: 'c1', subject: 's', issuer: 'i', serial: '01', notBefore: 0, notAfter: 1, issuedAt: 0 };
    await access.recordCertificate(cert);
    await expect(access.recordCertificate({ ...cert, fingerprint: 'bb' })).rejects.toThrow();
    expect((await access.listCertificates()).map((c) => c.fingerprint)).toEqual(['aa']);
    await store.close();
  });

  it('commits made while a sync runs wait for the next sync, which they share', async () => {
    const store = await openSqliteStore({ path: tmp.file('n.sqlite') });
    const hold = holdWalSyncs();
    const first = store.begin({ tenant: 't' });
    first.insert(symmetricKey(store.newUid(), 't', 'a'));
    const a = first.commit();
    await vi.waitFor(() => expect(hold.started()).toBe(1));
    const later = Array.from({ length: 5 }, (_, i) => {
      const u = store.begin({ tenant: 't' });
      u.insert(symmetricKey(store.newUid(), 't', `b${i}`));
      return u.commit();
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(hold.started()).toBe(1); // one sync at a time
    hold.release();
    await Promise.all([a, ...later]);
    expect(hold.started()).toBe(2); // the five shared the second one
    await store.close();
  });

  it('the WAL stays open across bursts of commits and is released when the store closes', async () => {
    const store = await openSqliteStore({ path: tmp.file('o.sqlite') });
    const opens = vi.spyOn(fs, 'open');
    const closes = vi.spyOn(fs, 'closeSync');
    for (let i = 0; i < 3; i++) {
      // Each commit is its own burst: the previous sync has returned and nothing is queued.
      const unit = store.begin({ tenant: 't' });
      unit.insert(symmetricKey(store.newUid(), 't', `k${i}`));
      await unit.commit();
    }
    expect(opens.mock.calls.filter((c) => String(c[0]).endsWith('-wal'))).toHaveLength(1);
    expect(closes).not.toHaveBeenCalled();
    await store.close();
    expect(closes).toHaveBeenCalledTimes(1);
  });

  it('a failed fdatasync fails the commits it covered with a store I/O error', async () => {
    const store = await openSqliteStore({ path: tmp.file('f.sqlite') });
    const hold = holdWalSyncs(Object.assign(new Error('EIO'), { code: 'EIO' }));
    const unit = store.begin({ tenant: 't' });
    unit.insert(symmetricKey(store.newUid(), 't', 'k'));
    const commit = unit.commit();
    hold.release();
    const err = await commit.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/fsync/);
    await store.close();
  });
});
