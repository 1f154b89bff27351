/**
 * Where the shared KMIP vectors live (OASIS XML vectors, binary TTLV hex): `../shared/kmip-vectors`
 * beside the repository, or KMIP_VECTORS_DIR. A developer without the shared directory gets
 * skipped suites with a reason; CI must never silently skip them, so there a missing
 * directory is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type VectorsDir =
  | { available: true; dir: string }
  | { available: false; reason: string };

/**
 * Resolves the vectors directory. Throws when it is missing and CI=true; otherwise returns
 * `{ available: false, reason }` for `describe.skipIf(!v.available)`.
 */
export function vectorsDir(): VectorsDir {
  const dir = process.env.KMIP_VECTORS_DIR ?? path.resolve(repoRoot, '../shared/kmip-vectors');
  if (existsSync(dir)) return { available: true, dir };
  const reason = `KMIP vectors not found at ${dir} (set KMIP_VECTORS_DIR)`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI must not skip vector tests`);
  return { available: false, reason };
}

/** Parses a JSON file under the vectors directory. */
export function readVectorJson<T>(dir: string, relativePath: string): T {
  return JSON.parse(readFileSync(path.join(dir, relativePath), 'utf8')) as T;
}
