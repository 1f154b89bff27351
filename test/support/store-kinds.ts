// The object store implementations the contract tests run against: SQLite (a temp file) and
// PostgreSQL (a fresh database on the run's test server, test/support/postgres.ts). A suite
// written with describeEachStore() runs its assertions once per implementation.
import { describe } from 'vitest';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  openPostgresStore,
  openSqliteStore,
  type LocateQuery,
  type ObjectStore,
  type Scope,
} from '../../src/store/index.js';
import { createTestDatabase, describePostgres } from './postgres.js';
import { tempDir } from './store-objects.js';

/** A store that can say what a Locate compiles to (both implementations can). */
export type ContractStore = ObjectStore & {
  explainLocate(scope: Scope, query: LocateQuery): { sql: string; params: unknown[] } | 'empty';
};

export interface StoreFixture {
  kind: StoreKind;
  store: ContractStore;
  /** Opens the same database again: another node, or the same one after close(). */
  reopen(options?: { groupCommit?: boolean }): Promise<ContractStore>;
  /** Rows in the objects table, counted behind the stores' backs. */
  countObjects(): Promise<number>;
  /** Closes `store` (if still open) and removes what the fixture made. */
  cleanup(): Promise<void>;
}

export type StoreKind = 'sqlite' | 'postgres';
export const storeKinds: readonly StoreKind[] = ['sqlite', 'postgres'];

export async function openStoreFixture(kind: StoreKind, options: { groupCommit?: boolean } = {}): Promise<StoreFixture> {
  if (kind === 'sqlite') {
    const tmp = tempDir();
    const path = tmp.file('store.sqlite');
    const open = (o: { groupCommit?: boolean } = options) => openSqliteStore({ path, ...o });
    const store = await open();
    return {
      kind,
      store,
      reopen: open,
      async countObjects() {
        const db = new Database(path, { readonly: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
        } finally {
          db.close();
        }
      },
      async cleanup() {
        await store.close();
        tmp.remove();
      },
    };
  }
  const url = await createTestDatabase();
  const open = () => openPostgresStore({ url });
  const store = await open();
  return {
    kind,
    store,
    reopen: open,
    async countObjects() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM objects')).rows[0]?.n ?? -1;
      } finally {
        await c.end();
      }
    },
    async cleanup() {
      await store.close();
    },
  };
}

/** `describe` once per store implementation; the PostgreSQL one follows describePostgres (CI: never skipped). */
export function describeEachStore(title: string, body: (kind: StoreKind) => void): void {
  for (const kind of storeKinds) {
    (kind === 'postgres' ? describePostgres : describe)(`${title} [${kind}]`, () => body(kind));
  }
}
