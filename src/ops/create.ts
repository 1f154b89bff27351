/**
 * Create (KMIP 1.4 §4.1, §11.2; 2.1 §6.1.8): a symmetric key, or Secret Data, generated inside the
 * HSM. The plaintext never reaches kmipd except once, to compute the Digest (1.4 §3.17), and that
 * buffer is zeroed.
 *
 * Attributes: the client's (1.x Template-Attribute with its Templates, 2.x Attributes) under the
 * rules table; 1.x requires Cryptographic Algorithm and Cryptographic Usage Mask (1.4 Table 165),
 * 2.x supplies defaults (2.1 §3 Table 28); the server adds Initial Date, Last Change Date, Original
 * Creation Date, Fresh, Key Format Type, Digest and the State of 1.4 §3.22 transition 1 (Active at
 * once when the Activation Date has passed).
 */
import { KmipError } from '../kmip/errors.js';
import { Enum, Tag } from '../kmip/registry.js';
import { createRequest, createResponse } from '../kmip/payloads/create.js';
import { initialState } from '../kmip/lifecycle.js';
import { appliesToObjectType } from '../kmip/attributes.js';
import { atLeast } from '../kmip/version.js';
import type { ManagedObject } from '../kmip/objects.js';
import type { KeySpec } from '../hsm/key-protector.js';
import { newUid, type NewObject, type StoredAttribute } from '../store/index.js';
import { applyClientAttributes, currentState } from './object-attributes.js';
import { bindingOf, digestOfGenerated, generateObject } from './key-material.js';
import {
  addServerAttributes,
  av,
  checkNamesUnique,
  checkRequestedRng,
  dateAttribute,
  defaultUsageMask,
  enumAttribute,
  intAttribute,
  requestedAttributes,
  setSingle,
  symmetricKeySpec,
} from './new-object.js';
import { refuse } from './refusals.js';
import { defineOperation, type OperationContext } from './types.js';

const OT = Enum.ObjectType;
const KF = Enum.KeyFormatType;

/** Secret Data kmipd generates: random bytes, 8 to 4096 bits (TC-CREATE-SD-1-14 asks for 80). */
const SECRET_DATA_DEFAULT_BITS = 256;
const SECRET_DATA_MAX_BITS = 4096;

export const create = defineOperation({
  operation: Enum.Operation.Create,
  request: createRequest,
  response: createResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const objectType = req.objectType;
    if (objectType !== OT.SymmetricKey && objectType !== OT.SecretData) {
      throw refuse('notCreatable', ctx.version, 'Create makes Symmetric Keys and Secret Data; other objects are registered or created by their own operations');
    }
    let inputs = await requestedAttributes(ctx, [req.templateAttribute, req.attributes]);

    // 1.x lists Cryptographic Length for keys only (1.4 §3.5), yet asks for it to size Secret Data
    // (TC-CREATE-SD-1-14): there it is a generation parameter, not an attribute.
    let secretBits: number | undefined;
    if (objectType === OT.SecretData) {
      const given = inputs.find((a) => a.name === 'CryptographicLength');
      if (given !== undefined) {
        if (given.value.type !== 'Integer') throw new KmipError('InvalidField', 'Cryptographic Length must be an Integer');
        secretBits = given.value.value;
        if (!appliesToObjectType('CryptographicLength', objectType, ctx.version)) inputs = inputs.filter((a) => a !== given);
      }
    }

    const attrs = applyClientAttributes([], inputs, 'atCreation', objectType, Enum.State.PreActive, ctx.version);
    checkRequestedRng(attrs, ctx.version);
    const uid = newUid(now.getTime());
    const { spec, skeleton } = objectType === OT.SymmetricKey ? symmetricKey(ctx, attrs) : secretData(ctx, secretBits);
    await checkNamesUnique(ctx, attrs);

    const generated = await generateObject(ctx.keys, bindingOf({ uid, objectType, tenant: ctx.tenant }), spec, skeleton);
    const obj: NewObject = { uid, tenant: ctx.tenant, objectType, state: Enum.State.PreActive, createdAt: now.getTime(), material: generated.material, attributes: attrs };
    const digest = objectType === OT.SymmetricKey ? await digestOfGenerated(ctx.keys, { ...obj, version: 0 }, generated) : undefined;
    addServerAttributes(attrs, { now, objectType, version: ctx.version, keyFormatType: keyFormatOf(skeleton), digest, generated: true });
    obj.state = currentState({ state: initialState(dateAttribute(attrs, 'ActivationDate'), now.getTime()), attributes: attrs }, now);

    ctx.unit.insert(obj);
    ctx.idPlaceholder = uid;
    return { objectType, uniqueIdentifier: uid, templateAttribute: undefined };
  },
});

function keyFormatOf(obj: ManagedObject): number | undefined {
  return 'keyBlock' in obj.value ? obj.value.keyBlock.keyFormatType : undefined;
}

function symmetricKey(ctx: OperationContext, attrs: StoredAttribute[]): { spec: KeySpec; skeleton: ManagedObject } {
  const v2 = atLeast(ctx.version, 2, 0);
  let algorithm = enumAttribute(attrs, 'CryptographicAlgorithm');
  let mask = intAttribute(attrs, 'CryptographicUsageMask');
  if (!v2 && algorithm === undefined) throw new KmipError('InvalidField', 'Create requires the Cryptographic Algorithm attribute');
  if (!v2 && mask === undefined) throw new KmipError('InvalidField', 'Create requires the Cryptographic Usage Mask attribute');
  algorithm ??= Enum.CryptographicAlgorithm.AES;
  mask ??= defaultUsageMask(algorithm);
  const { spec, bits } = symmetricKeySpec(algorithm, intAttribute(attrs, 'CryptographicLength'), ctx.version);
  setSingle(attrs, 'CryptographicAlgorithm', av('Enumeration', algorithm));
  setSingle(attrs, 'CryptographicLength', av('Integer', bits));
  setSingle(attrs, 'CryptographicUsageMask', av('Integer', mask));
  return {
    spec,
    skeleton: {
      objectType: OT.SymmetricKey,
      value: {
        keyBlock: {
          keyFormatType: KF.Raw,
          keyCompressionType: undefined,
          keyValue: { kind: 'plain', keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array(0) }, attribute: [], attributes: undefined },
          cryptographicAlgorithm: algorithm,
          cryptographicLength: bits,
          keyWrappingData: undefined,
        },
      },
    },
  };
}

function secretData(ctx: OperationContext, given: number | undefined): { spec: KeySpec; skeleton: ManagedObject } {
  const bits = given ?? SECRET_DATA_DEFAULT_BITS;
  if (bits % 8 !== 0 || bits < 8 || bits > SECRET_DATA_MAX_BITS) {
    throw new KmipError(atLeast(ctx.version, 2, 0) ? 'InvalidAttributeValue' : 'InvalidField', `Secret Data length must be a multiple of 8 from 8 to ${SECRET_DATA_MAX_BITS} bits`);
  }
  return {
    spec: { kind: 'generic', bytes: bits / 8 },
    skeleton: {
      objectType: OT.SecretData,
      value: {
        // As the OASIS test case answers (TC-CREATE-SD-1-14): a Password in Opaque format.
        secretDataType: Enum.SecretDataType.Password,
        keyBlock: {
          keyFormatType: KF.Opaque,
          keyCompressionType: undefined,
          keyValue: { kind: 'plain', keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array(0) }, attribute: [], attributes: undefined },
          cryptographicAlgorithm: undefined,
          cryptographicLength: undefined,
          keyWrappingData: undefined,
        },
      },
    },
  };
}
