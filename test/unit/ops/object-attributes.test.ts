// Client attribute rules (KMIP 1.4 §3 with the §11.2 / §11.15–11.17 error tables; 2.1 §4 with
// the §6.1.2 / §6.1.13 / §6.1.34 tables) as object-attributes.ts applies the rules table.
import { describe, expect, it } from 'vitest';
import { KmipError } from '../../../src/kmip/errors.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import {
  applyClientAttributes,
  attributeLimits,
  attributesOf,
  changeClientAttributes,
  touch,
  type AttributePhase,
} from '../../../src/ops/object-attributes.js';
import type { StoredAttribute, StoredObject } from '../../../src/store/types.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { date, enumeration, int, nameValue, text, v14, v21 } from '../../support/attribute-requests.js';
import type { KmipVersion } from '../../../src/kmip/version.js';

const AV = Tag.AttributeValue;
const SK = Enum.ObjectType.SymmetricKey;
const S = Enum.State;
const v = (n: TtlvNode): TtlvNode => ({ ...n, tag: AV }) as TtlvNode;

function reasonOf(phase: AttributePhase, version: KmipVersion, existing: StoredAttribute[], input: { name: string; index?: number; value: TtlvNode }, opts: { type?: number; state?: number } = {}): string {
  try {
    changeClientAttributes(existing, [input], phase, opts.type ?? SK, opts.state ?? S.PreActive, version);
  } catch (e) {
    if (e instanceof KmipError) return e.reason;
    throw e;
  }
  return 'ok';
}

describe('who may set what (rules table)', () => {
  it('server-only attributes: Permission Denied in 1.x (1.4 Table 341), Attribute Read Only in 2.x (BL-M-7-21)', () => {
    const initial = { name: 'InitialDate', value: date(AV, 1n) };
    expect(reasonOf('add', v14, [], initial)).toBe('PermissionDenied');
    expect(reasonOf('add', v21, [], initial)).toBe('AttributeReadOnly');
    expect(reasonOf('modify', v21, [], { name: 'State', value: enumeration(AV, S.Compromised) })).toBe('AttributeReadOnly');
    // 1.4 Table 328: at creation every unacceptable attribute is Invalid Field.
    expect(reasonOf('atCreation', v14, [], initial)).toBe('InvalidField');
    expect(reasonOf('atCreation', v21, [], initial)).toBe('AttributeReadOnly');
  });

  it("'y-' custom attributes belong to the server; 'x-' ones to the client (1.4 §3.39)", () => {
    expect(reasonOf('add', v14, [], { name: 'y-gen', value: int(AV, 1) })).toBe('PermissionDenied');
    expect(reasonOf('add', v14, [], { name: 'x-gen', value: int(AV, 1) })).toBe('ok');
  });

  it('attributes that do not apply to the object type', () => {
    const dp = { name: 'CryptographicDomainParameters', value: v({ tag: AV, type: 'Structure', value: [int(Tag.Qlength, 256)] }) };
    expect(reasonOf('add', v14, [], dp)).toBe('PermissionDenied');
    expect(reasonOf('add', v21, [], dp)).toBe('InvalidAttribute');
    expect(reasonOf('add', v14, [], dp, { type: Enum.ObjectType.PrivateKey })).toBe('ok');
  });

  it('modifiable only in some states: Activation Date after activation (SKLC-M-3-14: Permission Denied; 2.x Wrong Key Lifecycle State)', () => {
    const existing = [{ name: 'ActivationDate', index: 0, value: date(AV, 10n) }];
    const input = { name: 'ActivationDate', value: date(AV, 20n) };
    expect(reasonOf('modify', v14, existing, input, { state: S.Active })).toBe('PermissionDenied');
    expect(reasonOf('modify', v21, existing, input, { state: S.Active })).toBe('WrongKeyLifecycleState');
    expect(reasonOf('modify', v14, existing, input, { state: S.PreActive })).toBe('ok');
  });
});

describe('instances and indices (1.4 §2.1.1)', () => {
  it('multi-instance values get the next index; indices never move when others are deleted', () => {
    let attrs = applyClientAttributes([], [{ name: 'ObjectGroup', value: text(AV, 'a') }, { name: 'ObjectGroup', value: text(AV, 'b') }], 'atCreation', SK, S.PreActive, v14);
    expect(attrs.map((a) => [a.name, a.index])).toEqual([['ObjectGroup', 0], ['ObjectGroup', 1]]);
    attrs = applyClientAttributes(attrs, [{ name: 'ObjectGroup', index: 0, value: text(AV, '') }], 'delete', SK, S.PreActive, v14);
    attrs = applyClientAttributes(attrs, [{ name: 'ObjectGroup', value: text(AV, 'c') }], 'add', SK, S.PreActive, v14);
    expect(attrs.map((a) => [a.index, a.value.type === 'TextString' ? a.value.value : ''])).toEqual([[1, 'b'], [2, 'c']]);
  });

  it('a single-instance attribute added twice: Illegal Operation (1.x), Attribute Single Valued (2.x)', () => {
    const existing = [{ name: 'ContactInformation', index: 0, value: text(AV, 'ops') }];
    const input = { name: 'ContactInformation', value: text(AV, 'sec') };
    expect(reasonOf('add', v14, existing, input)).toBe('IllegalOperation');
    expect(reasonOf('add', v21, existing, input)).toBe('AttributeSingleValued');
  });

  it('given twice at creation: Invalid Field (1.x), Attribute Single Valued (2.x); server defaults are overridden', () => {
    const twice = [{ name: 'Description', value: text(AV, 'a') }, { name: 'Description', value: text(AV, 'b') }];
    expect(() => applyClientAttributes([], twice, 'atCreation', SK, S.PreActive, v14)).toThrow(expect.objectContaining({ reason: 'InvalidField' }));
    expect(() => applyClientAttributes([], twice, 'atCreation', SK, S.PreActive, v21)).toThrow(expect.objectContaining({ reason: 'AttributeSingleValued' }));
    const server = [{ name: 'Sensitive', index: 0, value: { tag: AV, type: 'Boolean', value: false } as TtlvNode }];
    const out = applyClientAttributes(server, [{ name: 'Sensitive', value: { tag: AV, type: 'Boolean', value: true } }], 'atCreation', SK, S.PreActive, v14);
    expect(out).toEqual([{ name: 'Sensitive', index: 0, value: { tag: AV, type: 'Boolean', value: true } }]);
  });

  it('1.x Add with an Attribute Index is Invalid Field (1.4 Table 341)', () => {
    expect(reasonOf('add', v14, [], { name: 'ObjectGroup', index: 1, value: text(AV, 'g') })).toBe('InvalidField');
  });

  it('modify/delete of what is absent (1.4 Tables 342–343; 2.1 Attribute Not Found / Attribute Instance Not Found)', () => {
    const groups = [{ name: 'ObjectGroup', index: 0, value: text(AV, 'g') }];
    expect(reasonOf('modify', v14, [], { name: 'ObjectGroup', value: text(AV, 'h') })).toBe('InvalidField');
    expect(reasonOf('modify', v21, [], { name: 'ObjectGroup', value: text(AV, 'h') })).toBe('AttributeNotFound');
    expect(reasonOf('modify', v14, groups, { name: 'ObjectGroup', index: 5, value: text(AV, 'h') })).toBe('ItemNotFound');
    expect(reasonOf('modify', v21, groups, { name: 'ObjectGroup', index: 5, value: text(AV, 'h') })).toBe('AttributeInstanceNotFound');
    expect(reasonOf('delete', v14, [], { name: 'ObjectGroup', value: text(AV, '') })).toBe('ItemNotFound');
    expect(reasonOf('delete', v21, [], { name: 'ObjectGroup', value: text(AV, '') })).toBe('AttributeNotFound');
    expect(reasonOf('delete', v14, groups, { name: 'ObjectGroup', index: 1, value: text(AV, '') })).toBe('ItemNotFound');
  });

  it('reports the affected instances (1.x responses echo them)', () => {
    const c = changeClientAttributes([{ name: 'Name', index: 0, value: v(nameValue('a')) }], [{ name: 'Name', value: v(nameValue('b')) }], 'add', SK, S.PreActive, v14);
    expect(c.affected).toEqual([{ name: 'Name', index: 1, value: v(nameValue('b')) }]);
  });
});

describe('limits', () => {
  it(`at most ${attributeLimits.maxInstancesPerObject} instances: Index Out of Bounds (1.4 Table 341) / Server Limit Exceeded (2.x)`, () => {
    const full = Array.from({ length: attributeLimits.maxInstancesPerObject }, (_, i) => ({ name: 'x-n', index: i, value: int(AV, i) }));
    expect(reasonOf('add', v14, full, { name: 'x-n', value: int(AV, 0) })).toBe('IndexOutOfBounds');
    expect(reasonOf('add', v21, full, { name: 'x-n', value: int(AV, 0) })).toBe('ServerLimitExceeded');
    expect(reasonOf('add', v14, full.slice(1), { name: 'x-n', value: int(AV, 0) })).toBe('ok');
  });

  it(`values up to ${attributeLimits.maxValueBytes} bytes encoded`, () => {
    const big = (n: number) => text(AV, 'v'.repeat(n));
    expect(reasonOf('add', v14, [], { name: 'x-t', value: big(attributeLimits.maxValueBytes - 8) })).toBe('ok');
    expect(reasonOf('add', v14, [], { name: 'x-t', value: big(attributeLimits.maxValueBytes - 7) })).toBe('InvalidField');
    expect(reasonOf('add', v21, [], { name: 'x-t', value: big(attributeLimits.maxValueBytes) })).toBe('ServerLimitExceeded');
  });
});

describe('the full attribute view', () => {
  const obj = (): StoredObject => ({
    uid: 'u1',
    tenant: 't',
    objectType: SK,
    state: S.PreActive,
    version: 1,
    createdAt: 0,
    material: null,
    attributes: [{ name: 'ActivationDate', index: 0, value: date(AV, 100n) }],
  });

  it('adds Unique Identifier, Object Type and the State as of now (date-driven transition 4, 1.4 §3.22)', () => {
    const before = attributesOf(obj(), new Date(99_000));
    expect(before.slice(0, 3)).toEqual([
      { name: 'UniqueIdentifier', index: 0, value: text(AV, 'u1') },
      { name: 'ObjectType', index: 0, value: enumeration(AV, SK) },
      { name: 'State', index: 0, value: enumeration(AV, S.PreActive) },
    ]);
    expect(attributesOf(obj(), new Date(100_000))[2]?.value).toEqual(enumeration(AV, S.Active));
  });

  it('touch sets Last Change Date to now, once', () => {
    const o = touch(touch(obj(), new Date(5_000)), new Date(7_999));
    expect(o.attributes.filter((a) => a.name === 'LastChangeDate')).toEqual([{ name: 'LastChangeDate', index: 0, value: date(AV, 7n) }]);
  });
});
