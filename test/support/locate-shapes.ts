// The Locate scale corpus and query shapes both stores are checked with (KMIP 1.4 §4.9 filters):
// object i belongs to tenant t(i mod 4), is named key-i, is in group-(i mod 1000) and was
// activated at 1,700,000,000 + i s. Every shape must search an index, never scan a table.
import { Enum } from '../../src/kmip/registry.js';
import type { LocateQuery, NewObject, Scope, UnitOfWork } from '../../src/store/index.js';
import { asiValue, dateValue, enumValue, intValue, linkValue, nameValue, symmetricKey, textValue } from './store-objects.js';

export const SCALE_TENANTS = ['t0', 't1', 't2', 't3'];

/** Object `i` of the scale corpus. */
export function scaleObject(uid: string, i: number): NewObject {
  return symmetricKey(uid, SCALE_TENANTS[i % SCALE_TENANTS.length] as string, `key-${i}`, {
    createdAt: 1_700_000_000_000 + i,
    extra: [
      { name: 'ObjectGroup', index: 0, value: textValue(`group-${i % 1000}`) },
      { name: 'ActivationDate', index: 0, value: dateValue(BigInt(1_700_000_000 + i)) },
    ],
  });
}

export const locateShapes: [string, Scope, LocateQuery][] = [
  ['Object Group', { tenant: 't1' }, { attributes: [{ name: 'ObjectGroup', value: textValue('group-7') }] }],
  ['Application Specific Information', { tenant: 't1' }, { attributes: [{ name: 'ApplicationSpecificInformation', value: asiValue('ssl', 'host') }] }],
  ['Link', { tenant: 't1' }, { attributes: [{ name: 'Link', value: linkValue(Enum.LinkType.PublicKeyLink, 'abc') }] }],
  ['custom text attribute', { tenant: 't1' }, { attributes: [{ name: 'x-app', value: textValue('billing') }] }],
  ['custom numeric attribute, operator', { tenant: null }, { attributes: [{ name: 'y-gen', value: intValue(3) }] }],
  ['Cryptographic Algorithm and Length', { tenant: 't1' }, {
    attributes: [
      { name: 'CryptographicAlgorithm', value: enumValue(Enum.CryptographicAlgorithm.AES) },
      { name: 'CryptographicLength', value: intValue(256) },
    ],
    maxItems: 10,
  }],
  ['Cryptographic Algorithm, operator', { tenant: null }, { attributes: [{ name: 'CryptographicAlgorithm', value: enumValue(Enum.CryptographicAlgorithm.AES) }], maxItems: 10 }],
  ['Object Type and State', { tenant: 't3' }, { objectType: Enum.ObjectType.SymmetricKey, states: [Enum.State.Active, Enum.State.PreActive], maxItems: 5 }],
  ['date range', { tenant: 't0' }, { dateRanges: [{ name: 'ActivationDate', from: 1_700_000_100n, to: 1_700_000_200n }] }],
  ['date range, operator', { tenant: null }, { dateRanges: [{ name: 'ActivationDate', from: 1_700_000_100n, to: 1_700_000_200n }] }],
  ['Name plus group plus date', { tenant: 't0' }, {
    attributes: [
      { name: 'Name', value: nameValue('key-400') },
      { name: 'ObjectGroup', value: textValue('group-400') },
    ],
    dateRanges: [{ name: 'ActivationDate', from: 1_700_000_000n }],
  }],
];

/** 50 Locates by Name of random t2 objects among `n` (unit in t2's scope): timings and match counts. */
export async function timeLocateByName(unit: UnitOfWork, n: number): Promise<{ median: number; max: number; counts: number[] }> {
  const times: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < 50; k++) {
    const i = 2 + 4 * Math.floor(Math.random() * (n / 4)); // a t2 object
    const t = performance.now();
    const found = await unit.locate({ attributes: [{ name: 'Name', value: nameValue(`key-${i}`) }] });
    times.push(performance.now() - t);
    counts.push(found.length);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] as number, max: times.at(-1) as number, counts };
}
