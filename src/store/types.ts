/**
 * The object store contract: managed objects (KMIP 1.4 §2.2, 2.1 §2) with their attributes
 * (1.4 §3, 2.1 §4), tenant-scoped, read and written through one unit of work per KMIP batch.
 *
 * Asynchronous so that a networked database can implement it later; the SQLite implementation
 * lives in ./sqlite/. Key material only ever arrives here wrapped by the HSM (ProtectedMaterial).
 *
 * Columns, not attributes: Unique Identifier, Object Type and State are fields of StoredObject
 * and never appear in `attributes` (one source of truth). Locate accepts them as attribute
 * filters and maps them onto those fields.
 */
import type { ProtectedMaterial } from '../hsm/key-protector.js';
import type { TtlvNode } from '../ttlv/types.js';

/** Who is asking. `null` is operator scope: every tenant. */
export interface Scope {
  readonly tenant: string | null;
}

/**
 * One attribute instance. `name` is the KMIP XML attribute name ('CryptographicAlgorithm', 'Name',
 * 'Link', …) or a custom 'x-…' / 'y-…' name; `index` is the KMIP Attribute Index (0 for
 * single-instance attributes); the value's tag is irrelevant (stored as AttributeValue).
 */
export interface StoredAttribute {
  name: string;
  index: number;
  value: TtlvNode;
}

/** HSM-wrapped key material plus the opaque TTLV bytes the ops layer rebuilds the Key Block from. */
export interface StoredMaterial extends ProtectedMaterial {
  meta: Uint8Array;
}

export interface StoredObject {
  uid: string;
  tenant: string;
  /** Enum.ObjectType value. */
  objectType: number;
  /** Enum.State value, as last written (see kmip/lifecycle effectiveState for date-driven changes). */
  state: number;
  /** Optimistic concurrency: 1 on insert, +1 on every committed change. */
  version: number;
  /** Milliseconds since the epoch; Locate orders by it. */
  createdAt: number;
  material: StoredMaterial | null;
  attributes: StoredAttribute[];
}

export type NewObject = Omit<StoredObject, 'version'>;

/** Inclusive bounds in the attribute's own unit (seconds for Date-Time, µs for Date-Time Extended). */
export interface DateRange {
  name: string;
  from?: bigint;
  to?: bigint;
}

/** "Attribute `name` has a value whose numeric key (Date-Time seconds) is ≤ `atOrBefore`". */
export interface DateCondition {
  name: string;
  atOrBefore: bigint;
}

/**
 * Allowed combinations of the stored state and the truth of some date conditions: an object
 * matches when its state is one of `states` and every condition i with `holds[i]` defined is
 * true (or false) as given. Lets the ops layer find objects by their lifecycle state as of a
 * moment (KMIP 1.4 §3.22 date-driven transitions) and by storage status (archived = has an
 * Archive Date) in the one indexed query.
 */
export interface StateCombination {
  states: readonly number[];
  holds: readonly (boolean | undefined)[];
}

export interface StatePredicate {
  conditions: readonly DateCondition[];
  /** Any one must hold; an empty list matches nothing. */
  anyOf: readonly StateCombination[];
}

export interface LocateQuery {
  objectType?: number;
  /** Any of these states. */
  states?: readonly number[];
  /** Exact matches, all of which must hold (an object matches when some instance equals the value). */
  attributes?: readonly { name: string; value: TtlvNode }[];
  /**
   * Structure values some of whose fields were left out (KMIP 2.1 §6.1.28: omitted fields match
   * anything): an object matches when some instance holds every field given, with equal values.
   */
  partialAttributes?: readonly { name: string; value: TtlvNode }[];
  /** Integer attributes whose value has every one of these bits set (Cryptographic Usage Mask, 2.1 §6.1.28). */
  masks?: readonly { name: string; bits: number }[];
  /** Attributes the object must have at least one instance of. */
  present?: readonly string[];
  /** Attributes the object must have no instance of. */
  absent?: readonly string[];
  state?: StatePredicate;
  dateRanges?: readonly DateRange[];
  offset?: number;
  maxItems?: number;
  /** Default 'created-desc': newest first, as KMIP Locate results are usually consumed. */
  order?: 'created-desc' | 'created-asc';
}

export interface StoreStats {
  /** SQLite write transactions committed (one per group). */
  transactions: number;
  /** Units whose commit() resolved. */
  unitsCommitted: number;
  /** Units whose commit() rejected (conflicts included). */
  unitsFailed: number;
  /** Largest number of units one transaction carried. */
  largestGroup: number;
}

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

export interface ObjectStore {
  /** A new unit of work: one per KMIP batch. */
  begin(scope: Scope): UnitOfWork;
  /** A fresh unique identifier (see uid.ts). */
  newUid(): string;
  stats(): StoreStats;
  /** An online, consistent copy of the whole store while it keeps serving. */
  backup(toPath: string, onProgress?: (p: BackupProgress) => void): Promise<void>;
  /** Waits for commits in flight, then closes. */
  close(): Promise<void>;
}

/** A write for UnitOfWork.attach(): `backend` names the implementation that can run it ('sqlite', 'postgres'). */
export interface UnitWrite {
  readonly backend: string;
}

/**
 * Reads see this unit's own buffered writes; nothing is visible to others until commit() resolves,
 * and it resolves only once the data is durable. After commit() or rollback() the unit is finished.
 */
export interface UnitOfWork {
  readonly scope: Scope;
  /** Tenant-scoped: another tenant's object is simply not found. */
  get(uid: string): Promise<StoredObject | undefined>;
  /** Buffered. The object's tenant must be the unit's (any tenant in operator scope). */
  insert(obj: NewObject): void;
  /** Buffered full replacement of an object read in this unit; commit fails with StoreConflict if its version moved. */
  put(obj: StoredObject): void;
  /**
   * Buffered replacement of the material only (KEK rotation: many objects, one commit).
   * Bumps the version, so a concurrent put() carrying the old material fails instead of reverting it.
   */
  putMaterial(uid: string, material: StoredMaterial | null, expectedVersion: number): void;
  /** Unique identifiers, tenant-scoped; sees this unit's pending writes. */
  locate(query: LocateQuery): Promise<string[]>;
  /** Objects whose material is wrapped under `kekVersion` (committed state only). */
  listByKekVersion(kekVersion: number, limit: number): Promise<string[]>;
  /**
   * K8 extension, the only one: adds a write of another store module of the SAME backend (the
   * rotation schedule, src/rotation/types.ts) to run inside this unit's commit, after its object
   * writes, all or nothing with them. If the write throws, commit() rejects with that error and
   * nothing of the unit is kept. Built by that module, opaque to ops; a unit refuses a write of
   * another backend.
   */
  attach(write: UnitWrite): void;
  commit(): Promise<void>;
  /** Discards buffered writes (KMIP Undo). A no-op on a finished unit. */
  rollback(): void;
}
