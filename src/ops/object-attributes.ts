/**
 * Attribute rules enforced when clients set, add, modify or delete attributes (KMIP 1.4 §3 and
 * §4.13–4.15 with the §11.2 / §11.15–11.17 error tables; KMIP 2.1 §4 and §6.1.2, §6.1.13,
 * §6.1.34 with their error tables), and the full attribute view of a managed object.
 *
 * The rules themselves live in kmip/attributes.ts (one table); this module applies them. Where the
 * two major versions name different result reasons for the same mistake, both are written side by
 * side in `reasons` so the choice is visible in one place:
 *
 *   mistake                           1.x (1.4 §11)        2.x (2.1 §6.1.x error tables)
 *   server-only attribute             Permission Denied    Attribute Read Only
 *   not for this object type          Permission Denied    Invalid Attribute
 *   single-instance already present   Illegal Operation    Attribute Single Valued
 *   attribute absent (modify)         Invalid Field        Attribute Not Found
 *   attribute absent (delete)         Item Not Found       Attribute Not Found
 *   instance absent                   Item Not Found       Attribute Instance Not Found
 *   not modifiable in this state      Permission Denied    Wrong Key Lifecycle State
 *   too many instances                Index Out of Bounds  Server Limit Exceeded
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError, type ResultReasonName } from '../kmip/errors.js';
import {
  appliesToObjectType,
  attributeRule,
  definedInVersion,
  isClientModifiableIn,
  type AttributeRule,
  type ClientPhase,
} from '../kmip/attributes.js';
import { attributeNameText, type AttributeInput } from '../kmip/attribute-codec.js';
import { effectiveState, lifecycleView } from '../kmip/lifecycle.js';
import { atLeast, type KmipVersion } from '../kmip/version.js';
import { encodeTtlv } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import type { StoredAttribute, StoredObject } from '../store/types.js';
import type { OperationContext } from './types.js';

export type AttributePhase = ClientPhase;

/**
 * Server limits on what clients may attach to one object. Appliances keep dozens of custom
 * attributes with long values (tape barcodes, drive serials, array volume paths): these leave
 * ample room (≥ 30 custom attributes of 256+ characters each) while keeping a single object
 * within what one response can carry.
 */
export const attributeLimits = {
  /** Attribute instances on one object, server-maintained ones included. */
  maxInstancesPerObject: 1000,
  /** Encoded size (TTLV) of one attribute value. */
  maxValueBytes: 64 * 1024,
} as const;

type Mistake =
  | 'readOnly'
  | 'wrongObjectType'
  | 'singleValued'
  | 'absentForModify'
  | 'absentForDelete'
  | 'instanceAbsent'
  | 'wrongState'
  | 'tooMany'
  | 'tooLarge'
  | 'indexGiven'
  | 'undefinedInVersion';

const reasons: Readonly<Record<Mistake, readonly [v1: ResultReasonName, v2: ResultReasonName]>> = {
  readOnly: ['PermissionDenied', 'AttributeReadOnly'],
  wrongObjectType: ['PermissionDenied', 'InvalidAttribute'],
  singleValued: ['IllegalOperation', 'AttributeSingleValued'],
  absentForModify: ['InvalidField', 'AttributeNotFound'],
  absentForDelete: ['ItemNotFound', 'AttributeNotFound'],
  instanceAbsent: ['ItemNotFound', 'AttributeInstanceNotFound'],
  wrongState: ['PermissionDenied', 'WrongKeyLifecycleState'],
  tooMany: ['IndexOutOfBounds', 'ServerLimitExceeded'],
  tooLarge: ['InvalidField', 'ServerLimitExceeded'],
  indexGiven: ['InvalidField', 'InvalidField'],
  undefinedInVersion: ['InvalidField', 'InvalidField'],
};

function fail(mistake: Mistake, version: KmipVersion, message: string): KmipError {
  const [v1, v2] = reasons[mistake];
  return new KmipError(atLeast(version, 2, 0) ? v2 : v1, message);
}

/** At creation, 1.4 §11.2 has one reason for every unacceptable attribute: Invalid Field. */
function failAtCreation(mistake: Mistake, version: KmipVersion, message: string): KmipError {
  if (atLeast(version, 2, 0) || mistake === 'tooMany') return fail(mistake, version, message);
  return new KmipError('InvalidField', message);
}

export interface AttributeChange {
  /** The object's attributes after the change. */
  attributes: StoredAttribute[];
  /** The instances added or modified (new values), or deleted (old values), in input order. */
  affected: StoredAttribute[];
}

/**
 * Applies client-supplied attributes to an object's stored attributes under the rules table.
 *
 *  - atCreation: `existing` holds what the server already decided (it is overridden for
 *    single-instance attributes the client gives); each multi-instance value is a new instance.
 *  - add: single-instance attributes must be absent; multi-instance values get the next index
 *    (indices never change once given, 1.4 §2.1.1). A 1.x client may not choose the index.
 *  - modify: replaces the instance `index` (default 0) with `value`.
 *  - delete: removes the instance `index` (default 0); `value` is ignored.
 *
 * `state` is the object's effective state (modify checks "Modifiable by client" per state).
 * Throws KmipError with the version's reason (see the table at the top of this module).
 */
export function changeClientAttributes(
  existing: readonly StoredAttribute[],
  inputs: readonly AttributeInput[],
  phase: AttributePhase,
  objectType: number,
  state: number,
  version: KmipVersion,
  options: ChangeOptions = {},
): AttributeChange {
  const attrs = existing.map((a) => ({ ...a }));
  const affected: StoredAttribute[] = [];
  const givenAtCreation = new Set<string>();
  const creation = phase === 'atCreation';
  const err = creation ? failAtCreation : fail;

  for (const input of inputs) {
    const label = attributeNameText(input.name);
    const rule = assertClientMay(input.name, phase, objectType, version, options);
    if (phase !== 'delete') checkValueSize(label, input.value, version, err);

    const instances = attrs.filter((a) => a.name === input.name);
    switch (phase) {
      case 'atCreation': {
        if (!rule.multiInstance) {
          if (givenAtCreation.has(input.name)) throw err('singleValued', version, `${label} may only be given once`);
          givenAtCreation.add(input.name);
          const at = attrs.findIndex((a) => a.name === input.name);
          const next: StoredAttribute = { name: input.name, index: 0, value: input.value };
          if (at >= 0) attrs[at] = next;
          else attrs.push(next);
          affected.push(next);
        } else {
          const next: StoredAttribute = { name: input.name, index: nextIndex(instances), value: input.value };
          attrs.push(next);
          affected.push(next);
        }
        break;
      }
      case 'add': {
        if (input.index !== undefined && !atLeast(version, 2, 0)) {
          throw err('indexGiven', version, `the server assigns the Attribute Index of ${label}; leave it out`);
        }
        if (!rule.multiInstance && instances.length > 0) {
          throw err('singleValued', version, `${label} already has a value; use Modify Attribute`);
        }
        const next: StoredAttribute = { name: input.name, index: rule.multiInstance ? nextIndex(instances) : 0, value: input.value };
        attrs.push(next);
        affected.push(next);
        break;
      }
      case 'modify': {
        if (instances.length === 0) throw err('absentForModify', version, `${label} has no value to modify; add it first`);
        const index = input.index ?? 0;
        const at = attrs.findIndex((a) => a.name === input.name && a.index === index);
        if (at < 0) throw err('instanceAbsent', version, `${label} has no instance with index ${index}`);
        if (!isClientModifiableIn(input.name, state)) {
          throw err('wrongState', version, `${label} cannot be modified while the object is ${stateLabel(state)}`);
        }
        const next: StoredAttribute = { name: input.name, index, value: input.value };
        attrs[at] = next;
        affected.push(next);
        break;
      }
      case 'delete': {
        if (instances.length === 0) throw err('absentForDelete', version, `${label} has no value to delete`);
        const index = input.index ?? 0;
        const at = attrs.findIndex((a) => a.name === input.name && a.index === index);
        if (at < 0) throw err('instanceAbsent', version, `${label} has no instance with index ${index}`);
        affected.push(...attrs.splice(at, 1));
        break;
      }
    }
  }
  if (attrs.length > attributeLimits.maxInstancesPerObject && attrs.length > existing.length) {
    throw err('tooMany', version, `an object may carry at most ${attributeLimits.maxInstancesPerObject} attribute instances`);
  }
  return { attributes: attrs, affected };
}

export interface ChangeOptions {
  /**
   * 2.x reason for a read-only attribute. The 2.1 tables name two: Attribute Read Only (Create,
   * Modify, Delete Attribute) and Read Only Attribute (Add, Set, Adjust Attribute).
   */
  readOnlyReason?: ResultReasonName;
}

/**
 * The checks that need no instance: the attribute exists in `version`, the client may act on it
 * in `phase`, and it applies to the object type. Returns its rule. Handlers that must pick an
 * instance first (2.x Current Attribute) call this before looking, so a read-only attribute
 * reports Attribute Read Only rather than Attribute Not Found (OASIS BL-M-7-21, BL-M-10-21).
 */
export function assertClientMay(
  name: string,
  phase: AttributePhase,
  objectType: number,
  version: KmipVersion,
  options: ChangeOptions = {},
): AttributeRule {
  const err = phase === 'atCreation' ? failAtCreation : fail;
  const label = attributeNameText(name);
  const rule = attributeRule(name);
  if (rule === undefined || !definedInVersion(name, version)) {
    throw err('undefinedInVersion', version, `${label} is not an attribute of KMIP ${version.major}.${version.minor}`);
  }
  if (!rule.client[phase]) {
    const e = err('readOnly', version, readOnlyMessage(label, phase));
    throw options.readOnlyReason !== undefined && atLeast(version, 2, 0) ? new KmipError(options.readOnlyReason, e.message) : e;
  }
  if (!appliesToObjectType(name, objectType, version)) {
    throw err('wrongObjectType', version, `${label} does not apply to ${objectTypeLabel(objectType)} objects`);
  }
  return rule;
}

/** changeClientAttributes without the list of affected instances. */
export function applyClientAttributes(
  existing: readonly StoredAttribute[],
  inputs: readonly AttributeInput[],
  phase: AttributePhase,
  objectType: number,
  state: number,
  version: KmipVersion,
  options: ChangeOptions = {},
): StoredAttribute[] {
  return changeClientAttributes(existing, inputs, phase, objectType, state, version, options).attributes;
}

/** Indices are never reused while an instance holds them; the next one follows the highest (1.4 §2.1.1). */
function nextIndex(instances: readonly StoredAttribute[]): number {
  return instances.reduce((max, a) => Math.max(max, a.index + 1), 0);
}

function checkValueSize(
  label: string,
  value: TtlvNode,
  version: KmipVersion,
  err: (m: Mistake, v: KmipVersion, msg: string) => KmipError,
): void {
  const size = encodeTtlv({ ...value, tag: Tag.AttributeValue } as TtlvNode).length;
  if (size > attributeLimits.maxValueBytes) {
    throw err('tooLarge', version, `the value of ${label} is ${size} bytes; this server accepts at most ${attributeLimits.maxValueBytes}`);
  }
}

function readOnlyMessage(label: string, phase: AttributePhase): string {
  switch (phase) {
    case 'atCreation':
      return `${label} is set by the server and cannot be supplied by a client`;
    case 'add':
      return `${label} cannot be added by a client`;
    case 'modify':
      return `${label} cannot be modified by a client`;
    case 'delete':
      return `${label} cannot be deleted by a client`;
  }
}

function objectTypeLabel(value: number): string {
  return (Object.entries(Enum.ObjectType).find(([, v]) => v === value)?.[0] ?? `type ${value}`).replace(/([a-z])([A-Z])/g, '$1 $2');
}

function stateLabel(value: number): string {
  return (Object.entries(Enum.State).find(([, v]) => v === value)?.[0] ?? `state ${value}`).replace(/([a-z])([A-Z])/g, '$1 $2');
}

// ---------------------------------------------------------------------------------------------
// The full attribute view

const av = <T extends TtlvNode['type']>(type: T, value: Extract<TtlvNode, { type: T }>['value']): TtlvNode =>
  ({ tag: Tag.AttributeValue, type, value }) as TtlvNode;

/** The state an object is in at `now`: date-driven transitions applied (kmip/lifecycle.ts). */
export function currentState(obj: Pick<StoredObject, 'state' | 'attributes'>, now: Date): number {
  return effectiveState(lifecycleView(obj.state, obj.attributes), now.getTime());
}

/**
 * Every attribute of the object, the ones kept as object fields first (Unique Identifier,
 * Object Type, State as of `now`), then the stored ones (client-set and server-maintained:
 * Initial Date, Last Change Date, …) in their stored order.
 */
export function attributesOf(obj: StoredObject, now: Date): StoredAttribute[] {
  return [
    { name: 'UniqueIdentifier', index: 0, value: av('TextString', obj.uid) },
    { name: 'ObjectType', index: 0, value: av('Enumeration', obj.objectType) },
    { name: 'State', index: 0, value: av('Enumeration', currentState(obj, now)) },
    ...obj.attributes,
  ];
}

/** Sets Last Change Date (1.4 §3.38: any change of the object's attributes) to `now`, in place. */
export function touch(obj: StoredObject, now: Date): StoredObject {
  const value = av('DateTime', BigInt(Math.floor(now.getTime() / 1000)));
  const at = obj.attributes.findIndex((a) => a.name === 'LastChangeDate');
  if (at >= 0) obj.attributes[at] = { name: 'LastChangeDate', index: 0, value };
  else obj.attributes.push({ name: 'LastChangeDate', index: 0, value });
  return obj;
}

/** Archived objects carry an Archive Date until recovered (1.4 §3.32: Recover deletes it). */
export function isArchived(obj: Pick<StoredObject, 'attributes'>): boolean {
  return obj.attributes.some((a) => a.name === 'ArchiveDate');
}

/** Destroyed objects keep their attributes (1.4 §3.28) but are no longer on-line. */
export function isDestroyed(state: number): boolean {
  return state === Enum.State.Destroyed || state === Enum.State.DestroyedCompromised;
}

/**
 * The Name uniqueness rule (1.4 §11.2 / §11.15–11.16: "the same Name attribute value as an
 * existing object"; 2.1: Non Unique Name Attribute): no other object of the tenant that is not
 * destroyed may carry one of `names`. Destroyed objects keep their attributes but free their
 * names, so an appliance can re-create a key under the name of one it destroyed.
 */
export async function assertNamesUnique(
  ctx: Pick<OperationContext, 'unit' | 'version'>,
  uid: string | undefined,
  names: readonly TtlvNode[],
  phase: AttributePhase,
): Promise<void> {
  const live = [Enum.State.PreActive, Enum.State.Active, Enum.State.Deactivated, Enum.State.Compromised];
  for (const value of names) {
    const holders = await ctx.unit.locate({ attributes: [{ name: 'Name', value }], states: live, maxItems: 2 });
    if (holders.some((h) => h !== uid)) {
      const text = value.type === 'Structure' ? value.value.find((c) => c.tag === Tag.NameValue) : undefined;
      const shown = text?.type === 'TextString' ? `"${text.value.slice(0, 64)}"` : 'this Name';
      const v1 = phase === 'atCreation' ? 'InvalidField' : 'IllegalOperation';
      throw new KmipError(atLeast(ctx.version, 2, 0) ? 'NonUniqueNameAttribute' : v1, `another object already has the Name ${shown}`);
    }
  }
}

/**
 * Writes an object whose attributes a client changed back through the batch's unit: the state as
 * of now is persisted (a modified Activation Date may have activated it, 1.4 §3.22 transition 4)
 * and Last Change Date is set.
 */
export function storeChangedAttributes(ctx: Pick<OperationContext, 'unit' | 'now'>, obj: StoredObject, attributes: StoredAttribute[]): void {
  const now = ctx.now();
  obj.attributes = attributes;
  obj.state = currentState(obj, now);
  touch(obj, now);
  ctx.unit.put(obj);
}
