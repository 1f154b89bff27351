// The audit hash chain (K7), without I/O: a chain built with the canonical form verifies, and
// each kind of tampering is reported at the right record with the right kind.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bodyAfterSeq, canonicalBody, chainHash, isoTime, parseBody, sealedBody, type AuditRecord } from '../../../src/audit/record.js';
import { verifyChain } from '../../../src/audit/verify.js';
import type { AuditRow } from '../../../src/store/access-types.js';

function record(seq: number): AuditRecord {
  return {
    seq, time: new Date(1_700_000_000_000 + seq * 1000).toISOString(), connection: 'c1', remoteAddress: '127.0.0.1', subject: 'CN=a', fingerprint: 'ab'.repeat(32),
    tenant: 't', role: 'Reader', binding: 'binding #1', operation: 'Get', uids: [`u${seq}`], status: 'OperationFailed', reason: 'PermissionDenied',
    rule: 'role Reader does not allow Get', latencyUs: 12, batchIndex: 0, protocolVersion: '1.4',
  };
}

function chain(n: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = '0'.repeat(64);
  for (let i = 1; i <= n; i++) {
    const body = canonicalBody(record(i));
    const hash = chainHash(prev, body);
    rows.push({ seq: i, at: Date.parse(record(i).time), body, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}
const headOf = (rows: AuditRow[]) => ({ seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash });

describe('audit chain', () => {
  it('canonical body: fixed member order, no whitespace, parses back', () => {
    const body = canonicalBody(record(1));
    expect(body.startsWith('{"seq":1,"time":"')).toBe(true);
    expect(body).not.toMatch(/\s"/);
    expect(parseBody(body)).toEqual(record(1));
    expect(parseBody(body.replace('{"seq":1,', '{ "seq":1,'))).toBeUndefined();
  });

  it('a body sealed from its part after seq is the canonical body, and hashes as SHA-256 of prev \\n body', () => {
    // Strings that JSON must escape, a null, several uids: the body text is JSON.stringify's.
    const tricky: AuditRecord = { ...record(7), subject: 'CN=a "quoted" \\ name\nO=ünï', uids: ['u1', 'u2'], reason: null, rule: null };
    const { seq, ...rest } = tricky;
    const expected =
      `{"seq":${seq},"time":${JSON.stringify(tricky.time)},"connection":"c1","remoteAddress":"127.0.0.1","subject":${JSON.stringify(tricky.subject)},` +
      `"fingerprint":"${'ab'.repeat(32)}","tenant":"t","role":"Reader","binding":"binding #1","operation":"Get","uids":["u1","u2"],` +
      `"status":"OperationFailed","reason":null,"rule":null,"latencyUs":12,"batchIndex":0,"protocolVersion":"1.4"}`;
    expect(sealedBody(seq, bodyAfterSeq(rest))).toBe(expected);
    expect(canonicalBody(tricky)).toBe(expected);
    expect(parseBody(expected)).toEqual(tricky);
    const prev = 'f'.repeat(64);
    expect(chainHash(prev, expected)).toBe(createHash('sha256').update(`${prev}\n${expected}`, 'utf8').digest('hex'));
  });

  it('isoTime is toISOString, across milliseconds, seconds, days and back in time', () => {
    const base = Date.UTC(2026, 11, 31, 23, 59, 58, 0);
    const times = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1999, 2000, 2001, 86_399_999, 86_400_000];
    for (const t of [...times.map((d) => base + d), ...times.map((d) => base - d), 0, 5, 999, 1000, Date.UTC(1999, 0, 1, 0, 0, 0, 7)]) {
      expect(isoTime(t)).toBe(new Date(t).toISOString());
    }
  });

  it('an untouched chain verifies', () => {
    const rows = chain(6);
    expect(verifyChain(rows, headOf(rows))).toMatchObject({ ok: true, records: 6, problems: [] });
  });

  it('detects modification, deletion, reordering, insertion and truncation, and says where', () => {
    const rows = chain(6);
    const head = headOf(rows);
    const modified = rows.map((r) => (r.seq === 3 ? { ...r, body: r.body.replace('"u3"', '"u9"') } : r));
    expect(verifyChain(modified, head).problems[0]).toMatchObject({ seq: 3, kind: 'modified' });

    expect(verifyChain(rows.filter((r) => r.seq !== 4), head).problems[0]).toMatchObject({ seq: 5, kind: 'deleted' });

    const swapped = rows.map((r) => (r.seq === 2 ? { ...rows[2]!, seq: 2 } : r.seq === 3 ? { ...rows[1]!, seq: 3 } : r));
    expect(verifyChain(swapped, head).problems[0]).toMatchObject({ seq: 2, kind: 'reordered' });

    const forgedBody = canonicalBody({ ...record(4), operation: 'Query' });
    const forged = { seq: 4, at: rows[3]!.at, body: forgedBody, prevHash: rows[2]!.hash, hash: chainHash(rows[2]!.hash, forgedBody) };
    const inserted = [...rows.slice(0, 3), forged, ...rows.slice(3).map((r) => ({ ...r, seq: r.seq + 1 }))];
    const res = verifyChain(inserted, head);
    expect(res.ok).toBe(false);
    expect(res.problems[0]).toMatchObject({ seq: 5, kind: 'inserted' });

    expect(verifyChain(rows.slice(0, 5), head).problems[0]).toMatchObject({ kind: 'deleted' });
    expect(verifyChain(rows.slice(0, 5), headOf(rows.slice(0, 5)), { seq: 6, hash: head.hash }).problems[0]).toMatchObject({ kind: 'anchor' });
  });
});
