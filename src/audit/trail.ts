/**
 * The audit trail writer (K7): turns the executor's ItemEvents (one per batch item, denied and
 * failed ones included) into hash-chained records and appends them durably before the response
 * is sent. Only names, identifiers and result codes are recorded, never payloads, so key
 * material cannot reach the trail. Refusals feed the denial-burst monitor.
 */
import type { Logger } from 'pino';
import type { ItemEvent } from '../dispatch/executor.js';
import type { Principal } from '../dispatch/types.js';
import { enumValueName } from '../kmip/registry.js';
import { Enum } from '../kmip/registry.js';
import type { AuditSealer, AuditStore } from '../store/access-types.js';
import { createDenialMonitor, type DenialMonitor } from '../authz/denial-monitor.js';
import { CONNECTION_FIELDS, bodyAfterSeqParts, chainHash, connectionMembers, isoTime, sealedBody, type ConnectionFacts } from './record.js';
import type { ConnectionInfo } from '../dispatch/types.js';

export interface AuditTrailOptions {
  store: AuditStore;
  log: Logger;
  /** Why a principal without identity was refused (authz explain()). */
  explain(principal: Principal): string;
  clock?: () => number;
  monitor?: DenialMonitor;
}

export interface AuditTrail {
  record(events: readonly ItemEvent[]): Promise<void>;
}

const REFUSALS: ReadonlySet<number> = new Set([Enum.ResultReason.PermissionDenied, Enum.ResultReason.AuthenticationNotSuccessful]);

export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const clock = options.clock ?? Date.now;
  const monitor = options.monitor ?? createDenialMonitor({ log: options.log });
  /** Each connection's members as text, kept while its facts stay the same (compared member by member). */
  const connectionText = new WeakMap<ConnectionInfo, { facts: ConnectionFacts; text: string }>();
  const membersOf = (conn: ConnectionInfo, facts: ConnectionFacts): string => {
    const kept = connectionText.get(conn);
    if (kept !== undefined && sameFacts(kept.facts, facts)) return kept.text;
    const text = connectionMembers(facts);
    connectionText.set(conn, { facts, text });
    return text;
  };
  return {
    record(events) {
      const at = clock();
      const sealers = events.map((ev): AuditSealer => {
        const operation = ev.operation === undefined ? null : (enumValueName('Operation', ev.operation) ?? `Operation${ev.operation}`);
        const reason = ev.reason === undefined ? null : (enumValueName('ResultReason', ev.reason) ?? String(ev.reason));
        if (ev.reason !== undefined && REFUSALS.has(ev.reason)) monitor.denied(ev.conn.principal, operation);
        const facts: ConnectionFacts = {
          connection: ev.conn.id,
          remoteAddress: ev.conn.remoteAddress,
          subject: ev.conn.principal.subject,
          fingerprint: ev.conn.principal.fingerprint,
          tenant: ev.identity?.tenant ?? null,
          role: ev.identity?.role ?? null,
          binding: ev.identity?.rule ?? options.explain(ev.conn.principal),
        };
        // Serialised now: the sealer runs inside the group's write transaction, where only the
        // position is left to fill in.
        const afterSeq = bodyAfterSeqParts(isoTime(at), membersOf(ev.conn, facts), {
          operation,
          uids: [...ev.uids],
          status: enumValueName('ResultStatus', ev.status) ?? String(ev.status),
          reason,
          rule: ev.decision?.rule ?? null,
          latencyUs: Math.max(0, Math.round(ev.durationMs * 1000)),
          batchIndex: ev.batchIndex,
          protocolVersion: `${ev.version.major}.${ev.version.minor}`,
        });
        return ({ seq, prevHash }) => {
          const body = sealedBody(seq, afterSeq);
          return { at, body, hash: chainHash(prevHash, body) };
        };
      });
      return options.store.append(sealers);
    },
  };
}

function sameFacts(a: ConnectionFacts, b: ConnectionFacts): boolean {
  return CONNECTION_FIELDS.every((f) => a[f] === b[f]);
}
