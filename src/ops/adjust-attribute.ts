/**
 * Adjust Attribute (KMIP 2.1 §6.1.3): Increment, Decrement or Negate (2.1 §11.1) a numeric,
 * interval, date or boolean attribute. An absent attribute counts as 0 or false and is then
 * added; several instances are refused (Multi Valued Attribute); a result outside the value's
 * type is Numeric Range, a type the adjustment cannot apply to Invalid Data Type.
 */
import { Enum, Tag, tagTypesIn } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { atLeast } from '../kmip/version.js';
import { attributeNameText, readAttributeReference, readAttributeValue } from '../kmip/attribute-codec.js';
import { attributeRule, isCustomName } from '../kmip/attributes.js';
import { adjustAttributeRequest, adjustAttributeResponse } from '../kmip/payloads/adjust-attribute.js';
import type { KmipVersion } from '../kmip/version.js';
import type { ItemTypeName, TtlvNode } from '../ttlv/types.js';
import { assertClientMay, changeClientAttributes, currentState, storeChangedAttributes } from './object-attributes.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

const A = Enum.AdjustmentType;

/** Inclusive bounds of each adjustable numeric item type (1.4 §9.1.1.4 / 2.1 §9.1.1.4). */
const ranges: Partial<Record<ItemTypeName, readonly [bigint, bigint] | null>> = {
  Integer: [-(1n << 31n), (1n << 31n) - 1n],
  LongInteger: [-(1n << 63n), (1n << 63n) - 1n],
  BigInteger: null,
  Interval: [0n, (1n << 32n) - 1n],
  DateTime: [-(1n << 63n), (1n << 63n) - 1n],
  DateTimeExtended: [-(1n << 63n), (1n << 63n) - 1n],
};

export const adjustAttribute = defineOperation({
  operation: Enum.Operation.AdjustAttribute,
  request: adjustAttributeRequest,
  response: adjustAttributeResponse,
  async handle(ctx, req) {
    if (!atLeast(ctx.version, 2, 0)) throw new KmipError('OperationNotSupported', 'Adjust Attribute is a KMIP 2.x operation');
    if (req.attributeReference === undefined || req.adjustmentType === undefined) {
      throw new KmipError('MissingData', 'Attribute Reference and Adjustment Type are required');
    }
    const how = req.adjustmentType;
    const name = readAttributeReference(req.attributeReference, ctx.version);
    if (name === undefined) throw new KmipError('UnsupportedAttribute', 'the Attribute Reference names no attribute this server supports');
    const label = attributeNameText(name);
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const instances = obj.attributes.filter((a) => a.name === name);
    if (instances.length > 1) throw new KmipError('MultiValuedAttribute', `${label} has several instances`);
    const before = instances[0];
    // Permission first, so a read-only attribute is reported as such whatever its type.
    assertClientMay(name, before === undefined ? 'add' : 'modify', obj.objectType, ctx.version, { readOnlyReason: 'ReadOnlyAttribute' });
    const type = before?.value.type ?? defaultType(name, req.adjustmentValue, ctx.version);
    const value = adjusted(label, type, before?.value, how, req.adjustmentValue);
    const input = { name, ...(before !== undefined ? { index: before.index } : {}), value: readAttributeValue(name, value, ctx.version) };
    const change = changeClientAttributes(
      obj.attributes,
      [input],
      before === undefined ? 'add' : 'modify',
      obj.objectType,
      currentState(obj, ctx.now()),
      ctx.version,
      { readOnlyReason: 'ReadOnlyAttribute' },
    );
    storeChangedAttributes(ctx, obj, change.attributes);
    return { uniqueIdentifier: obj.uid };
  },
});

/** The type an absent attribute would have: the spec's for its tag, or (custom) the adjustment value's. */
function defaultType(name: string, adjustment: TtlvNode | undefined, version: KmipVersion): ItemTypeName {
  if (isCustomName(name)) {
    if (adjustment === undefined) throw new KmipError('InvalidDataType', 'an absent custom attribute takes its type from the Adjustment Value');
    return adjustment.type;
  }
  const rule = attributeRule(name);
  const type = rule === undefined ? undefined : tagTypesIn(rule.tag, version)[0];
  if (type === undefined) throw new KmipError('InvalidDataType', `${attributeNameText(name)} cannot be adjusted`);
  return type;
}

function adjusted(label: string, type: ItemTypeName, before: TtlvNode | undefined, how: number, by: TtlvNode | undefined): TtlvNode {
  const av = Tag.AttributeValue;
  if (type === 'Boolean') {
    if (how !== A.Negate) throw new KmipError('InvalidDataType', `${label} is a Boolean: only Negate applies`);
    return { tag: av, type, value: !(before?.type === 'Boolean' && before.value) };
  }
  const bounds = ranges[type];
  if (bounds === undefined) throw new KmipError('InvalidDataType', `${label} (${type}) cannot be adjusted`);
  const current = before === undefined ? 0n : toBig(before);
  let next: bigint;
  if (how === A.Negate) next = -current;
  else if (how === A.Increment || how === A.Decrement) {
    if (by === undefined) throw new KmipError('MissingData', 'Increment and Decrement need an Adjustment Value');
    if (!isNumeric(by.type)) throw new KmipError('InvalidDataType', 'the Adjustment Value must be a number or an interval');
    next = how === A.Increment ? current + toBig(by) : current - toBig(by);
  } else throw new KmipError('InvalidField', 'unknown Adjustment Type');
  if (bounds !== null && (next < bounds[0] || next > bounds[1])) {
    throw new KmipError('NumericRange', `the adjusted ${label} does not fit its ${type} value`);
  }
  switch (type) {
    case 'Integer':
    case 'Interval':
      return { tag: av, type, value: Number(next) };
    default:
      return { tag: av, type, value: next } as TtlvNode;
  }
}

function isNumeric(t: ItemTypeName): boolean {
  return t === 'Integer' || t === 'LongInteger' || t === 'BigInteger' || t === 'Interval';
}

function toBig(n: TtlvNode): bigint {
  switch (n.type) {
    case 'Integer':
    case 'Interval':
      return BigInt(n.value);
    case 'LongInteger':
    case 'BigInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      return n.value;
    default:
      throw new KmipError('InvalidDataType', `a ${n.type} value cannot be adjusted`);
  }
}
