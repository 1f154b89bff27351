/**
 * A store full of keys for Locate measurements (KMIP 1.4 §4.9): symmetric keys shaped like the
 * ones Create leaves (Name, algorithm, length, usage mask, dates, Fresh; 1.4 §3) plus what
 * storage clients add (Object Group, tape-library Application Specific Information, a custom
 * barcode), written straight through the store in large units so 100,000 keys take seconds.
 */
import { Enum, Tag } from '../kmip/registry.js';
import type { ObjectStore, StoredAttribute } from '../store/types.js';
import type { TtlvNode } from '../ttlv/types.js';

const AV = Tag.AttributeValue;

export interface CorpusOptions {
  objects: number;
  /** Objects are spread round-robin over these tenants. */
  tenants: readonly string[];
  /** Created-at of the first object (ms); each next one is 1 ms later. */
  startMs?: number;
  /** Objects per unit of work (one SQLite transaction each). */
  perUnit?: number;
}

/** The Name value of corpus object `i`: `key-<i>`. */
export function corpusName(i: number): TtlvNode {
  return {
    tag: AV,
    type: 'Structure',
    value: [
      { tag: Tag.NameValue, type: 'TextString', value: `key-${i}` },
      { tag: Tag.NameType, type: 'Enumeration', value: Enum.NameType.UninterpretedTextString },
    ],
  };
}

function attributesOf(i: number, createdSeconds: bigint): StoredAttribute[] {
  const a = (name: string, value: TtlvNode, index = 0): StoredAttribute => ({ name, index, value });
  return [
    a('Name', corpusName(i)),
    a('CryptographicAlgorithm', { tag: AV, type: 'Enumeration', value: Enum.CryptographicAlgorithm.AES }),
    a('CryptographicLength', { tag: AV, type: 'Integer', value: 256 }),
    a('CryptographicUsageMask', { tag: AV, type: 'Integer', value: 12 }),
    a('InitialDate', { tag: AV, type: 'DateTime', value: createdSeconds }),
    a('LastChangeDate', { tag: AV, type: 'DateTime', value: createdSeconds }),
    a('Fresh', { tag: AV, type: 'Boolean', value: true }),
    a('ObjectGroup', { tag: AV, type: 'TextString', value: `pool-${i % 1000}` }),
    a('ApplicationSpecificInformation', {
      tag: AV,
      type: 'Structure',
      value: [
        { tag: Tag.ApplicationNamespace, type: 'TextString', value: 'LIBRARY-LTO' },
        { tag: Tag.ApplicationData, type: 'TextString', value: `VOL${String(i).padStart(8, '0')}` },
      ],
    }),
    a('x-Barcode', { tag: AV, type: 'TextString', value: `BC${String(i).padStart(6, '0')}L8` }),
  ];
}

/** Inserts the corpus; returns the tenant of object i (`tenants[i % tenants.length]`). */
export async function seedKeys(store: ObjectStore, options: CorpusOptions): Promise<void> {
  const perUnit = options.perUnit ?? 5_000;
  const start = options.startMs ?? Date.UTC(2024, 0, 1);
  for (let from = 0; from < options.objects; from += perUnit) {
    const unit = store.begin({ tenant: null });
    for (let i = from; i < Math.min(options.objects, from + perUnit); i++) {
      const createdAt = start + i;
      unit.insert({
        uid: store.newUid(),
        tenant: options.tenants[i % options.tenants.length] as string,
        objectType: Enum.ObjectType.SymmetricKey,
        state: Enum.State.PreActive,
        createdAt,
        // Locate never unwraps: placeholder bytes stand for HSM-wrapped material.
        material: { kekVersion: 1, wrapped: Buffer.alloc(40, i & 0xff), mac: Buffer.alloc(32, 1), meta: Uint8Array.from([1]) },
        attributes: attributesOf(i, BigInt(Math.floor(createdAt / 1000))),
      });
    }
    await unit.commit();
  }
}
