// K3 with the compiled server in a child process (dist/: build first), so that the server and the
// maintenance code share the SQLite file (WAL) and the SoftHSM2 token as two processes do in
// production:
// - KEK rotation while clients read and write: every key reads before, during and after, and
//   after the old KEK is destroyed; destroy-kek refuses while objects use a version;
// - crash safety: kill -9 during a create load with several connections; after a restart every
//   create that was answered reads, and PRAGMA integrity_check is ok.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hsmConfigOf } from '../../../src/app/executor-factory.js';
import { destroyKekCommand, hsmStatus, rotateKekCommand } from '../../../src/cli/hsm.js';
import type { KmipConnection } from '../../../src/client/connection.js';
import { loadConfig } from '../../../src/config/config.js';
import { openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { backupDeployment, restoreDeployment } from '../../../src/maintenance/backup-restore.js';
import { checkDatabaseFile } from '../../../src/store/sqlite/file-checks.js';
import { describeHsm } from '../../support/softhsm.js';
import { connectAdmin, createKey, getKey, makeDeployment, serveChild, type Deployment, type ServeChild } from './k3-support.js';

describeHsm('K3: KEK rotation while clients read and write (server in another process)', () => {
  let d: Deployment;
  let server: ServeChild;
  let conns: KmipConnection[];
  const keys = new Map<string, Buffer>();
  let oldBackup: string;

  beforeAll(async () => {
    d = await makeDeployment();
    oldBackup = path.join(d.root, 'before-rotation.db');
    server = await serveChild(d.dir);
    conns = await Promise.all([0, 1, 2].map(() => connectAdmin(d.dir, server.port)));
  }, 60_000);
  afterAll(async () => {
    await Promise.all((conns ?? []).map((c) => c.close()));
    await server?.stop();
    rmSync(d.root, { recursive: true, force: true });
  });

  async function readAll(conn: KmipConnection, uids: Iterable<string>): Promise<string[]> {
    const bad: string[] = [];
    for (const uid of uids) {
      const r = await getKey(conn, uid);
      if (!r.ok) bad.push(`${uid}: ${r.reason} ${r.message}`);
      else if (!r.material.equals(keys.get(uid)!)) bad.push(`${uid}: different material`);
    }
    return bad;
  }

  it('every key reads before, during and after rotation, and after --destroy-old', async () => {
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 60; i++) {
          const uid = await createKey(c);
          const r = await getKey(c, uid);
          if (!r.ok) throw new Error(`Get ${uid}: ${r.reason}`);
          keys.set(uid, r.material);
        }
      }),
    );
    expect(await readAll(conns[0]!, keys.keys())).toEqual([]);
    await backupDeployment(d.dir, oldBackup);
    const lines: string[] = [];
    // v1 is current: refusing to destroy it is the first line of defence.
    await expect(destroyKekCommand(d.dir, 1)).rejects.toThrow(/current one/);

    // Load: two clients create (and read back) new keys, one reads random existing keys.
    let stop = false;
    const failures: string[] = [];
    const freshGetFailures: string[] = [];
    let reads = 0;
    let createdDuring = 0;
    const writers = conns.slice(0, 2).map(async (c) => {
      while (!stop) {
        const uid = await createKey(c);
        let r = await getKey(c, uid);
        if (!r.ok) {
          // The first Get of a key also writes (Fresh becomes false); see the assertion below.
          freshGetFailures.push(`${uid}: ${r.reason}`);
          r = await getKey(c, uid);
        }
        if (!r.ok) failures.push(`new ${uid}: ${r.reason}`);
        else keys.set(uid, r.material);
        createdDuring++;
      }
    });
    const reader = (async () => {
      const c = conns[2]!;
      while (!stop) {
        const all = [...keys.keys()];
        const bad = await readAll(c, [all[Math.floor(Math.random() * all.length)]!]);
        failures.push(...bad);
        reads++;
      }
    })();

    // Grace 11 s (default 12 s) against the server's 10 s cache of the current KEK version: keys
    // the server keeps wrapping under v1 meanwhile are found by later passes; if any were left
    // when v1 is destroyed, destroy-kek would refuse and the reads below would fail.
    await rotateKekCommand(d.dir, { batch: 25, destroyOld: false, graceMs: 11_000, print: (t) => lines.push(t) });
    const status1 = new Map<number, number>();
    await hsmStatus(d.dir, () => undefined).then((m) => m.forEach((n, v) => status1.set(v, n)));
    // Keys are still being created while we look; v1 should be empty once the server switched.
    expect(status1.get(1)).toBe(0);
    await destroyKekCommand(d.dir, 1, (t) => lines.push(t));
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all([...writers, reader]);

    expect(failures).toEqual([]);
    // Known failure (reported): the first Get of a fresh key puts the object (Fresh → false); when
    // a re-wrap of that object commits in between, the Get's commit fails with StoreConflict and
    // the client receives General Failure instead of its key. The retry above then succeeds.
    expect(freshGetFailures, 'first Get lost a race with the re-wrap (ops/get.ts Fresh put, no retry on StoreConflict)').toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(createdDuring).toBeGreaterThan(20);
    expect(lines.join('\n')).toMatch(/destroyed KEK v1/);

    // After: every key, old and new, reads through the running server, and from a fresh one.
    expect(await readAll(conns[0]!, keys.keys())).toEqual([]);
    const usage = await hsmStatus(d.dir, () => undefined);
    expect([...usage.keys()]).toEqual([2]);
    expect(usage.get(2)).toBe(keys.size);
  }, 120_000);

  it('destroy-kek refuses while objects are still wrapped under the version', async () => {
    const admin = await openPkcs11Protector(hsmConfigOf(loadConfig(d.dir), d.dir));
    try {
      await admin.createKek(3); // v3 current, nothing re-wrapped: every object is still under v2
    } finally {
      await admin.close();
    }
    await expect(destroyKekCommand(d.dir, 2)).rejects.toThrow(new RegExp(`${keys.size} objects are still wrapped under it`));
    // And a full rotation with --destroy-old then clears v2 and v3 behind it.
    const lines: string[] = [];
    await rotateKekCommand(d.dir, { batch: 50, destroyOld: true, graceMs: 11_000, print: (t) => lines.push(t) });
    expect(lines.join('\n')).toMatch(/destroyed KEK versions 2, 3/);
    expect(await readAll(conns[0]!, keys.keys())).toEqual([]);
  }, 120_000);

  it('restore refuses a backup taken before the rotation: its KEK is gone, its keys unreadable', async () => {
    await Promise.all(conns.map((c) => c.close()));
    conns = [];
    await server.stop();
    const before = checkDatabaseFile(d.dbPath);
    await expect(restoreDeployment(d.dir, oldBackup)).rejects.toThrow(/KEK versions the token no longer has: KEK v1 \(180 objects\)/);
    expect(checkDatabaseFile(d.dbPath)).toEqual(before);
    const usage = await hsmStatus(d.dir, () => undefined);
    expect(usage.get(4)).toBe(keys.size);
  });
});

describeHsm('K3: crash safety of answered creates (kill -9)', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await makeDeployment();
  });
  afterAll(() => rmSync(d.root, { recursive: true, force: true }));

  it('every answered Create survives kill -9 mid-load; integrity_check is ok', async () => {
    const server = await serveChild(d.dir);
    const conns = await Promise.all([0, 1, 2, 3, 4, 5].map(() => connectAdmin(d.dir, server.port)));
    const answered: string[] = [];
    let killed = false;
    const load = conns.map(async (c) => {
      try {
        for (;;) answered.push(await createKey(c));
      } catch (err) {
        if (!killed) throw err;
      }
    });
    while (answered.length < 300) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    await server.kill9();
    await Promise.all(load);
    expect(server.proc.signalCode).toBe('SIGKILL');
    await Promise.all(conns.map((c) => c.close()));

    const again = await serveChild(d.dir);
    const conn = await connectAdmin(d.dir, again.port);
    try {
      const missing: string[] = [];
      for (const uid of answered) {
        const r = await getKey(conn, uid);
        if (!r.ok) missing.push(`${uid}: ${r.reason}`);
      }
      expect(answered.length).toBeGreaterThanOrEqual(300);
      expect(missing).toEqual([]);
    } finally {
      await conn.close();
      await again.stop();
    }
    expect(checkDatabaseFile(d.dbPath)).toMatchObject({ ok: true, messages: ['ok'] });
  }, 120_000);
});
