/**
 * Child process for the store crash test: inserts objects from several concurrent units in a
 * loop and prints each unique identifier only after its commit() resolved (i.e. is durable).
 * The parent SIGKILLs it at a random moment and checks that every printed identifier survived.
 * Run: node --import ./test/support/ts-register.mjs test/support/store-crash-writer.ts <db-path | postgres-url>
 */
import { openPostgresStore, openSqliteStore } from '../../src/store/index.js';
import { symmetricKey } from './store-objects.js';

const target = process.argv[2];
if (!target) throw new Error('usage: store-crash-writer.ts <db-path | postgres-url>');
const store = /^postgres(ql)?:/.test(target) ? await openPostgresStore({ url: target }) : await openSqliteStore({ path: target });
process.stdout.write('ready\n');

async function writer(id: number): Promise<never> {
  for (let n = 0; ; n++) {
    const unit = store.begin({ tenant: 'crash' });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, 'crash', `w${id}-${n}`));
    await unit.commit();
    // Pipes are synchronous on Linux: once write() returns, the parent can read the line.
    process.stdout.write(`${uid}\n`);
  }
}

await Promise.all(Array.from({ length: 8 }, (_, i) => writer(i)));
