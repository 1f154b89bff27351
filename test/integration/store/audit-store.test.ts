// The SQLite audit store under group commit: the records appended while a group forms are written
// as one unit of it (one head read, one head write), in append order, each settling only after
// the WAL fdatasync that covers it; the chain verifies, also across units.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalBody, chainHash, parseBody, type AuditRecord } from '../../../src/audit/record.js';
import { verifyChain } from '../../../src/audit/verify.js';
import type { AuditSealer } from '../../../src/store/access-types.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { sqliteAuditStore } from '../../../src/store/sqlite/audit.js';
import { symmetricKey, tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  vi.restoreAllMocks();
  tmp.remove();
});

function sealer(connection: string, batchIndex: number): AuditSealer {
  return ({ seq, prevHash }) => {
    const rec: AuditRecord = {
      seq, time: '2026-01-01T00:00:00.000Z', connection, remoteAddress: '127.0.0.1', subject: 'CN=a', fingerprint: 'ab'.repeat(32),
      tenant: 't', role: 'Reader', binding: 'binding #1', operation: 'DiscoverVersions', uids: [], status: 'Success', reason: null,
      rule: 'role Reader allows DiscoverVersions', latencyUs: 1, batchIndex, protocolVersion: '2.1',
    };
    const body = canonicalBody(rec);
    return { at: 1_767_225_600_000, body, hash: chainHash(prevHash, body) };
  };
}

describe('SQLite audit store', () => {
  it('appends made in one turn share one unit of one group, in append order, and the chain verifies', async () => {
    const store = await openSqliteStore({ path: tmp.file('a.sqlite') });
    const audit = sqliteAuditStore(store);
    const before = store.stats();
    // An object commit queued first: the audit unit joins the same group after it.
    const unit = store.begin({ tenant: 't' });
    unit.insert(symmetricKey(store.newUid(), 't', 'k'));
    const commit = unit.commit();
    const appends = ['c1', 'c2', 'c3', 'c4'].map((c) => audit.append([sealer(c, 0), sealer(c, 1)]));
    await Promise.all([commit, ...appends]);
    expect(store.stats().transactions - before.transactions).toBe(1);
    // The object unit and ONE audit unit, not four.
    expect(store.stats().unitsCommitted - before.unitsCommitted).toBe(2);

    // A later turn starts a new unit that continues the chain.
    await audit.append([sealer('c5', 0)]);
    const { rows, head } = await audit.chain();
    expect(rows.map((r) => [parseBody(r.body)?.connection, parseBody(r.body)?.batchIndex])).toEqual([
      ['c1', 0], ['c1', 1], ['c2', 0], ['c2', 1], ['c3', 0], ['c3', 1], ['c4', 0], ['c4', 1], ['c5', 0],
    ]);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(head).toEqual({ seq: 9, hash: rows[8]!.hash });
    expect(verifyChain(rows, head)).toMatchObject({ ok: true, records: 9, problems: [] });
    await store.close();
  });

  it('every record of a unit settles only after the WAL fdatasync covering it', async () => {
    const store = await openSqliteStore({ path: tmp.file('s.sqlite') });
    const audit = sqliteAuditStore(store);
    const realSync = fs.fdatasync.bind(fs);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      started++;
      void gate.then(() => realSync(fd, cb));
    }) as typeof fs.fdatasync);
    const settled: string[] = [];
    const appends = ['c1', 'c2', 'c3'].map((c) => audit.append([sealer(c, 0)]).then(() => void settled.push(c)));
    await vi.waitFor(() => expect(started).toBe(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]);
    // Written (COMMIT returned), not yet acknowledged.
    expect((await audit.head())?.seq).toBe(3);
    release();
    await Promise.all(appends);
    expect(settled.sort()).toEqual(['c1', 'c2', 'c3']);
    await store.close();
  });

  it('a unit that fails fails all of its records and none of the next unit', async () => {
    const store = await openSqliteStore({ path: tmp.file('f.sqlite') });
    const audit = sqliteAuditStore(store);
    const broken: AuditSealer = () => {
      throw new Error('sealer failed');
    };
    const a = audit.append([sealer('c1', 0)]);
    const b = audit.append([broken]);
    const results = await Promise.allSettled([a, b]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // Nothing of the failed unit was kept; the next unit starts the chain.
    await audit.append([sealer('c2', 0)]);
    const { rows, head } = await audit.chain();
    expect(rows.map((r) => parseBody(r.body)?.connection)).toEqual(['c2']);
    expect(verifyChain(rows, head)).toMatchObject({ ok: true, records: 1 });
    await store.close();
  });

  it('without group commit each append is written at once and the chain still verifies', async () => {
    const store = await openSqliteStore({ path: tmp.file('n.sqlite'), groupCommit: false });
    const audit = sqliteAuditStore(store);
    await Promise.all(['c1', 'c2', 'c3'].map((c) => audit.append([sealer(c, 0)])));
    const { rows, head } = await audit.chain();
    expect(rows.map((r) => parseBody(r.body)?.connection)).toEqual(['c1', 'c2', 'c3']);
    expect(verifyChain(rows, head)).toMatchObject({ ok: true, records: 3 });
    await store.close();
  });
});
