// Access control over a real SQLite file: a binding change committed by another connection (the
// CLI's) is seen by the server's requests without a restart, and the change check (PRAGMA
// data_version, a read transaction of its own) runs at most once per event-loop iteration.
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createAccessControl } from '../../../src/authz/access-control.js';
import type { Principal } from '../../../src/dispatch/types.js';
import { createCa, issueClientCert } from '../../../src/pki/dev-pki.js';
import type { AccessStore } from '../../../src/store/access-types.js';
import { openSqliteStore, type SqliteObjectStore } from '../../../src/store/index.js';
import { sqliteAccessStore } from '../../../src/store/sqlite/bindings.js';
import { tempDir } from '../../support/store-objects.js';

const ca = createCa({ cn: 'freshness CA' });
const cert = new X509Certificate(issueClientCert({ ca, cn: 'late' }).cert);
const principal: Principal = { subject: cert.subject.split('\n').join(','), fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(), certificate: cert };
const nextIteration = () => new Promise<void>((r) => setImmediate(r));

let tmp: ReturnType<typeof tempDir>;
let server: SqliteObjectStore;
let cli: SqliteObjectStore;

beforeEach(async () => {
  tmp = tempDir();
  server = await openSqliteStore({ path: tmp.file('k.sqlite') });
  cli = await openSqliteStore({ path: tmp.file('k.sqlite') });
});

afterEach(async () => {
  await cli.close();
  await server.close();
  tmp.remove();
});

describe('access control freshness (SQLite)', () => {
  it('a binding added by another connection applies from the next event-loop iteration; one check per iteration', async () => {
    const real = sqliteAccessStore(server.db);
    let checks = 0;
    const counted: AccessStore = {
      ...real,
      changedSince: (counter) => {
        checks++;
        return real.changedSince(counter);
      },
    };
    const access = await createAccessControl({ store: counted, log: pino({ level: 'silent' }), pollMs: 0 });
    await nextIteration();
    checks = 0;
    for (let i = 0; i < 5; i++) expect(access.identify(principal)).toBeUndefined();
    expect(checks).toBe(1);

    await sqliteAccessStore(cli.db).addBinding({ field: 'cn', value: 'late', tenant: 't1', role: 'Writer' });
    await nextIteration();
    expect(access.identify(principal)).toMatchObject({ tenant: 't1', role: 'Writer' });
    expect(checks).toBe(2);

    // A revocation by the other connection refuses the certificate from the next iteration on.
    await sqliteAccessStore(cli.db).revoke({ fingerprint: principal.fingerprint, name: 'late', revokedAt: Date.now(), reason: 'test' });
    await nextIteration();
    expect(access.admits(principal)).toBe(false);
    expect(access.identify(principal)).toBeUndefined();
    expect(checks).toBe(3);
    access.close();
  });
});
