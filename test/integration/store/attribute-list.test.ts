// The attribute list on the object row (SQLite migration 4): a read is one row and one decode,
// the attribute rows stay the Locate index. Both copies must agree after every kind of write,
// rows written before migration 4 must read as before, and a read must see another process's
// commit (there is no in-memory object cache). Real SQLite files, real child processes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { openSqliteStore, type NewObject, type SqliteObjectStore, type StoredObject } from '../../../src/store/index.js';
import { prepareObject } from '../../../src/store/prepared.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/sqlite/db.js';
import { migrations } from '../../../src/store/sqlite/migrations.js';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import type { StructureNode, TtlvNode } from '../../../src/ttlv/types.js';
import { enumValue, intValue, material, nameValue, symmetricKey, tempDir, textValue } from '../../support/store-objects.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

let tmp: ReturnType<typeof tempDir>;
let store: SqliteObjectStore;

beforeEach(async () => {
  tmp = tempDir();
  store = await openSqliteStore({ path: tmp.file('objects.sqlite') });
});

afterEach(async () => {
  await store.close();
  tmp.remove();
});

/** The attribute rows in stored order, as written (name, index, canonical value bytes). */
function attributeRows(db: SqliteDatabase, uid: string): { name: string; idx: number; value: Buffer }[] {
  return db.prepare<[string], { name: string; idx: number; value: Buffer }>('SELECT name, idx, value FROM attributes WHERE uid = ? ORDER BY ord').all(uid);
}

/**
 * The list column read with the generic TTLV decoder (not the store's list decoder), each value
 * re-encoded: it must hold exactly the attribute rows, in their order, stamped with the row's version.
 */
function expectListMatchesRows(db: SqliteDatabase, uid: string): void {
  const row = db
    .prepare<[string], { list: Buffer | null; stamped: number | null; version: number }>(
      'SELECT attribute_list AS list, attribute_list_version AS stamped, version FROM objects WHERE uid = ?',
    )
    .get(uid);
  expect(row?.stamped).toBe(row?.version);
  const list = row?.list;
  expect(list).toBeInstanceOf(Buffer);
  const root = decodeTtlv(list as Buffer, { maxSize: 1 << 24, maxDepth: 64 }) as StructureNode;
  expect(root.tag).toBe(Tag.Attributes);
  const fromList = root.value.map((a) => {
    const [name, index, value] = (a as StructureNode).value as [TtlvNode, TtlvNode, TtlvNode];
    expect(a.tag).toBe(Tag.Attribute);
    expect([name.tag, index.tag, value.tag]).toEqual([Tag.AttributeName, Tag.AttributeIndex, Tag.AttributeValue]);
    return { name: name.value, idx: index.value, value: encodeTtlv(value) };
  });
  expect(fromList).toEqual(attributeRows(db, uid));
}

/** What a read returns for `attributes`: values tagged Attribute Value. */
const asStored = (attrs: StoredObject['attributes']) => attrs.map((a) => ({ ...a, value: { ...a.value, tag: Tag.AttributeValue } }));

async function read(uid: string, tenant = 'a'): Promise<StoredObject | undefined> {
  const unit = store.begin({ tenant });
  try {
    return await unit.get(uid);
  } finally {
    unit.rollback();
  }
}

async function change(uid: string, edit: (obj: StoredObject) => void): Promise<StoredObject> {
  const unit = store.begin({ tenant: 'a' });
  const obj = (await unit.get(uid)) as StoredObject;
  edit(obj);
  unit.put(obj);
  await unit.commit();
  return obj;
}

describe('attribute list column', () => {
  it('matches the attribute rows after create, add, modify, delete, state and material changes', async () => {
    const key = symmetricKey('k1', 'a', 'first', { extra: [{ name: 'Name', index: 1, value: nameValue('second') }] });
    const unit = store.begin({ tenant: 'a' });
    unit.insert(key);
    await unit.commit();
    expectListMatchesRows(store.db, 'k1');
    expect((await read('k1'))?.attributes).toEqual(asStored(key.attributes));

    // Add attribute.
    await change('k1', (o) => o.attributes.push({ name: 'x-note', index: 0, value: textValue('hello') }));
    expectListMatchesRows(store.db, 'k1');
    expect((await read('k1'))?.attributes.map((a) => a.name)).toEqual(['Name', 'CryptographicAlgorithm', 'CryptographicLength', 'Name', 'x-note']);

    // Modify attribute.
    await change('k1', (o) => {
      const len = o.attributes.find((a) => a.name === 'CryptographicLength');
      if (len) len.value = intValue(128);
    });
    expectListMatchesRows(store.db, 'k1');
    expect((await read('k1'))?.attributes.find((a) => a.name === 'CryptographicLength')?.value).toEqual(intValue(128));

    // Delete attribute (Name index 0: index 1 keeps its index).
    await change('k1', (o) => {
      o.attributes = o.attributes.filter((a) => !(a.name === 'Name' && a.index === 0));
    });
    expectListMatchesRows(store.db, 'k1');
    expect((await read('k1'))?.attributes.filter((a) => a.name === 'Name').map((a) => a.index)).toEqual([1]);

    // State change.
    const before = attributeRows(store.db, 'k1');
    await change('k1', (o) => {
      o.state = Enum.State.Active;
    });
    expectListMatchesRows(store.db, 'k1');
    expect(attributeRows(store.db, 'k1')).toEqual(before);
    expect((await read('k1'))?.state).toBe(Enum.State.Active);

    // Material change (KEK rotation): the attributes stay as they are.
    const current = (await read('k1')) as StoredObject;
    const u2 = store.begin({ tenant: 'a' });
    u2.putMaterial('k1', material(2, 9), current.version);
    await u2.commit();
    expectListMatchesRows(store.db, 'k1');
    const after = (await read('k1')) as StoredObject;
    expect(after.material?.kekVersion).toBe(2);
    expect(after.attributes).toEqual(current.attributes);
  });

  it('an object created and changed in one unit is written with its final list', async () => {
    const unit = store.begin({ tenant: 'a' });
    unit.insert(symmetricKey('k2', 'a', 'n'));
    const pending = (await unit.get('k2')) as StoredObject;
    pending.attributes.push({ name: 'x-late', index: 0, value: enumValue(7) });
    unit.put(pending);
    await unit.commit();
    expectListMatchesRows(store.db, 'k2');
    expect((await read('k2'))?.attributes.at(-1)).toEqual({ name: 'x-late', index: 0, value: enumValue(7) });
  });

  it('a Locate that applies pending writes in a savepoint leaves the committed list untouched', async () => {
    const u1 = store.begin({ tenant: 'a' });
    u1.insert(symmetricKey('k3', 'a', 'before'));
    await u1.commit();
    const committed = await read('k3');
    const u2 = store.begin({ tenant: 'a' });
    const obj = (await u2.get('k3')) as StoredObject;
    obj.attributes.push({ name: 'x-pending', index: 0, value: textValue('p') });
    u2.put(obj);
    expect(await u2.locate({ attributes: [{ name: 'x-pending', value: textValue('p') }] })).toEqual(['k3']);
    u2.rollback();
    expectListMatchesRows(store.db, 'k3');
    expect(await read('k3')).toEqual(committed);
  });

  it('a reader in this process sees what a writer in another process committed', async () => {
    const u = store.begin({ tenant: 'a' });
    u.insert(symmetricKey('k4', 'a', 'shared'));
    await u.commit();
    expect((await read('k4'))?.attributes.some((a) => a.name === 'x-writer')).toBe(false);

    const out = await runWriter(tmp.file('objects.sqlite'), 'k4', 'from the child');
    expect(out).toBe('committed\n');

    const seen = (await read('k4')) as StoredObject;
    expect(seen.state).toBe(Enum.State.Active);
    expect(seen.attributes.find((a) => a.name === 'x-writer')?.value).toEqual(textValue('from the child'));
    expect(seen.version).toBe(2);
    // The index saw the same change.
    expect(await store.begin({ tenant: 'a' }).locate({ attributes: [{ name: 'x-writer', value: textValue('from the child') }] })).toEqual(['k4']);
    expectListMatchesRows(store.db, 'k4');
  });
});

describe('rows written before migration 4', () => {
  /** Writes `objs` into a version-3 database the way that version did: object row, then attribute rows with ord. */
  function writeVersion3(file: string, objs: NewObject[], reorder: boolean): void {
    const db = openDatabase(file, { migrations: migrations.slice(0, 3) });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      const insertObject = db.prepare(
        'INSERT INTO objects (uid, tenant, object_type, state, version, created_at, kek_version, wrapped, mac, meta) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)',
      );
      const insertAttribute = db.prepare(
        'INSERT INTO attributes (uid, name, idx, ord, item_type, value, key_text, key_num) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      db.transaction(() => {
        for (const o of objs) {
          const p = prepareObject({ ...o, version: 1 });
          const m = o.material;
          insertObject.run(o.uid, o.tenant, o.objectType, o.state, o.createdAt, m?.kekVersion ?? null, m ? Buffer.from(m.wrapped) : null, m ? Buffer.from(m.mac) : null, m ? Buffer.from(m.meta) : null);
          const records = p.attributes.map((a, ord) => ({ a, ord }));
          // Row order on disk must not matter: ord decides.
          if (reorder) records.reverse();
          for (const { a, ord } of records) insertAttribute.run(o.uid, a.name, a.idx, ord, a.itemType, a.value, a.keyText, a.keyNum);
        }
      })();
    } finally {
      db.close();
    }
  }

  const oldObjects = (): NewObject[] => [
    symmetricKey('old-1', 'a', 'one', { extra: [{ name: 'x-b', index: 0, value: textValue('b') }, { name: 'x-a', index: 0, value: textValue('a') }] }),
    { ...symmetricKey('old-2', 'a', 'two'), material: null, state: Enum.State.Destroyed },
    { ...symmetricKey('old-3', 'b', 'three'), attributes: [] },
  ];

  it('migration 4 fills the list of every existing object from its attribute rows, in stored order', async () => {
    const file = tmp.file('v3.sqlite');
    const objs = oldObjects();
    writeVersion3(file, objs, true);
    const migrated = await openSqliteStore({ path: file });
    try {
      expect(migrated.db.pragma('user_version', { simple: true })).toBe(4);
      const nulls = migrated.db.prepare('SELECT count(*) FROM objects WHERE attribute_list IS NULL').pluck().get();
      expect(nulls).toBe(0);
      for (const o of objs) {
        expectListMatchesRows(migrated.db, o.uid);
        const unit = migrated.begin({ tenant: null });
        const got = await unit.get(o.uid);
        unit.rollback();
        expect(got).toEqual({ ...o, version: 1, attributes: asStored(o.attributes), material: o.material && { ...o.material, meta: Buffer.from(o.material.meta) } });
      }
      // A migrated object takes writes like any other.
      const unit = migrated.begin({ tenant: 'a' });
      const obj = (await unit.get('old-1')) as StoredObject;
      obj.attributes = obj.attributes.filter((a) => a.name !== 'x-b');
      unit.put(obj);
      await unit.commit();
      expectListMatchesRows(migrated.db, 'old-1');
    } finally {
      await migrated.close();
    }
  });

  it('a writer that does not know the list (kmipd before migration 4, still running) is read from the attribute rows', async () => {
    const u = store.begin({ tenant: 'a' });
    u.insert(symmetricKey('k6', 'a', 'n'));
    await u.commit();
    const before = (await read('k6')) as StoredObject;
    // What a version-3 ObjectRows.replace() runs: object row (no list), then the attribute rows.
    const changed: StoredObject = {
      ...before,
      state: Enum.State.Active,
      attributes: [...before.attributes.filter((a) => a.name !== 'CryptographicLength'), { name: 'x-old-writer', index: 0, value: textValue('v3') }],
    };
    const p = prepareObject(changed);
    store.db.transaction(() => {
      const r = store.db
        .prepare('UPDATE objects SET state = ?, version = version + 1, kek_version = ?, wrapped = ?, mac = ?, meta = ? WHERE uid = ? AND tenant = ? AND version = ?')
        .run(changed.state, 1, Buffer.from(material().wrapped), Buffer.from(material().mac), Buffer.from(material().meta), 'k6', 'a', before.version);
      expect(r.changes).toBe(1);
      store.db.prepare('DELETE FROM attributes WHERE uid = ?').run('k6');
      const ins = store.db.prepare('INSERT INTO attributes (uid, name, idx, ord, item_type, value, key_text, key_num) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      p.attributes.forEach((a, ord) => ins.run('k6', a.name, a.idx, ord, a.itemType, a.value, a.keyText, a.keyNum));
    })();
    const after = (await read('k6')) as StoredObject;
    expect(after.state).toBe(Enum.State.Active);
    expect(after.version).toBe(before.version + 1);
    expect(after.attributes).toEqual(asStored(changed.attributes));
    // A version-3 material change: the list is no longer stamped current, reads stay right.
    store.db.prepare('UPDATE objects SET version = version + 1, kek_version = 3 WHERE uid = ?').run('k6');
    expect((await read('k6'))?.attributes).toEqual(asStored(changed.attributes));
    // The next write by this kmipd makes the list current again.
    await change('k6', (o) => o.attributes.push({ name: 'x-new-writer', index: 0, value: textValue('v4') }));
    expectListMatchesRows(store.db, 'k6');
    expect((await read('k6'))?.attributes.map((a) => a.name)).toEqual([...changed.attributes.map((a) => a.name), 'x-new-writer']);
  });

  it('an object row without a list reads from its attribute rows', async () => {
    const u = store.begin({ tenant: 'a' });
    const key = symmetricKey('k5', 'a', 'n', { extra: [{ name: 'Name', index: 1, value: nameValue('m') }] });
    u.insert(key);
    await u.commit();
    const withList = await read('k5');
    store.db.prepare("UPDATE objects SET attribute_list = NULL WHERE uid = 'k5'").run();
    expect(store.db.prepare("SELECT attribute_list FROM objects WHERE uid = 'k5'").pluck().get()).toBeNull();
    expect(await read('k5')).toEqual(withList);
    expect(withList?.attributes).toEqual(asStored(key.attributes));
  });
});

function runWriter(file: string, uid: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(path.join(repoRoot, 'test/support/ts-register.mjs')).href, path.join(repoRoot, 'test/support/attribute-list-writer.ts'), file, uid, text],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer exited with ${code}: ${err}`))));
  });
}
