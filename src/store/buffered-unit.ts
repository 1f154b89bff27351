/**
 * The unit of work both stores share (one per KMIP batch, 1.4 §7.1 / 2.1 §8.1): writes are
 * buffered as private snapshots until commit(); get() answers from the buffer first, so a batch
 * sees its own writes; rollback() drops the buffer (KMIP Undo). What differs per database — how
 * committed rows are read, how Locate sees the buffer, how the buffer is written — is left to
 * the subclass.
 */
import { StoreError, StoreScopeError } from './errors.js';
import { copyMaterial, prepareObject, preparedToStored, type PreparedObject } from './prepared.js';
import type { LocateQuery, NewObject, Scope, StoredMaterial, StoredObject, UnitOfWork, UnitWrite } from './types.js';

/** One buffered change, keyed by object in the unit's buffer. */
export type Pending =
  | { kind: 'insert'; obj: PreparedObject }
  | { kind: 'put'; obj: PreparedObject }
  | { kind: 'material'; uid: string; material: StoredMaterial | null; expected: number };

export abstract class BufferedUnit implements UnitOfWork {
  private readonly pending = new Map<string, Pending>();
  private readonly attached: UnitWrite[] = [];
  private finished = false;

  constructor(readonly scope: Scope) {}

  /** Throws StoreError('Closed') when the store is closed. */
  protected abstract assertStoreOpen(): void;
  /** The committed object, tenant-scoped. */
  protected abstract readCommitted(uid: string): Promise<StoredObject | undefined>;
  /** Locate over the committed state plus `pending` (which may be empty). */
  protected abstract find(query: LocateQuery, pending: readonly Pending[]): Promise<string[]>;
  protected abstract findByKekVersion(kekVersion: number, limit: number): Promise<string[]>;
  /** Throws unless `write` is of this store's backend (UnitOfWork.attach). */
  protected abstract acceptWrite(write: UnitWrite): void;
  /**
   * Writes the buffer, then the attached writes, atomically and durably; rejects with
   * StoreConflict when a check fails, or with whatever an attached write threw.
   */
  protected abstract write(writes: Pending[], attached: UnitWrite[]): Promise<void>;

  async get(uid: string): Promise<StoredObject | undefined> {
    this.assertActive();
    const p = this.pending.get(uid);
    if (p !== undefined && p.kind !== 'material') return preparedToStored(p.obj);
    const obj = await this.readCommitted(uid);
    if (obj !== undefined && p?.kind === 'material') {
      obj.material = copyMaterial(p.material);
      obj.version = p.expected;
    }
    return obj;
  }

  insert(obj: NewObject): void {
    this.assertActive();
    const full = prepareObject({ ...obj, version: 0 });
    this.assertTenant(full.tenant);
    if (this.pending.has(full.uid)) throw new StoreError('InvalidObject', `object ${full.uid} is already written in this unit`);
    this.pending.set(full.uid, { kind: 'insert', obj: full });
  }

  put(obj: StoredObject): void {
    this.assertActive();
    const full = prepareObject(obj);
    this.assertTenant(full.tenant);
    const prev = this.pending.get(full.uid);
    // Changing an object created in this same unit keeps it an insert.
    this.pending.set(full.uid, prev?.kind === 'insert' ? { kind: 'insert', obj: { ...full, version: 0 } } : { kind: 'put', obj: full });
  }

  putMaterial(uid: string, material: StoredMaterial | null, expectedVersion: number): void {
    this.assertActive();
    const m = copyMaterial(material);
    const prev = this.pending.get(uid);
    if (prev !== undefined && prev.kind !== 'material') {
      prev.obj.material = m;
      return;
    }
    this.pending.set(uid, { kind: 'material', uid, material: m, expected: expectedVersion });
  }

  async locate(query: LocateQuery): Promise<string[]> {
    this.assertActive();
    return this.find(query, [...this.pending.values()]);
  }

  async listByKekVersion(kekVersion: number, limit: number): Promise<string[]> {
    this.assertActive();
    return this.findByKekVersion(kekVersion, limit);
  }

  attach(write: UnitWrite): void {
    this.assertActive();
    this.acceptWrite(write);
    this.attached.push(write);
  }

  commit(): Promise<void> {
    try {
      this.assertActive();
    } catch (err) {
      return Promise.reject(err);
    }
    this.finished = true;
    const writes = [...this.pending.values()];
    const attached = this.attached.splice(0);
    this.pending.clear();
    if (writes.length === 0 && attached.length === 0) return Promise.resolve();
    return this.write(writes, attached);
  }

  rollback(): void {
    this.pending.clear();
    this.attached.length = 0;
    this.finished = true;
  }

  private assertActive(): void {
    if (this.finished) throw new StoreError('UnitFinished', 'this unit of work was already committed or rolled back');
    this.assertStoreOpen();
  }

  private assertTenant(tenant: string): void {
    if (this.scope.tenant !== null && tenant !== this.scope.tenant) {
      throw new StoreScopeError('an object of another tenant cannot be written in this scope');
    }
  }
}
