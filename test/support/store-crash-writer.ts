/**
 * Child process for the store crash test: inserts objects from several concurrent units in a
 * loop and prints each unique identifier only after its commit() resolved (i.e. is durable).
 * The parent SIGKILLs it at a random moment and checks that every printed identifier survived.
 * Run: node --import ./test/support/ts-register.mjs test/support/store-crash-writer.ts <db-path | postgres-url> [checkpoint-options-json]
 */
import { openPostgresStore, openSqliteStore, type SqliteStoreOptions } from '../../src/store/index.js';
import { symmetricKey } from './store-objects.js';

const target = process.argv[2];
if (!target) throw new Error('usage: store-crash-writer.ts <db-path | postgres-url>');
// SQLite only: the checkpointer's options (JSON), e.g. tiny limits so that checkpoints run all the time.
const checkpoint = process.argv[3] ? (JSON.parse(process.argv[3]) as SqliteStoreOptions['checkpoint']) : undefined;
const store = /^postgres(ql)?:/.test(target)
  ? await openPostgresStore({ url: target })
  : await openSqliteStore({ path: target, ...(checkpoint !== undefined ? { checkpoint } : {}) });
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
