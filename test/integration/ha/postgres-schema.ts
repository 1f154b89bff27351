// Test helper: brings a fresh test database to the kmipd schema, with the store's own migrations.
import type pg from 'pg';
import { migratePostgres } from '../../../src/store/postgres/migrations.js';

export async function prepareAccessSchema(pool: pg.Pool, url: string): Promise<void> {
  await migratePostgres(pool, new URL(url).pathname);
}
