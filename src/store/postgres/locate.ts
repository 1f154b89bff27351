/**
 * Locate (KMIP 1.4 §4.9, 2.1 §6.1.27) on PostgreSQL: the shared query builder (../locate-sql.ts)
 * in the PostgreSQL dialect, as a named statement per query shape (so each connection parses a
 * shape once; the name is a hash of the text, so one name never means two texts). Partial
 * structure filters are decided on the candidates' values, fetched in one extra query.
 */
import { createHash } from 'node:crypto';
import { buildLocate, pagePartial, postgresDialect } from '../locate-sql.js';
import type { LocateQuery, Scope } from '../types.js';
import { attributeValues, type Queryable } from './objects.js';

const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `kmipd_locate_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    if (names.size < 4096) names.set(text, name);
  }
  return name;
}

export function explainLocate(scope: Scope, query: LocateQuery): { sql: string; params: unknown[] } | 'empty' {
  const built = buildLocate(query, scope.tenant, postgresDialect);
  return built === 'empty' ? built : { sql: built.sql, params: built.params.map(pgParam) };
}

/** bigint parameters as decimal text: PostgreSQL reads them as int8 exactly. */
function pgParam(p: unknown): unknown {
  return typeof p === 'bigint' ? p.toString() : p;
}

export async function runLocate(db: Queryable, scope: Scope, query: LocateQuery): Promise<string[]> {
  const built = buildLocate(query, scope.tenant, postgresDialect);
  if (built === 'empty') return [];
  const r = await db.query<{ uid: string }>({ name: statementName(built.sql), text: built.sql, values: built.params.map(pgParam) });
  const uids = r.rows.map((row) => row.uid);
  if (built.partial.length === 0) return uids;
  const values = await attributeValues(db, uids, built.partial.map((p) => p.name));
  return pagePartial(uids, built, (uid, name) => values.get(`${uid}\u0000${name}`) ?? []);
}
