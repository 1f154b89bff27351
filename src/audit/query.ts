/**
 * Filters for `kmipd audit show` (K7): by time, principal, operation and result, applied to
 * parsed records in chain order. `--result` accepts a status (`Success`, `OperationFailed`), a
 * reason (`PermissionDenied`), or `denied` (Permission Denied and Authentication Not Successful).
 */
import type { AuditRecord } from './record.js';

export interface AuditFilter {
  /** Milliseconds since the epoch. */
  sinceMs?: number;
  /** Substring of the subject, or a fingerprint prefix. */
  principal?: string;
  operation?: string;
  result?: string;
}

/** `2024-05-01T10:00:00Z`, or a duration back from now: `90s`, `15m`, `2h`, `7d`. */
export function parseSince(text: string, now: number = Date.now()): number {
  const rel = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (rel) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(rel[1]) * unit;
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--since: "${text}" is neither a date nor a duration like 15m`);
  return t;
}

export function matchesFilter(r: AuditRecord, f: AuditFilter): boolean {
  if (f.sinceMs !== undefined && Date.parse(r.time) < f.sinceMs) return false;
  if (f.principal !== undefined) {
    const p = f.principal.toLowerCase();
    if (!r.subject.toLowerCase().includes(p) && !r.fingerprint.startsWith(p.replace(/:/g, ''))) return false;
  }
  if (f.operation !== undefined && (r.operation ?? '').toLowerCase() !== f.operation.toLowerCase()) return false;
  if (f.result !== undefined) {
    const want = f.result.toLowerCase();
    if (want === 'denied') return r.reason === 'PermissionDenied' || r.reason === 'AuthenticationNotSuccessful';
    if (r.status.toLowerCase() !== want && (r.reason ?? '').toLowerCase() !== want) return false;
  }
  return true;
}

export function formatRecord(r: AuditRecord): string {
  const result = r.reason === null ? r.status : `${r.status}/${r.reason}`;
  const who = `${r.subject} [${r.fingerprint.slice(0, 16)}] ${r.tenant ?? '-'}/${r.role ?? '-'}`;
  return `#${r.seq} ${r.time} ${who} ${r.operation ?? '-'} ${r.uids.join(',') || '-'} ${result} rule="${r.rule ?? r.binding}" ${(r.latencyUs / 1000).toFixed(1)}ms ${r.remoteAddress} conn=${r.connection}`;
}
