/**
 * Re-key (KMIP 1.4 §4.4 Tables 172–173, §11.5; 2.1 §6.1.46 Tables 303–304): a replacement for a
 * symmetric key, generated inside the HSM with a new Unique Identifier and the existing key's
 * algorithm and length.
 *
 * The replacement copies the existing key's attributes except: Initial Date, Last Change Date and
 * Original Creation Date (now); Destroy Date, Compromise Occurrence Date, Compromise Date,
 * Revocation Reason, Archive Date and Random Number Generator (not set); Digest (recomputed);
 * Fresh (true); Link (only Replaced Object → existing key); Usage Limits (Total copied, the whole
 * Total available). It takes over every Name; the existing key keeps its state and gains a
 * Replacement Object link. Without Offset the lifecycle dates are copied; with Offset the new
 * Activation Date is Initial Date + Offset and the other dates keep their distance to it (Table
 * 172). The request's own attributes are applied last (TC-REKEY-1-14 adds a Name this way).
 *
 * Rotation bookkeeping (KMIP 2.1 §4.49–4.52, server-maintained): the replacement's Rotate
 * Generation is the existing key's plus one (the count of ReKeys that led to it); the existing
 * key gets Rotate Date = now (when it was rotated), and if it was the Rotate Latest of its set it
 * hands that over. Rotate Date is not copied, so only replaced keys carry one (src/rotation/due.ts
 * relies on that). 1.x clients never see these 2.x attributes.
 */
import { KmipError } from '../kmip/errors.js';
import { Enum, Tag } from '../kmip/registry.js';
import { initialState } from '../kmip/lifecycle.js';
import { rekeyRequest, rekeyResponse } from '../kmip/payloads/rekey.js';
import { newUid, type NewObject, type StoredAttribute } from '../store/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import { applyClientAttributes, currentState, touch } from './object-attributes.js';
import { bindingOf, digestOfGenerated, generateObject } from './key-material.js';
import {
  addInstance,
  addServerAttributes,
  attributeValue,
  av,
  checkNamesUnique,
  checkRequestedRng,
  dateAttribute,
  enumAttribute,
  intAttribute,
  linkValue,
  removeAll,
  requestedAttributes,
  setSingle,
  symmetricKeySpec,
} from './new-object.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import { defineOperation } from './types.js';

const LT = Enum.LinkType;

/** Not carried to the replacement (Table 173, and Archive Date: the replacement is on-line). */
export const NOT_COPIED: ReadonlySet<string> = new Set([
  'DestroyDate',
  'CompromiseOccurrenceDate',
  'CompromiseDate',
  'RevocationReason',
  'RandomNumberGenerator',
  'ArchiveDate',
  'Digest',
  'Link',
  'Fresh',
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'UsageLimits',
  'RotateDate',
  'RotateGeneration',
]);

/** The Unique Identifier a Replacement Object link points to, if the key has one. */
function replacementOf(attributes: readonly StoredAttribute[]): string | undefined {
  for (const a of attributes) {
    if (a.name !== 'Link' || a.value.type !== 'Structure') continue;
    const parts = a.value.value;
    if (!parts.some((c) => c.tag === Tag.LinkType && c.value === LT.ReplacementObjectLink)) continue;
    const target = parts.find((c) => c.tag === Tag.LinkedObjectIdentifier);
    return target?.type === 'TextString' ? target.value : '(unknown)';
  }
  return undefined;
}

/** The dates Table 172 derives from the Offset. */
export const SHIFTED = ['ProcessStartDate', 'ProtectStopDate', 'DeactivationDate'] as const;

export const rekey = defineOperation({
  operation: Enum.Operation.ReKey,
  request: rekeyRequest,
  response: rekeyResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const old = await loadOnline(ctx, req.uniqueIdentifier);
    if (old.objectType !== Enum.ObjectType.SymmetricKey) {
      throw refuse('notReKeyable', ctx.version, 'Re-key replaces symmetric keys only');
    }
    if (old.material === null) throw new KmipError('KeyValueNotPresent', 'the key has been destroyed; it has no value to replace');
    // 2.1 §4.48 (Link): "there SHALL be only one such replacement object per Managed Object". This
    // also makes concurrent ReKeys of one key (two nodes, or a retried batch) one winner and one
    // refusal, instead of two replacements.
    const replacedBy = replacementOf(old.attributes);
    if (replacedBy !== undefined) {
      throw new KmipError('IllegalOperation', `the key was already re-keyed (replaced by ${replacedBy}); re-key its replacement instead`);
    }
    const inputs = await requestedAttributes(ctx, [req.templateAttribute, req.attributes]);
    if (req.offset !== undefined && inputs.some((a) => a.name === 'ActivationDate' || (SHIFTED as readonly string[]).includes(a.name))) {
      throw new KmipError('InvalidMessage', 'Offset cannot be given together with Activation, Process Start, Protect Stop or Deactivation Date');
    }

    const algorithm = enumAttribute(old.attributes, 'CryptographicAlgorithm');
    const length = intAttribute(old.attributes, 'CryptographicLength');
    if (algorithm === undefined) throw refuse('notReKeyable', ctx.version, 'the key has no Cryptographic Algorithm to re-key with');
    const { spec, bits } = symmetricKeySpec(algorithm, length, ctx.version);

    const copied: StoredAttribute[] = old.attributes.filter((a) => !NOT_COPIED.has(a.name)).map((a) => ({ ...a }));
    const usage = usageLimitsCopy(attributeValue(old.attributes, 'UsageLimits'));
    if (usage !== undefined) setSingle(copied, 'UsageLimits', usage);
    if (req.offset !== undefined) applyOffset(copied, old.attributes, BigInt(Math.floor(now.getTime() / 1000)) + BigInt(req.offset));

    const attrs = applyClientAttributes(copied, inputs, 'atCreation', old.objectType, Enum.State.PreActive, ctx.version);
    checkRequestedRng(attrs, ctx.version);
    setSingle(attrs, 'CryptographicLength', av('Integer', bits));
    const uid = newUid(now.getTime());
    addInstance(attrs, 'Link', linkValue(LT.ReplacedObjectLink, old.uid));
    setSingle(attrs, 'RotateGeneration', av('Integer', (intAttribute(old.attributes, 'RotateGeneration') ?? 0) + 1));

    // The existing key gives up its names before the replacement claims them.
    removeAll(old.attributes, 'Name');
    addInstance(old.attributes, 'Link', linkValue(LT.ReplacementObjectLink, uid));
    setSingle(old.attributes, 'RotateDate', av('DateTime', BigInt(Math.floor(now.getTime() / 1000))));
    if (attributeValue(old.attributes, 'RotateLatest') !== undefined) setSingle(old.attributes, 'RotateLatest', av('Boolean', false));
    await checkNamesUnique(ctx, attrs, [old.uid]);

    const generated = {
      objectType: Enum.ObjectType.SymmetricKey,
      value: {
        keyBlock: {
          keyFormatType: Enum.KeyFormatType.Raw,
          keyCompressionType: undefined,
          keyValue: { kind: 'plain' as const, keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString' as const, value: new Uint8Array(0) }, attribute: [], attributes: undefined },
          cryptographicAlgorithm: algorithm,
          cryptographicLength: bits,
          keyWrappingData: undefined,
        },
      },
    };
    const made = await generateObject(ctx.keys, bindingOf({ uid, objectType: old.objectType, tenant: ctx.tenant }), spec, generated);
    const obj: NewObject = { uid, tenant: ctx.tenant, objectType: old.objectType, state: Enum.State.PreActive, createdAt: now.getTime(), material: made.material, attributes: attrs };
    const digest = await digestOfGenerated(ctx.keys, { ...obj, version: 0 }, made);
    addServerAttributes(attrs, { now, objectType: old.objectType, version: ctx.version, keyFormatType: Enum.KeyFormatType.Raw, digest, generated: true });
    obj.state = currentState({ state: initialState(dateAttribute(attrs, 'ActivationDate'), now.getTime()), attributes: attrs }, now);

    ctx.unit.put(touch(old, now));
    ctx.unit.insert(obj);
    ctx.idPlaceholder = uid;
    return { uniqueIdentifier: uid, templateAttribute: undefined };
  },
});

/**
 * Table 172: AT2 = IT2 + Offset; Process Start, Protect Stop and Deactivation Date move by AT2 − AT1.
 * Without an existing Activation Date those three cannot be placed (1.4 §11.5: Illegal Operation).
 */
export function applyOffset(attrs: StoredAttribute[], oldAttrs: readonly StoredAttribute[], activation: bigint): void {
  const at1 = dateAttribute(oldAttrs, 'ActivationDate');
  const others = SHIFTED.filter((name) => dateAttribute(oldAttrs, name) !== undefined);
  if (at1 === undefined && others.length > 0) {
    throw new KmipError('IllegalOperation', 'an Offset cannot place the other dates: the existing key has no Activation Date');
  }
  setSingle(attrs, 'ActivationDate', av('DateTime', activation));
  if (at1 === undefined) return;
  const shift = activation - at1;
  for (const name of others) setSingle(attrs, name, av('DateTime', (dateAttribute(oldAttrs, name) as bigint) + shift));
}

/** Usage Limits of the replacement: the Total copied and all of it available (Table 173). */
export function usageLimitsCopy(limits: TtlvNode | undefined): TtlvNode | undefined {
  if (limits?.type !== 'Structure') return undefined;
  const total = limits.value.find((c) => c.tag === Tag.UsageLimitsTotal);
  const unit = limits.value.find((c) => c.tag === Tag.UsageLimitsUnit);
  if (total === undefined) return undefined;
  const fields: TtlvNode[] = [total];
  if (total.type === 'LongInteger') fields.push({ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: total.value });
  if (unit !== undefined) fields.push(unit);
  return av('Structure', fields);
}
