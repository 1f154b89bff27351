/**
 * Public API of the object store (managed objects and attributes, KMIP 1.4 §2.2–§3, 2.1 §2–§4).
 * Everything else in store/ is implementation; store/ is the only place that touches SQL.
 */
export type {
  BackupProgress,
  DateRange,
  LocateQuery,
  NewObject,
  ObjectStore,
  Scope,
  StoreStats,
  StoredAttribute,
  StoredMaterial,
  StoredObject,
  UnitOfWork,
  UnitWrite,
} from './types.js';
export { StoreConflict, StoreError, StoreSchemaTooNew, StoreScopeError, type StoreErrorCode } from './errors.js';
export { isUid, newUid, uidTime } from './uid.js';
export { openSqliteStore, type SqliteObjectStore, type SqliteStoreOptions } from './sqlite/store.js';
export {
  openPostgresStore,
  postgresUnitWrite,
  type PostgresObjectStore,
  type PostgresUnitWrite,
  type PostgresPoolOptions,
  type PostgresStoreOptions,
  type PostgresStoreStats,
} from './postgres/store.js';
export { migratePostgres, postgresSchemaVersion, type PostgresMigration } from './postgres/migrations.js';
