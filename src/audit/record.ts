/**
 * The audit record (K7) and its canonical serialisation, which the hash chain covers.
 *
 * One record per KMIP batch item (KMIP 1.4 §7.1 / 2.1 §8.1), denied and failed ones included.
 * It names who (certificate subject and SHA-256 fingerprint, tenant, role, binding rule), what
 * (operation, Unique Identifiers, result status and reason, the authorization rule), where
 * (connection id, remote address) and how long. It never holds key material or request payloads.
 *
 * Canonical form (`body`): JSON text (RFC 8259) of one object whose members appear exactly in the
 * order of RECORD_FIELDS, with no whitespace, strings escaped as ECMAScript JSON.stringify does,
 * integers only (latency in microseconds), absent values as null, `uids` an array of strings. The
 * body is stored verbatim and hashed as stored:
 *
 *   hash = lowercase hex SHA-256( UTF-8( prevHash || "\n" || body ) )
 *
 * where prevHash is the previous record's hash (64 "0" for the first record) and `seq` inside the
 * body is the record's 1-based position in the chain.
 */
import { hash } from 'node:crypto';

export interface AuditRecord {
  seq: number;
  /** ISO-8601 UTC with milliseconds. */
  time: string;
  connection: string;
  remoteAddress: string;
  subject: string;
  fingerprint: string;
  tenant: string | null;
  role: string | null;
  /** The binding rule that identified the principal, or why none did. */
  binding: string;
  /** KMIP normalised name (`GetAttributes`), or null when the item had no readable Operation. */
  operation: string | null;
  uids: string[];
  /** `Success`, `OperationFailed`, `OperationUndone`. */
  status: string;
  /** `PermissionDenied`, `ItemNotFound`, …; null on success. */
  reason: string | null;
  /** The authorization rule that allowed or denied the item; null when it never reached authorization. */
  rule: string | null;
  latencyUs: number;
  batchIndex: number;
  protocolVersion: string;
}

export const RECORD_FIELDS = [
  'seq',
  'time',
  'connection',
  'remoteAddress',
  'subject',
  'fingerprint',
  'tenant',
  'role',
  'binding',
  'operation',
  'uids',
  'status',
  'reason',
  'rule',
  'latencyUs',
  'batchIndex',
  'protocolVersion',
] as const satisfies readonly (keyof AuditRecord)[];

export function canonicalBody(r: AuditRecord): string {
  return sealedBody(r.seq, bodyAfterSeq(r));
}

/**
 * The canonical body of a record whose `seq` is not known yet, minus its opening `{"seq":N`:
 * `sealedBody(seq, bodyAfterSeq(r))` equals `canonicalBody({ ...r, seq })`. The trail builds this
 * part when the item finishes, so the write transaction that assigns `seq` only concatenates.
 */
export function bodyAfterSeq(r: Omit<AuditRecord, 'seq'>): string {
  return bodyAfterSeqParts(r.time, connectionMembers(r), r);
}

/** The members that are the same for every item of a connection under one identity. */
export const CONNECTION_FIELDS = ['connection', 'remoteAddress', 'subject', 'fingerprint', 'tenant', 'role', 'binding'] as const;
/** The members of one item, after the connection's. */
const ITEM_FIELDS = ['operation', 'uids', 'status', 'reason', 'rule', 'latencyUs', 'batchIndex', 'protocolVersion'] as const;
// The split must follow RECORD_FIELDS, which alone defines the order.
if (['seq', 'time', ...CONNECTION_FIELDS, ...ITEM_FIELDS].join() !== RECORD_FIELDS.join()) {
  throw new Error('audit record: CONNECTION_FIELDS and ITEM_FIELDS must follow RECORD_FIELDS');
}

export type ConnectionFacts = Pick<AuditRecord, (typeof CONNECTION_FIELDS)[number]>;

/**
 * The canonical text of the connection's members (`,"connection":…,"binding":…`). The trail
 * keeps it per connection: those members are most of a record's text (the fingerprint, subject
 * and binding rule), and JSON.stringify was most of the cost of a record.
 */
export function connectionMembers(c: ConnectionFacts): string {
  return members(c, CONNECTION_FIELDS);
}

/** bodyAfterSeq from the record's time, its connection's members and its own facts. */
export function bodyAfterSeqParts(time: string, connection: string, item: Pick<AuditRecord, (typeof ITEM_FIELDS)[number]>): string {
  return `,"time":${JSON.stringify(time)}${connection}${members(item, ITEM_FIELDS)}}`;
}

/** `,"name":value` for each of `fields`, as JSON.stringify writes them in an object. */
function members<T extends object>(r: T, fields: readonly (keyof T & string)[]): string {
  const ordered: Record<string, unknown> = {};
  for (const f of fields) ordered[f] = r[f];
  const text = JSON.stringify(ordered);
  return text === '{}' ? '' : `,${text.slice(1, -1)}`;
}

/** The canonical body at position `seq` (JSON writes a safe integer as its decimal digits). */
export function sealedBody(seq: number, afterSeq: string): string {
  return `{"seq":${Number.isSafeInteger(seq) ? seq : JSON.stringify(seq)}${afterSeq}`;
}

/** One-shot crypto.hash: no Hash object per record (the trail hashes one per batch item). */
export function chainHash(prevHash: string, body: string): string {
  return hash('sha256', `${prevHash}\n${body}`, 'hex');
}

/**
 * `new Date(at).toISOString()`, the part up to the seconds made once per second: toISOString
 * consulted V8's time-zone cache (ICU) on every call, ~0.7-1 us per record in a profile of Get.
 */
export function isoTime(at: number): string {
  const second = Math.floor(at / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const ms = at - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
let isoSecond = Number.NaN;
let isoPrefix = '';

/** Parses a stored body; undefined when it is not a well-formed record in canonical form. */
export function parseBody(body: string): AuditRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== RECORD_FIELDS.length || keys.some((k, i) => k !== RECORD_FIELDS[i])) return undefined;
  const r = v as AuditRecord;
  if (!Number.isSafeInteger(r.seq) || typeof r.time !== 'string' || !Array.isArray(r.uids)) return undefined;
  return canonicalBody(r) === body ? r : undefined;
}
