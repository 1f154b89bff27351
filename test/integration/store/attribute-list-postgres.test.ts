// The attribute list on the object row, PostgreSQL store (migration "attribute list on the
// object row"): the same promises as on SQLite (attribute-list.test.ts) on a fresh database of
// the run's test server. The list agrees with the attribute rows after every kind of write; a
// list not written for the row's current version (a row from before the migration, a writer
// that skips the list) is not used: the read joins the attribute rows instead.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { openPostgresStore, type PostgresObjectStore, type StoredObject } from '../../../src/store/index.js';
import { prepareObject } from '../../../src/store/prepared.js';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import type { StructureNode, TtlvNode } from '../../../src/ttlv/types.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { intValue, material, symmetricKey, textValue } from '../../support/store-objects.js';

const asStored = (attrs: StoredObject['attributes']) => attrs.map((a) => ({ ...a, value: { ...a.value, tag: Tag.AttributeValue } }));

describePostgres('attribute list column [postgres]', () => {
  let store: PostgresObjectStore;

  beforeEach(async () => {
    store = await openPostgresStore({ url: await createTestDatabase() });
  });

  afterEach(async () => {
    await store.close();
  });

  async function read(uid: string): Promise<StoredObject | undefined> {
    const unit = store.begin({ tenant: 'a' });
    try {
      return await unit.get(uid);
    } finally {
      unit.rollback();
    }
  }

  async function change(uid: string, edit: (obj: StoredObject) => void): Promise<void> {
    const unit = store.begin({ tenant: 'a' });
    const obj = (await unit.get(uid)) as StoredObject;
    edit(obj);
    unit.put(obj);
    await unit.commit();
  }

  /** The list, read with the generic TTLV decoder, holds exactly the attribute rows, stamped current. */
  async function expectListMatchesRows(uid: string): Promise<void> {
    const o = await store.pool.query<{ list: Buffer | null; stamped: number | null; version: number }>(
      'SELECT attribute_list AS list, attribute_list_version AS stamped, version FROM objects WHERE uid = $1',
      [uid],
    );
    const row = o.rows[0];
    expect(row?.stamped).toBe(row?.version);
    const root = decodeTtlv(row?.list as Buffer, { maxSize: 1 << 24, maxDepth: 64 }) as StructureNode;
    expect(root.tag).toBe(Tag.Attributes);
    const fromList = root.value.map((a) => {
      const [name, index, value] = (a as StructureNode).value as [TtlvNode, TtlvNode, TtlvNode];
      return { name: name.value, idx: index.value, value: encodeTtlv(value) };
    });
    const rows = await store.pool.query<{ name: string; idx: number; value: Buffer }>('SELECT name, idx, value FROM attributes WHERE uid = $1 ORDER BY ord', [uid]);
    expect(fromList).toEqual(rows.rows);
  }

  it('matches the attribute rows after create, add, modify, delete, state and material changes', async () => {
    const key = symmetricKey('k1', 'a', 'first');
    const u = store.begin({ tenant: 'a' });
    u.insert(key);
    await u.commit();
    await expectListMatchesRows('k1');
    expect((await read('k1'))?.attributes).toEqual(asStored(key.attributes));

    await change('k1', (o) => o.attributes.push({ name: 'x-note', index: 0, value: textValue('hello') }));
    await expectListMatchesRows('k1');
    await change('k1', (o) => {
      const len = o.attributes.find((a) => a.name === 'CryptographicLength');
      if (len) len.value = intValue(128);
    });
    await expectListMatchesRows('k1');
    await change('k1', (o) => {
      o.attributes = o.attributes.filter((a) => a.name !== 'x-note');
      o.state = Enum.State.Active;
    });
    await expectListMatchesRows('k1');
    const current = (await read('k1')) as StoredObject;
    expect(current.state).toBe(Enum.State.Active);
    expect(current.attributes.map((a) => a.name)).toEqual(['Name', 'CryptographicAlgorithm', 'CryptographicLength']);

    const m = store.begin({ tenant: 'a' });
    m.putMaterial('k1', material(2, 9), current.version);
    await m.commit();
    await expectListMatchesRows('k1');
    const after = (await read('k1')) as StoredObject;
    expect(after.material?.kekVersion).toBe(2);
    expect(after.attributes).toEqual(current.attributes);
  });

  it('a row without a current list (before the migration, or a writer that skipped it) reads from the attribute rows', async () => {
    const u = store.begin({ tenant: 'a' });
    u.insert(symmetricKey('k2', 'a', 'n'));
    await u.commit();
    const before = (await read('k2')) as StoredObject;

    // A row as written before the migration.
    await store.pool.query('UPDATE objects SET attribute_list = NULL, attribute_list_version = NULL WHERE uid = $1', ['k2']);
    expect(await read('k2')).toEqual(before);

    // A writer that knows nothing of the list: object row, then the attribute rows.
    await store.pool.query("UPDATE objects SET attribute_list = $1, attribute_list_version = version WHERE uid = 'k2'", [prepareObject(before).attributeList]);
    const changed = [...before.attributes, { name: 'x-old-writer', index: 0, value: textValue('v3') }];
    const p = prepareObject({ ...before, attributes: changed });
    const c = await store.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('UPDATE objects SET state = $1, version = version + 1 WHERE uid = $2', [Enum.State.Active, 'k2']);
      await c.query('DELETE FROM attributes WHERE uid = $1', ['k2']);
      for (const [ord, a] of p.attributes.entries()) {
        await c.query('INSERT INTO attributes (uid, name, idx, ord, item_type, value, key_text, key_num) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          'k2', a.name, a.idx, ord, a.itemType, a.value, a.keyText, a.keyNum === null ? null : a.keyNum.toString(),
        ]);
      }
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const after = (await read('k2')) as StoredObject;
    expect(after.state).toBe(Enum.State.Active);
    expect(after.attributes).toEqual(asStored(changed));

    // The next write of this build makes the list current again.
    await change('k2', (o) => o.attributes.push({ name: 'x-new-writer', index: 0, value: textValue('v4') }));
    await expectListMatchesRows('k2');
  });
});
