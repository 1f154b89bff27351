// Child process for test/integration/store/attribute-list.test.ts: opens the SQLite store at
// argv[2] as its own process, adds a custom attribute `x-writer` = argv[4] to object argv[3]
// (tenant 'a') and activates it, commits, prints "committed" and exits.
import { Enum, Tag } from '../../src/kmip/registry.js';
import { openSqliteStore } from '../../src/store/index.js';

const [path, uid, text] = process.argv.slice(2);
if (path === undefined || uid === undefined || text === undefined) throw new Error('usage: attribute-list-writer.ts <db> <uid> <text>');
const store = await openSqliteStore({ path });
const unit = store.begin({ tenant: 'a' });
const obj = await unit.get(uid);
if (obj === undefined) throw new Error(`no object ${uid}`);
obj.attributes.push({ name: 'x-writer', index: 0, value: { tag: Tag.AttributeValue, type: 'TextString', value: text } });
obj.state = Enum.State.Active;
unit.put(obj);
await unit.commit();
await store.close();
process.stdout.write('committed\n');
