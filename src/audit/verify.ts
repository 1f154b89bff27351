/**
 * Verification of the hash-chained audit trail (see record.ts for the canonical form). Walks the
 * stored rows in seq order and reports every place where the chain does not hold, naming the
 * kind of tampering the evidence points to:
 *   modified  — a body no longer hashes to its stored hash (or is not canonical);
 *   deleted   — a gap in seq, or the stored head is past the last row (tail truncated);
 *   inserted  — a row whose body claims a seq that is already taken, or links to an older record;
 *   reordered — a body whose seq differs from its position while the chain links are broken.
 * A chain rewritten from some point on by someone who recomputed every later hash is only caught
 * against a head recorded elsewhere (`--expect-head SEQ:HASH`, README "auditing").
 */
import type { AuditHead, AuditRow } from '../store/access-types.js';
import { chainHash, parseBody } from './record.js';

export type ProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'anchor';

export interface VerifyProblem {
  seq: number;
  kind: ProblemKind;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  head: AuditHead | undefined;
  problems: VerifyProblem[];
}

const GENESIS = '0'.repeat(64);

export function verifyChain(rows: readonly AuditRow[], storedHead: AuditHead | undefined, expect?: AuditHead): VerifyResult {
  const problems: VerifyProblem[] = [];
  const byHash = new Map<string, number>();
  let prev: AuditRow | undefined;
  const claimed = new Map<number, number>();
  for (const row of rows) {
    const rec = parseBody(row.body);
    if (rec !== undefined) claimed.set(rec.seq, (claimed.get(rec.seq) ?? 0) + 1);
  }
  for (const row of rows) {
    const expectedSeq = (prev?.seq ?? 0) + 1;
    const expectedPrev = prev?.hash ?? GENESIS;
    const rec = parseBody(row.body);
    const hashOk = chainHash(row.prevHash, row.body) === row.hash;
    if (rec === undefined || !hashOk) {
      problems.push({ seq: row.seq, kind: 'modified', message: `record ${row.seq}: content does not match its hash (modified)` });
    } else if (rec.seq !== row.seq) {
      const dup = (claimed.get(rec.seq) ?? 0) > 1;
      problems.push({
        seq: row.seq,
        kind: dup ? 'inserted' : 'reordered',
        message: dup
          ? `record ${row.seq}: its content claims position ${rec.seq}, which another record also claims (inserted)`
          : `record ${row.seq}: its content belongs at position ${rec.seq} (reordered)`,
      });
    } else if (Date.parse(rec.time) !== row.at) {
      problems.push({ seq: row.seq, kind: 'modified', message: `record ${row.seq}: stored time differs from the hashed time (modified)` });
    }
    if (row.seq !== expectedSeq) {
      problems.push({
        seq: row.seq,
        kind: 'deleted',
        message: row.seq > expectedSeq ? `records ${expectedSeq}..${row.seq - 1} are missing (deleted)` : `record ${row.seq} is out of sequence`,
      });
    } else if (row.prevHash !== expectedPrev) {
      const linked = byHash.get(row.prevHash);
      problems.push({
        seq: row.seq,
        kind: linked !== undefined ? 'inserted' : 'reordered',
        message:
          linked !== undefined
            ? `record ${row.seq}: links to record ${linked}, not to record ${row.seq - 1} (inserted or reordered before it)`
            : `record ${row.seq}: does not link to record ${row.seq - 1} (inserted, deleted or reordered)`,
      });
    }
    byHash.set(row.hash, row.seq);
    prev = row;
  }
  const last = rows[rows.length - 1];
  if (storedHead !== undefined) {
    if (last === undefined || storedHead.seq > last.seq) {
      problems.push({ seq: (last?.seq ?? 0) + 1, kind: 'deleted', message: `the trail ends at record ${last?.seq ?? 0} but its head says ${storedHead.seq} (tail deleted)` });
    } else if (storedHead.seq === last.seq && storedHead.hash !== last.hash) {
      problems.push({ seq: last.seq, kind: 'modified', message: `record ${last.seq}: hash differs from the recorded head (modified)` });
    } else if (storedHead.seq < last.seq) {
      problems.push({ seq: storedHead.seq + 1, kind: 'inserted', message: `records after ${storedHead.seq} were appended outside kmipd (inserted)` });
    }
  } else if (last !== undefined) {
    problems.push({ seq: 1, kind: 'deleted', message: 'the trail has records but no head (head deleted)' });
  }
  if (expect !== undefined) {
    const at = rows.find((r) => r.seq === expect.seq);
    if (at === undefined || at.hash !== expect.hash) {
      problems.push({ seq: expect.seq, kind: 'anchor', message: `record ${expect.seq} no longer has the hash recorded earlier (${expect.hash.slice(0, 16)}…): the trail was rewritten` });
    }
  }
  return { ok: problems.length === 0, records: rows.length, head: last === undefined ? undefined : { seq: last.seq, hash: last.hash }, problems };
}
