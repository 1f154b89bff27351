/**
 * Storage contracts for access control and the audit trail (K7): role bindings, issued and
 * revoked client certificates, and the append-only, hash-chained audit log. The rules that give
 * these rows meaning live in src/authz and src/audit; this file only says what is stored.
 *
 * Synchronous reads: the executor identifies a principal synchronously per message, from an
 * in-memory snapshot that is reloaded only when the database changed (see changeCounter).
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

export interface AccessStore {
  /** In evaluation order. */
  listBindings(): RoleBinding[];
  addBinding(binding: NewRoleBinding): RoleBinding;
  removeBinding(id: number): boolean;
  recordCertificate(cert: ClientCertificateRecord): void;
  listCertificates(): ClientCertificateRecord[];
  findCertificate(nameOrFingerprint: string): ClientCertificateRecord | undefined;
  /** false when it was already revoked. */
  revoke(revocation: Revocation): boolean;
  listRevocations(): Revocation[];
  /**
   * Changes whenever another connection committed to the database: a cheap per-request check
   * that tells the server to reload bindings and revocations (SQLite PRAGMA data_version).
   */
  changeCounter(): number;
}

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
  rows(options?: { sinceMs?: number }): AuditRow[];
  head(): AuditHead | undefined;
}
