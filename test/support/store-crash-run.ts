// Runs test/support/store-crash-writer.ts in a child process against a store (a SQLite file or a
// PostgreSQL URL) and SIGKILLs it once it has acknowledged `killAfterLines` commits. Returns the
// identifiers it printed, each only after its commit() resolved.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ObjectStore } from '../../src/store/index.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export function runUntilKilled(target: string, killAfterLines: number, writerArgs: string[] = []): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.join(repoRoot, 'test/support/ts-register.mjs')).href,
        path.join(repoRoot, 'test/support/store-crash-writer.ts'),
        target,
        ...writerArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer produced too little output in time; stderr: ${err}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!killed && out.split('\n').length > killAfterLines) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      // Only complete lines: the last one may have been cut by the kill.
      const lines = out.split('\n').slice(0, -1).filter((l) => l !== 'ready');
      resolve({ lines, signal });
    });
  });
}

/** The acknowledged identifiers that are not found whole (three attributes and material) in `store`. */
export async function notFoundWhole(store: ObjectStore, uids: readonly string[]): Promise<string[]> {
  const unit = store.begin({ tenant: 'crash' });
  const missing: string[] = [];
  for (const uid of uids) {
    const obj = await unit.get(uid);
    if (obj === undefined || obj.attributes.length !== 3 || obj.material === null) missing.push(uid);
  }
  unit.rollback();
  return missing;
}
