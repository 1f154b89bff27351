/**
 * Storage contracts for access control and the audit trail (K7): role bindings, issued and
 * revoked client certificates, and the append-only, hash-chained audit log. The rules that give
 * these rows meaning live in src/authz and src/audit; this file only says what is stored.
 *
 * The executor identifies a principal synchronously per message, from an in-memory snapshot that
 * is reloaded only when the database changed (see changedSince). Everything else is asynchronous,
 * so a networked database (PostgreSQL) implements the same contract as the embedded one.
 */

/** The certificate property a binding rule looks at. */
export type MatchField = 'cn' | 'ou' | 'o' | 'san-uri' | 'san-dns' | 'san-email' | 'issuer' | 'fingerprint';

export interface RoleBinding {
  id: number;
  /** Ascending: the first rule that matches wins. */
  position: number;
  field: MatchField;
  value: string;
  tenant: string;
  role: string;
  note: string | null;
  createdAt: number;
}

export interface NewRoleBinding {
  field: MatchField;
  value: string;
  tenant: string;
  role: string;
  note?: string;
  /** Insert before the rule now at this position (1-based); absent: after every rule. */
  position?: number;
}

/** A client certificate issued or signed by this deployment. */
export interface ClientCertificateRecord {
  fingerprint: string;
  name: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
}

export interface Revocation {
  fingerprint: string;
  name: string | null;
  revokedAt: number;
  reason: string | null;
}

/** What the server holds in memory to identify principals. */
export interface AccessSnapshot {
  /** Opaque change marker; passed back to changedSince(). */
  counter: number;
  bindings: RoleBinding[];
  revocations: Revocation[];
}

export interface AccessStore {
  /** In evaluation order. */
  listBindings(): Promise<RoleBinding[]>;
  addBinding(binding: NewRoleBinding): Promise<RoleBinding>;
  removeBinding(id: number): Promise<boolean>;
  /** Records an issued certificate and binds it, in one transaction (`kmipd cert issue|sign`). */
  recordCertificate(cert: ClientCertificateRecord, binding?: NewRoleBinding): Promise<RoleBinding | undefined>;
  listCertificates(): Promise<ClientCertificateRecord[]>;
  findCertificate(nameOrFingerprint: string): Promise<ClientCertificateRecord | undefined>;
  /** false when it was already revoked. */
  revoke(revocation: Revocation): Promise<boolean>;
  listRevocations(): Promise<Revocation[]>;
  /**
   * Bindings and revocations if the database changed since `counter` (undefined: unchanged; pass
   * undefined to always load). An in-process database answers synchronously (SQLite: PRAGMA
   * data_version, one cheap statement), so a CLI change is seen by the very next request; a
   * networked one answers with a Promise and the server polls it (src/authz/access-control.ts).
   */
  changedSince(counter: number | undefined): AccessSnapshot | undefined | Promise<AccessSnapshot | undefined>;
}

/** The previous hash of the first audit record. */
export const GENESIS_HASH = '0'.repeat(64);

/** One stored audit record: `body` is exactly the bytes (UTF-8) the hash covers. */
export interface AuditRow {
  seq: number;
  at: number;
  body: string;
  prevHash: string;
  hash: string;
}

/** Builds a record once its place in the chain is known (inside the write transaction). */
export type AuditSealer = (link: { seq: number; prevHash: string }) => { at: number; body: string; hash: string };

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditStore {
  /** Appends in order; resolves once durable (shares the group commit with object writes). */
  append(records: readonly AuditSealer[]): Promise<void>;
  /** Rows in stored order (by seq), optionally from a time (ms since the epoch). */
  rows(options?: { sinceMs?: number }): Promise<AuditRow[]>;
  head(): Promise<AuditHead | undefined>;
  /** Every row and the head, read in one snapshot (verify while nodes keep appending). */
  chain(): Promise<{ rows: AuditRow[]; head: AuditHead | undefined }>;
}
