// Test helper: brings a fresh test database to the kmipd schema.
import type pg from 'pg';
import { accessSchemaSteps } from '../../../src/store/postgres/access-schema.js';

export async function prepareAccessSchema(pool: pg.Pool, _url: string): Promise<void> {
  for (const step of accessSchemaSteps) await pool.query(step.sql);
}
