/**
 * Typed failures of the object store. Storage never speaks KMIP: the ops layer maps these
 * (StoreConflict → retry or a KMIP failure, everything else → General Failure via toFailure).
 * Messages name the object or the file, never key material or attribute values.
 */

export type StoreErrorCode =
  | 'Conflict'
  | 'Scope'
  | 'Closed'
  | 'UnitFinished'
  | 'SchemaTooNew'
  | 'InvalidObject'
  | 'Unsupported'
  | 'Io';

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Optimistic concurrency lost: the object changed (or was created) since this unit read it.
 * Only the unit that lost fails; the caller may re-read and retry the whole batch item.
 */
export class StoreConflict extends StoreError {
  override readonly name = 'StoreConflict';
  constructor(
    readonly uid: string,
    readonly reason: 'version' | 'exists' | 'missing',
  ) {
    super(
      'Conflict',
      reason === 'exists'
        ? `object ${uid} already exists`
        : reason === 'missing'
          ? `object ${uid} no longer exists`
          : `object ${uid} was changed concurrently`,
    );
  }
}

/** A write addressed an object outside the unit's tenant. */
export class StoreScopeError extends StoreError {
  override readonly name = 'StoreScopeError';
  constructor(message: string) {
    super('Scope', message);
  }
}

/** The database file was written by a newer kmipd; opening it could corrupt it. */
export class StoreSchemaTooNew extends StoreError {
  override readonly name = 'StoreSchemaTooNew';
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      'SchemaTooNew',
      `database ${path} has schema version ${found}, newer than the ${known} this kmipd knows: ` +
        'run a kmipd release at least as new as the one that last wrote it',
    );
  }
}
