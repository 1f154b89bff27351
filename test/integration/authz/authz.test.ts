// K7 over real mutual TLS against a real deployment (kmipd init + serve, production wiring):
// certificates for every role in two tenants, the full role × Operation matrix (denied items
// audited with their rule), no key material to a Reader, tenant isolation without an existence
// oracle, bindings and revocations taking effect on a running server, audit chain verification
// against each kind of tampering, and no key bytes in the audit trail or the log.
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import { ROLE_NAMES, roleAllows, type RoleName } from '../../../src/authz/roles.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { sqliteAuditStore } from '../../../src/store/sqlite/audit.js';
import { verifyChain } from '../../../src/audit/verify.js';
import { parseBody, canonicalBody, chainHash, type AuditRecord } from '../../../src/audit/record.js';
import { verifyDeploymentAudit } from '../../../src/cli/audit.js';
import { ops, materialOf, okPayload, uidOf, uidNode, reasonName } from '../../support/lifecycle-requests.js';
import { startAuthzDeployment, removeDeployment, v14, type AuthzDeployment, type Client } from './deployment.js';

const M = Mask.CryptographicUsageMask;
const createAes = () => ops.createKey(v14, Enum.CryptographicAlgorithm.AES, 256, M.Encrypt | M.Decrypt);

let d: AuthzDeployment;
const clients = {} as Record<`${RoleName}-${'t1' | 't2'}`, Client>;
/** Key material seen by privileged clients: must never reach a Reader, the audit trail or the log. */
const materials: Buffer[] = [];
let t1Key = '';

async function readAudit(): Promise<AuditRecord[]> {
  const store = await openSqliteStore({ path: d.dbPath });
  try {
    return (await sqliteAuditStore(store).rows()).map((r) => parseBody(r.body)!);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  d = await startAuthzDeployment();
  for (const tenant of ['t1', 't2'] as const) {
    for (const role of ROLE_NAMES) {
      const pair = await d.issue(`${role.toLowerCase()}-${tenant}`, role, tenant);
      clients[`${role}-${tenant}`] = await d.connect(`${role}-${tenant}`, pair);
    }
  }
  // A key in t1, and its material as its Writer sees it.
  const w = clients['Writer-t1'];
  t1Key = uidOf(okPayload(await w.send([createAes()])));
  materials.push(Buffer.from(materialOf(okPayload(await w.send([ops.get(t1Key)])))));
  const reg = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  okPayload(await w.send([ops.registerKey(v14, reg, M.Encrypt)]));
  materials.push(reg);
}, 60_000);

afterAll(async () => {
  if (d) {
    await d.stop();
    removeDeployment(d);
  }
});

describe('role × operation matrix', () => {
  const allOps = Object.entries(Enum.Operation) as [string, number][];

  it.each(ROLE_NAMES.map((r) => [r]))('%s: every Operation value is allowed or denied as the role table says, each audited with its rule', async (role) => {
    const c = clients[`${role}-t1`];
    const reasons: (number | undefined)[] = [];
    for (const [, value] of allOps) {
      const res = await c.send([{ operation: value, payload: [uidNode(t1Key)] }]);
      reasons.push(res.batchItems[0]!.resultReason);
    }
    // The last allOps.length records of this certificate are these items, in order.
    const records = (await readAudit()).filter((r) => r.fingerprint === c.fingerprint).slice(-allOps.length);
    expect(records).toHaveLength(allOps.length);
    const denied: string[] = [];
    allOps.forEach(([name, value], i) => {
      const allowed = roleAllows(role, value);
      const rec = records[i]!;
      expect({ op: rec.operation, rule: rec.rule, role: rec.role, tenant: rec.tenant }).toEqual({
        op: name,
        rule: `role ${role} ${allowed ? 'allows' : 'does not allow'} ${name}`,
        role,
        tenant: 't1',
      });
      if (!allowed) {
        expect({ op: name, reason: reasons[i] }).toEqual({ op: name, reason: Enum.ResultReason.PermissionDenied });
        expect(rec).toMatchObject({ status: 'OperationFailed', reason: 'PermissionDenied' });
        denied.push(name);
      }
    });
    if (role === 'Admin') expect(denied).toEqual([]);
    if (role === 'Reader') expect(denied).toEqual(expect.arrayContaining(['Get', 'Encrypt', 'Decrypt', 'MAC', 'Sign', 'Export', 'RNGRetrieve', 'Create', 'Destroy']));
    if (role === 'Writer') expect(denied).toEqual(expect.arrayContaining(['Destroy', 'Revoke', 'DeleteAttribute', 'Archive', 'Recover']));
    if (role === 'Manager') expect(denied).not.toContain('Destroy');
  });

  it('the Reader role performs its metadata operations', async () => {
    const r = clients['Reader-t1'];
    okPayload(await r.send([ops.getAttributes(v14, t1Key, ['CryptographicAlgorithm'])]));
    okPayload(await r.send([{ operation: Enum.Operation.GetAttributeList, payload: [uidNode(t1Key)] }]));
    const located = okPayload(await r.send([{ operation: Enum.Operation.Locate, payload: [] }]));
    expect(located.filter((n) => n.tag === Tag.UniqueIdentifier).map((n) => n.value)).toContain(t1Key);
  });

  it('a burst of denials from one certificate is logged at warn', () => {
    const lines = d.logText().split('\n').filter((l) => l.includes('burst of denied requests'));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: expect.anything(), fingerprint: clients['Reader-t1'].fingerprint });
  });
});

describe('tenants', () => {
  it('another tenant’s object behaves exactly like a missing one (Get, attribute operations, Destroy)', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const who of ['Writer-t2', 'Manager-t2', 'Reader-t2'] as const) {
      const c = clients[who];
      const probes = [ops.get, (u: string) => ops.getAttributes(v14, u, ['CryptographicAlgorithm']), (u: string) => ({ operation: Enum.Operation.GetAttributeList, payload: [uidNode(u)] }), ops.destroy, ops.activate];
      for (const probe of probes) {
        const foreign = (await c.send([probe(t1Key)])).batchItems[0]!;
        const absent = (await c.send([probe(missing)])).batchItems[0]!;
        expect({ who, reason: reasonName(foreign), message: foreign.resultMessage?.replace(t1Key, 'UID') }).toEqual({
          who,
          reason: reasonName(absent),
          message: absent.resultMessage?.replace(missing, 'UID'),
        });
        expect(reasonName(foreign) === 'ItemNotFound' || reasonName(foreign) === 'PermissionDenied').toBe(true);
      }
    }
  });

  it('Locate in one tenant never returns another tenant’s objects; Admin sees every tenant', async () => {
    const t2Key = uidOf(okPayload(await clients['Writer-t2'].send([createAes()])));
    const uids = async (c: Client): Promise<string[]> =>
      okPayload(await c.send([{ operation: Enum.Operation.Locate, payload: [] }]))
        .filter((n) => n.tag === Tag.UniqueIdentifier)
        .map((n) => String(n.value));
    expect(await uids(clients['Reader-t2'])).toContain(t2Key);
    expect(await uids(clients['Reader-t2'])).not.toContain(t1Key);
    expect(await uids(clients['Reader-t1'])).not.toContain(t2Key);
    const admin = await uids(clients['Admin-t1']);
    expect(admin).toEqual(expect.arrayContaining([t1Key, t2Key]));
    // Admin of t1 reads t2's key: scope null reaches the store.
    okPayload(await clients['Admin-t1'].send([ops.get(t2Key)]));
  });
});

describe('bindings and revocation on a running server', () => {
  it('a certificate without a binding is refused and audited; binding it takes effect without restart', async () => {
    const pair = await d.issue('late', 'Writer', 't1', false);
    const c = await d.connect('late', pair);
    const before = (await c.send([{ operation: Enum.Operation.DiscoverVersions, payload: [] }])).batchItems[0]!;
    expect(reasonName(before)).toBe('AuthenticationNotSuccessful');
    await d.withAccess((a) => a.addBinding({ field: 'cn', value: 'late', tenant: 't1', role: 'Writer' }));
    okPayload(await c.send([{ operation: Enum.Operation.DiscoverVersions, payload: [] }]));
    const recs = (await readAudit()).filter((r) => r.fingerprint === pair.fingerprint);
    expect(recs[0]).toMatchObject({ reason: 'AuthenticationNotSuccessful', binding: 'no binding matched', role: null, tenant: null });
    expect(recs[1]).toMatchObject({ status: 'Success', role: 'Writer', binding: expect.stringContaining('cn=late') });
  });

  it('revoking a certificate closes its open connection at once and refuses new ones', async () => {
    const pair = await d.issue('doomed', 'Reader', 't1');
    const c = await d.connect('doomed', pair);
    okPayload(await c.send([{ operation: Enum.Operation.DiscoverVersions, payload: [] }]));
    const t0 = Date.now();
    await d.withAccess((a) => a.revoke({ fingerprint: pair.fingerprint, name: 'doomed', revokedAt: Date.now(), reason: 'test' }));
    while (!c.conn.closed && Date.now() - t0 < 3_000) await new Promise((r) => setTimeout(r, 20));
    expect(c.conn.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2_000);
    const again = d.connect('doomed-again', pair).then((n) => n.send([{ operation: Enum.Operation.DiscoverVersions, payload: [] }]));
    await expect(again).rejects.toThrow();
    // Other connections are untouched.
    okPayload(await clients['Reader-t1'].send([{ operation: Enum.Operation.DiscoverVersions, payload: [] }]));
  });

  it('a certificate that connected before (its facts cached) follows binding changes and revocation on its next connection', async () => {
    const dv = [{ operation: Enum.Operation.DiscoverVersions, payload: [] }];
    const pair = await d.issue('cycled', 'Writer', 't1', false);
    const binding = await d.withAccess((a) => a.addBinding({ field: 'cn', value: 'cycled', tenant: 't1', role: 'Writer' }));
    const first = await d.connect('cycled-1', pair);
    okPayload(await first.send(dv));
    await first.conn.close();
    // Binding removed: the very next connection is refused.
    await d.withAccess((a) => a.removeBinding(binding.id));
    const second = await d.connect('cycled-2', pair);
    expect(reasonName((await second.send(dv)).batchItems[0]!)).toBe('AuthenticationNotSuccessful');
    await second.conn.close();
    // Bound again under another role: the next connection gets that role.
    await d.withAccess((a) => a.addBinding({ field: 'cn', value: 'cycled', tenant: 't1', role: 'Reader' }));
    const third = await d.connect('cycled-3', pair);
    okPayload(await third.send(dv));
    await third.conn.close();
    const recs = (await readAudit()).filter((r) => r.fingerprint === pair.fingerprint);
    expect(recs.map((r) => r.role)).toEqual(['Writer', null, 'Reader']);
    // Revoked: the next connection never gets an answer.
    await d.withAccess((a) => a.revoke({ fingerprint: pair.fingerprint, name: 'cycled', revokedAt: Date.now(), reason: 'test' }));
    const again = d.connect('cycled-4', pair).then((n) => n.send(dv));
    await expect(again).rejects.toThrow();
  });
});

describe('what a Reader receives', () => {
  it('no response to a Reader contains key material, whatever the operation', async () => {
    const r = clients['Reader-t1'];
    // Everything a reader might try, including Get with a Key Wrapping Specification.
    await r.send([ops.get(t1Key)]);
    await r.send([{ operation: Enum.Operation.Get, payload: [uidNode(t1Key), { tag: Tag.KeyWrappingSpecification, type: 'Structure', value: [{ tag: Tag.WrappingMethod, type: 'Enumeration', value: Enum.WrappingMethod.Encrypt }] }] }]);
    await r.send([ops.getAttributes(v14, t1Key, [])]);
    expect(materials.length).toBeGreaterThan(0);
    expect(r.responses.length).toBeGreaterThan(60);
    for (const bytes of r.responses) for (const m of materials) expect(bytes.indexOf(m)).toBe(-1);
  });
});

describe('audit trail', () => {
  it('has one record per batch item with who, what, result, rule, latency, remote address and connection', async () => {
    const recs = await readAudit();
    const get = recs.find((x) => x.operation === 'Get' && x.status === 'Success' && x.uids.includes(t1Key))!;
    expect(get).toMatchObject({ role: 'Writer', tenant: 't1', remoteAddress: '127.0.0.1', rule: 'role Writer allows Get', subject: expect.stringContaining('CN=writer-t1') });
    expect(get.connection).toMatch(/^[0-9a-f]+$/);
    expect(get.latencyUs).toBeGreaterThan(0);
  });

  it('verify passes untouched and names each kind of tampering', async () => {
    await d.stop();
    const intact = await verifyDeploymentAudit(d.dir);
    expect(intact.text).toContain('intact');
    expect(intact.ok).toBe(true);
    const copy = (kind: string): string => {
      const p = path.join(path.dirname(d.dir), `tamper-${kind}.db`);
      copyFileSync(d.dbPath, p);
      return p;
    };
    const verifyFile = async (p: string) => {
      const store = await openSqliteStore({ path: p });
      try {
        const { rows, head } = await sqliteAuditStore(store).chain();
        return verifyChain(rows, head);
      } finally {
        await store.close();
      }
    };
    const tamper = async (kind: string, edit: (db: Database.Database) => void) => {
      const p = copy(kind);
      const db = new Database(p);
      edit(db);
      db.close();
      return verifyFile(p);
    };
    const modified = await tamper('modify', (db) => db.prepare("UPDATE audit_log SET body = replace(body, '\"status\":\"OperationFailed\"', '\"status\":\"Success\"') WHERE seq = 7").run());
    expect(modified.ok).toBe(false);
    expect(modified.problems[0]).toMatchObject({ seq: 7, kind: 'modified' });

    const deleted = await tamper('delete', (db) => db.prepare('DELETE FROM audit_log WHERE seq = 5').run());
    expect(deleted.problems[0]).toMatchObject({ seq: 6, kind: 'deleted' });

    const tail = await tamper('truncate', (db) => db.prepare('DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)').run());
    expect(tail.problems.map((p) => p.kind)).toContain('deleted');

    const inserted = await tamper('insert', (db) => {
      // A forged record in the middle, correctly hashed onto its predecessor; later rows shift.
      const prev = db.prepare('SELECT * FROM audit_log WHERE seq = 4').get() as { hash: string; body: string; at: number };
      db.prepare('UPDATE audit_log SET seq = -seq WHERE seq >= 5').run();
      db.prepare('UPDATE audit_log SET seq = 1 - seq WHERE seq < 0').run();
      const forged = { ...parseBody(prev.body)!, seq: 5, operation: 'Query' };
      const body = canonicalBody(forged);
      db.prepare('INSERT INTO audit_log (seq, at, body, prev_hash, hash) VALUES (5, ?, ?, ?, ?)').run(prev.at, body, prev.hash, chainHash(prev.hash, body));
    });
    expect(inserted.ok).toBe(false);
    expect(inserted.problems[0]).toMatchObject({ seq: 6, kind: 'inserted' });

    const reordered = await tamper('reorder', (db) => {
      db.prepare('UPDATE audit_log SET seq = -1 WHERE seq = 3').run();
      db.prepare('UPDATE audit_log SET seq = 3 WHERE seq = 4').run();
      db.prepare('UPDATE audit_log SET seq = 4 WHERE seq = -1').run();
    });
    expect(reordered.ok).toBe(false);
    expect(reordered.problems[0]).toMatchObject({ seq: 3, kind: 'reordered' });
  });

  it('neither the audit trail nor the log holds key bytes', () => {
    const db = readFileSync(d.dbPath);
    const auditOnly = new Database(d.dbPath, { readonly: true });
    const bodies = (auditOnly.prepare('SELECT body FROM audit_log').all() as { body: string }[]).map((r) => r.body).join('\n');
    auditOnly.close();
    const log = d.logText();
    expect(bodies.length).toBeGreaterThan(1000);
    expect(log.length).toBeGreaterThan(1000);
    for (const m of materials) {
      for (const enc of [m.toString('hex'), m.toString('base64'), m.toString('hex').toUpperCase()]) {
        expect(bodies.includes(enc)).toBe(false);
        expect(log.includes(enc)).toBe(false);
      }
      expect(Buffer.from(bodies).indexOf(m)).toBe(-1);
      expect(Buffer.from(log).indexOf(m)).toBe(-1);
    }
    expect(db.length).toBeGreaterThan(0);
  });
});
