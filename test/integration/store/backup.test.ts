// Online backup while serving: the copy is a consistent database (integrity_check ok, every
// object complete) and holds at least everything committed before the backup started.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore, type StoredObject } from '../../../src/store/index.js';
import { symmetricKey, tempDir, textValue } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  tmp.remove();
});

it('backup while writing produces a consistent copy', async () => {
  const store = await openSqliteStore({ path: tmp.file('live.sqlite') });
  const before: string[] = [];
  // Enough pages that the backup needs many steps (256 pages each) and writes interleave.
  for (let batch = 0; batch < 20; batch++) {
    const unit = store.begin({ tenant: 't' });
    for (let i = 0; i < 500; i++) {
      const uid = store.newUid();
      unit.insert(
        symmetricKey(uid, 't', `pre-${batch}-${i}`, { extra: [{ name: 'Description', index: 0, value: textValue('x'.repeat(200)) }] }),
      );
      before.push(uid);
    }
    await unit.commit();
  }

  let writing = true;
  let during = 0;
  const writer = (async () => {
    while (writing) {
      const unit = store.begin({ tenant: 't' });
      unit.insert(symmetricKey(store.newUid(), 't', `during-${during}`));
      const obj = (await unit.get(before[during % before.length] as string)) as StoredObject;
      obj.attributes = obj.attributes.filter((a) => a.name !== 'Description');
      unit.put(obj);
      await unit.commit();
      during++;
    }
  })();
  let steps = 0;
  await store.backup(tmp.file('copy.sqlite'), () => steps++);
  writing = false;
  await writer;
  console.log(`backup took ${steps} progress steps while ${during} units committed`);
  expect(steps).toBeGreaterThan(2);
  expect(during).toBeGreaterThan(0);
  await store.close();

  const copy = await openSqliteStore({ path: tmp.file('copy.sqlite') });
  expect(copy.db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(copy.db.pragma('foreign_key_check')).toEqual([]);
  const unit = copy.begin({ tenant: 't' });
  const broken: string[] = [];
  for (const uid of before) {
    const o = await unit.get(uid);
    // Each object is whole: either as created (version 1, 4 attributes) or after its put (2, 3).
    const shape = o === undefined ? 'missing' : `${o.version}:${o.attributes.length}`;
    if (shape !== '1:4' && shape !== '2:3') broken.push(`${uid} ${shape}`);
  }
  expect(broken).toEqual([]);
  await copy.close();
}, 60_000);
