// K3 "key material never rests in plaintext" and "rows cannot be swapped", through a real server
// (mutual TLS, SoftHSM2 token, SQLite file of a `kmipd init` deployment), plus online backup while
// keys are being created and restore of that backup.
import { existsSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kmipdExecutorFactory } from '../../../src/app/executor-factory.js';
import { serveDeployment, type RunningDeployment } from '../../../src/cli/serve.js';
import type { KmipConnection } from '../../../src/client/connection.js';
import { backupDeployment, restoreDeployment } from '../../../src/maintenance/backup-restore.js';
import { checkDatabaseFile } from '../../../src/store/sqlite/file-checks.js';
import { describeHsm } from '../../support/softhsm.js';
import { connectAdmin, createKey, findAll, getKey, getMaterial, makeDeployment, type Deployment } from './k3-support.js';

function serve(dir: string): Promise<RunningDeployment> {
  return serveDeployment(dir, {
    listen: '127.0.0.1:0',
    adminListen: null,
    executorFactory: kmipdExecutorFactory,
    logDestination: { write: () => undefined },
  });
}

describeHsm('K3 at rest: plaintext scan, swapped rows, backup and restore', () => {
  let d: Deployment;
  let running: RunningDeployment;
  let conns: KmipConnection[] = [];
  const keys = new Map<string, Buffer>();

  beforeAll(async () => {
    d = await makeDeployment();
    running = await serve(d.dir);
    conns = await Promise.all([0, 1, 2, 3].map(() => connectAdmin(d.dir, running.kmip.address.port)));
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await running?.shutdown();
    rmSync(d.root, { recursive: true, force: true });
  });

  it('200 keys created and read through the server: none of them in the database, -wal, -shm or a backup', async () => {
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < 50; i++) {
          const uid = await createKey(c);
          keys.set(uid, await getMaterial(c, uid));
        }
      }),
    );
    expect(keys.size).toBe(200);
    const secrets = [...keys.values()];
    expect(secrets.every((s) => s.length === 32)).toBe(true);
    // Distinct keys, so one hit cannot hide another.
    expect(new Set(secrets.map((s) => s.toString('hex'))).size).toBe(200);

    const backup = path.join(d.root, 'scan-backup.db');
    await backupDeployment(d.dir, backup);
    const files = [d.dbPath, `${d.dbPath}-wal`, `${d.dbPath}-shm`, backup].filter((p) => existsSync(p));
    expect(files).toContain(`${d.dbPath}-wal`); // the server is running: the WAL holds the recent commits
    const hits: string[] = [];
    let scanned = 0;
    for (const f of files) {
      const content = await readFile(f);
      scanned += content.length;
      hits.push(...findAll(content, secrets).map((h) => `${path.basename(f)}: ${h}`));
    }
    expect(scanned).toBeGreaterThan(100_000);
    expect(hits).toEqual([]);

    // Control: the search finds a wrapped blob, which is what the files do hold.
    const db = new Database(backup, { readonly: true });
    const wrapped = db.prepare('SELECT wrapped FROM objects LIMIT 1').pluck().get() as Buffer;
    db.close();
    expect(findAll(await readFile(backup), [wrapped])).toHaveLength(1);
  });

  it('two objects with swapped wrapped blobs and MACs: Get of either fails with Cryptographic Failure', async () => {
    const [a, b] = [...keys.keys()];
    const db = new Database(d.dbPath);
    db.pragma('busy_timeout = 5000');
    const row = db.prepare('SELECT wrapped, mac, kek_version AS kek FROM objects WHERE uid = ?');
    const ra = row.get(a) as { wrapped: Buffer; mac: Buffer; kek: number };
    const rb = row.get(b) as { wrapped: Buffer; mac: Buffer; kek: number };
    const set = db.prepare('UPDATE objects SET wrapped = ?, mac = ? WHERE uid = ?');
    db.transaction(() => {
      set.run(rb.wrapped, rb.mac, a);
      set.run(ra.wrapped, ra.mac, b);
    })();
    db.close();
    for (const uid of [a!, b!]) {
      const r = await getKey(conns[0]!, uid);
      expect(r.ok, `Get ${uid} must not succeed`).toBe(false);
      if (!r.ok) expect(r.reason).toBe('CryptographicFailure');
    }
    // Unaffected keys still read.
    const other = [...keys.keys()][2]!;
    expect(await getMaterial(conns[0]!, other)).toEqual(keys.get(other));
  });

  it('backup while creating: opens, passes integrity_check, and restore brings the keys back', async () => {
    let stop = false;
    const during: string[] = [];
    const load = Promise.all(
      conns.map(async (c) => {
        while (!stop) during.push(await createKey(c));
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const backup = path.join(d.root, 'online-backup.db');
    const r = await backupDeployment(d.dir, backup);
    stop = true;
    await load;
    expect(r.pages).toBeGreaterThan(0);
    expect(during.length).toBeGreaterThan(0);
    expect(checkDatabaseFile(backup)).toMatchObject({ ok: true, messages: ['ok'] });

    const inBackup = new Set(
      (new Database(backup, { readonly: true }).prepare('SELECT uid FROM objects').pluck().all() as string[]),
    );
    // Everything answered before the backup started is in it.
    for (const uid of keys.keys()) expect(inBackup.has(uid)).toBe(true);

    // Restore refuses while the server has the database open.
    await expect(restoreDeployment(d.dir, backup)).rejects.toThrow(/open in another process/);

    // Stop, add a key that is not in the backup, restore, serve again.
    await Promise.all(conns.map((c) => c.close()));
    await running.shutdown();
    const result = await restoreDeployment(d.dir, backup);
    expect(result.replacedPath && existsSync(result.replacedPath)).toBeTruthy();
    expect(checkDatabaseFile(result.replacedPath!).ok).toBe(true);

    running = await serve(d.dir);
    conns = [await connectAdmin(d.dir, running.kmip.address.port)];
    // The first two were swapped by the previous test and fail on purpose.
    const intact = [...keys.keys()].slice(2);
    for (const uid of intact) expect(await getMaterial(conns[0]!, uid)).toEqual(keys.get(uid));
    // Keys created during the backup that made it into the copy read too.
    const restoredDuring = during.filter((u) => inBackup.has(u));
    for (const uid of restoredDuring) expect((await getKey(conns[0]!, uid)).ok).toBe(true);
  });

  it('restore refuses a file that is not an intact database, and leaves the live one alone', async () => {
    const bad = path.join(d.root, 'bad.db');
    const good = await readFile(d.dbPath);
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, Buffer.concat([good.subarray(0, 4096), Buffer.alloc(8192, 0x5a)])));
    await conns[0]!.close();
    await running.shutdown();
    await expect(restoreDeployment(d.dir, bad)).rejects.toThrow(/integrity|not a kmipd database|cannot open/);
    expect(checkDatabaseFile(d.dbPath).ok).toBe(true);
    running = await serve(d.dir);
    conns = [await connectAdmin(d.dir, running.kmip.address.port)];
  });
});
