/**
 * Which test-case files a list of paths names, in the order to run them: a file as given; a
 * directory as its `.xml` files and subdirectories in natural order (SKFF-M-2-14 before
 * SKFF-M-10-14), since the OASIS test cases of a profile build on each other in numeric order
 * (KMIP Profiles v1.4 §5 / v2.1 §6 test-case lists).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Natural order: digit runs compare as numbers, everything else by code point. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const xd = /^\d/.test(x);
    const yd = /^\d/.test(y);
    if (xd && yd) {
      const diff = Number(x) - Number(y);
      if (diff !== 0) return diff;
      return x.length - y.length;
    }
    if (xd !== yd) return xd ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Expands files and directories; throws for a path that does not exist. */
export function expandVectorPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = statSync(p);
    if (!st.isDirectory()) {
      out.push(p);
      return;
    }
    const entries = readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isFile() && e.name.toLowerCase().endsWith('.xml')))
      .map((e) => e.name)
      .sort(naturalCompare);
    for (const name of entries) visit(path.join(p, name));
  };
  for (const p of paths) visit(p);
  return out;
}
