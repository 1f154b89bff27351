// The audit trail's records (K7) as the store receives them: each body is the canonical body of
// the record the event describes, also when the connection's members come from the per-connection
// text the trail keeps, and that text follows a change of identity on the same connection.
import { describe, expect, it } from 'vitest';
import { createAuditTrail } from '../../../src/audit/trail.js';
import { canonicalBody, parseBody, type AuditRecord } from '../../../src/audit/record.js';
import type { ItemEvent } from '../../../src/dispatch/executor.js';
import type { ConnectionInfo, Principal } from '../../../src/dispatch/types.js';
import type { AuditSealer } from '../../../src/store/access-types.js';
import { Enum } from '../../../src/kmip/registry.js';

const quietLog = { info() {}, warn() {}, error() {}, debug() {}, child() { return quietLog; } } as never;

function collectingTrail(now: number) {
  const bodies: string[] = [];
  let seq = 0;
  const store = {
    append(sealers: readonly AuditSealer[]) {
      for (const seal of sealers) bodies.push(seal({ seq: ++seq, prevHash: '0'.repeat(64) }).body);
      return Promise.resolve();
    },
  };
  const trail = createAuditTrail({ store: store as never, log: quietLog, explain: () => 'no binding matched "CN=x"', clock: () => now });
  return { trail, bodies };
}

const principal = { subject: 'CN=alice "the admin",O=kmipd', fingerprint: 'cd'.repeat(32) } as Principal;
const conn: ConnectionInfo = { id: 'c7', remoteAddress: '10.0.0.9', principal };

function event(identity: ItemEvent['identity'], uid: string): ItemEvent {
  return {
    conn, version: { major: 1, minor: 4 }, identity, decision: { allowed: true, rule: 'role Admin allows Get' },
    operation: Enum.Operation.Get, uids: [uid], status: Enum.ResultStatus.Success, reason: undefined, durationMs: 0.25, batchIndex: 0,
  };
}

describe('audit trail records', () => {
  it('writes the canonical body of each event, and follows an identity change on the same connection', async () => {
    const at = Date.UTC(2026, 10, 28, 12, 0, 0, 42);
    const { trail, bodies } = collectingTrail(at);
    const admin = { tenant: 'acme', scope: 'acme', role: 'Admin', rule: 'binding #1' };
    const reader = { tenant: 'acme', scope: 'acme', role: 'Reader', rule: 'binding #2' };
    await trail.record([event(admin, 'u1')]);
    await trail.record([event(admin, 'u2')]);
    await trail.record([event(reader, 'u3')]);
    await trail.record([event(undefined, 'u4')]);
    const expected = (seq: number, id: typeof admin | undefined, uid: string): AuditRecord => ({
      seq, time: '2026-11-28T12:00:00.042Z', connection: 'c7', remoteAddress: '10.0.0.9', subject: principal.subject, fingerprint: principal.fingerprint,
      tenant: id?.tenant ?? null, role: id?.role ?? null, binding: id?.rule ?? 'no binding matched "CN=x"', operation: 'Get', uids: [uid],
      status: 'Success', reason: null, rule: 'role Admin allows Get', latencyUs: 250, batchIndex: 0, protocolVersion: '1.4',
    });
    expect(bodies).toEqual([expected(1, admin, 'u1'), expected(2, admin, 'u2'), expected(3, reader, 'u3'), expected(4, undefined, 'u4')].map(canonicalBody));
    expect(bodies.map((b) => parseBody(b)?.role)).toEqual(['Admin', 'Admin', 'Reader', null]);
  });
});
