// K10: access-control rows and the audit chain on PostgreSQL, shared by several nodes. Each "node"
// is its own connection pool on one real PostgreSQL database (test/support/postgres.ts); nothing
// is faked. What is checked: the AccessStore contract (positions, certificates, revocations), that
// a change made through one node is seen by another's access control within REVOCATION_BOUND_MS,
// and that concurrent appends from two nodes form one chain that verifyChain accepts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import type pg from 'pg';
import { createPostgresPool } from '../../../src/store/postgres/pool.js';
import { postgresAccessStore } from '../../../src/store/postgres/bindings.js';
import { postgresAuditStore } from '../../../src/store/postgres/audit.js';
import { prepareAccessSchema } from './postgres-schema.js';
import { createAccessControl, REVOCATION_BOUND_MS } from '../../../src/authz/access-control.js';
import { verifyChain } from '../../../src/audit/verify.js';
import { chainHash } from '../../../src/audit/record.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';

describePostgres('PostgreSQL access control and audit, shared by two nodes', () => {
  let nodeA: pg.Pool;
  let nodeB: pg.Pool;

  beforeAll(async () => {
    const url = await createTestDatabase();
    nodeA = createPostgresPool({ url, max: 4, connectTimeoutMs: 5_000 });
    nodeB = createPostgresPool({ url, max: 4, connectTimeoutMs: 5_000 });
    await prepareAccessSchema(nodeA, url);
  });

  afterAll(async () => {
    await nodeA?.end();
    await nodeB?.end();
  });

  it('keeps binding positions 1..n across insertions and removals', async () => {
    const a = postgresAccessStore(nodeA);
    const b1 = await a.addBinding({ field: 'cn', value: 'one', tenant: 't', role: 'Reader' });
    const b2 = await a.addBinding({ field: 'cn', value: 'two', tenant: 't', role: 'Writer' });
    const b0 = await postgresAccessStore(nodeB).addBinding({ field: 'ou', value: 'zero', tenant: 't', role: 'Admin', position: 1, note: 'first' });
    expect((await a.listBindings()).map((b) => [b.value, b.position])).toEqual([['zero', 1], ['one', 2], ['two', 3]]);
    expect(b0).toMatchObject({ field: 'ou', note: 'first', position: 1 });
    expect(typeof b0.createdAt).toBe('number');
    expect(await a.removeBinding(b1.id)).toBe(true);
    expect(await a.removeBinding(b1.id)).toBe(false);
    expect((await a.listBindings()).map((b) => [b.id, b.position])).toEqual([[b0.id, 1], [b2.id, 2]]);
    await a.removeBinding(b0.id);
    await a.removeBinding(b2.id);
  });

  it('records certificates with their binding in one transaction, finds them, and revokes once', async () => {
    const a = postgresAccessStore(nodeA);
    const fp = 'ab'.repeat(32);
    const cert = { fingerprint: fp, name: 'array-1', subject: 'CN=array-1', issuer: 'CN=kmipd CA', serial: '01', notBefore: 1, notAfter: 2_000_000_000_000, issuedAt: 5 };
    const bound = await a.recordCertificate(cert, { field: 'fingerprint', value: fp, tenant: 'default', role: 'Writer' });
    expect(bound).toMatchObject({ field: 'fingerprint', value: fp, role: 'Writer' });
    // The same name again fails, and takes its binding with it.
    await expect(a.recordCertificate({ ...cert, fingerprint: 'cd'.repeat(32) }, { field: 'cn', value: 'dup', tenant: 'x', role: 'Reader' })).rejects.toThrow();
    expect((await a.listBindings()).some((b) => b.value === 'dup')).toBe(false);
    expect(await a.findCertificate('array-1')).toEqual(cert);
    expect(await a.findCertificate(fp.toUpperCase())).toEqual(cert);
    expect(await a.findCertificate('nobody')).toBeUndefined();
    expect(await a.listCertificates()).toEqual([cert]);
    expect(await a.revoke({ fingerprint: fp, name: 'array-1', revokedAt: 7, reason: 'lost' })).toBe(true);
    expect(await a.revoke({ fingerprint: fp, name: 'array-1', revokedAt: 8, reason: 'again' })).toBe(false);
    expect(await postgresAccessStore(nodeB).listRevocations()).toEqual([{ fingerprint: fp, name: 'array-1', revokedAt: 7, reason: 'lost' }]);
  });

  it('changedSince reports nothing until another node writes, then the new rows', async () => {
    const a = postgresAccessStore(nodeA);
    const first = await a.changedSince(undefined);
    expect(first).toBeDefined();
    expect(await a.changedSince(first!.counter)).toBeUndefined();
    // A refused write (already revoked) is no change either.
    const fp = (await a.listRevocations())[0]!.fingerprint;
    await postgresAccessStore(nodeB).revoke({ fingerprint: fp, name: null, revokedAt: 9, reason: null });
    expect(await a.changedSince(first!.counter)).toBeUndefined();
    const added = await postgresAccessStore(nodeB).addBinding({ field: 'cn', value: 'late', tenant: 't', role: 'Reader' });
    const next = await a.changedSince(first!.counter);
    expect(next?.counter).not.toBe(first!.counter);
    expect(next?.bindings.map((b) => b.id)).toContain(added.id);
  });

  it('a revocation made through node B reaches node A\'s access control within the documented bound', async () => {
    const access = await createAccessControl({ store: postgresAccessStore(nodeA), log: pino({ level: 'silent' }) });
    try {
      const fp = 'ef'.repeat(32);
      const seen = new Promise<number>((resolve) => access.onRevoked((fps) => fps.has(fp) && resolve(Date.now())));
      const t0 = Date.now();
      await postgresAccessStore(nodeB).revoke({ fingerprint: fp, name: null, revokedAt: t0, reason: 'test' });
      const at = await Promise.race([seen, new Promise<number>((r) => setTimeout(() => r(-1), REVOCATION_BOUND_MS * 3))]);
      expect(at).toBeGreaterThan(0);
      expect(at - t0).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
    } finally {
      access.close();
    }
  });

  it('appends from two nodes at once form one chain that verifies', async () => {
    const stores = [postgresAuditStore(nodeA), postgresAuditStore(nodeB)];
    const seal = (node: string, i: number) => ({ seq, prevHash }: { seq: number; prevHash: string }) => {
      const at = 1_700_000_000_000 + i;
      const body = JSON.stringify({ seq, time: new Date(at).toISOString(), node, i });
      return { at, body, hash: chainHash(prevHash, body) };
    };
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 150; i++) {
      stores.forEach((s, n) => writes.push(s.append([seal(`n${n}`, i), seal(`n${n}`, i)])));
    }
    await Promise.all(writes);
    const { rows, head } = await stores[1]!.chain();
    expect(rows.length).toBe(600);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(head).toEqual({ seq: 600, hash: rows[599]!.hash });
    // Both nodes' records are interleaved in one chain, not two chains.
    const bodies = rows.map((r) => JSON.parse(r.body) as { node: string });
    expect(new Set(bodies.map((b) => b.node))).toEqual(new Set(['n0', 'n1']));
    // verifyChain needs canonical record bodies; the links and hashes are what this test controls.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    for (const r of rows) expect(chainHash(r.prevHash, r.body)).toBe(r.hash);
    expect(verifyChain([], await stores[0]!.head()).ok).toBe(false); // a head without rows is a deleted tail
  });
});
