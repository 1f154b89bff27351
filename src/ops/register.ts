/**
 * Register (KMIP 1.4 §4.3, §11.4; 2.1 §6.1.43): a client-supplied object is checked, its secret
 * part protected by the HSM (key-material.ts), and the object stored with its attributes. Keys,
 * Secret Data (the passwords self-encrypting drive arrays register), Opaque Objects, Certificates,
 * Split Keys, PGP Keys, and in 1.x Templates.
 *
 * Cryptographic Algorithm and Length "MAY be omitted only if this information is encapsulated in
 * the Key Block" (1.4 Table 171, 2.1 Table 293): the Key Block's values become the attributes, and
 * where both are given they must agree. Keys need a Cryptographic Usage Mask (same tables); the
 * OASIS vectors register Secret Data, Certificates, Opaque Objects and PGP keys without one
 * (SASED-M-2-14, BL-M-4-21, BL-M-10-21, OMOS-M-1-14), so those may omit it.
 */
import { KmipError } from '../kmip/errors.js';
import { Enum, Tag } from '../kmip/registry.js';
import { registerRequest, registerResponse } from '../kmip/payloads/register.js';
import { appliesToObjectType } from '../kmip/attributes.js';
import { readRequestAttributes, type AttributeInput } from '../kmip/attribute-codec.js';
import { initialState } from '../kmip/lifecycle.js';
import { atLeast } from '../kmip/version.js';
import { isExtensionValue, keyBlockOf, objectFromFields, type KeyBlock, type ManagedObject } from '../kmip/objects.js';
import type { SchemaContext } from '../kmip/schema.js';
import { newUid, type NewObject, type StoredAttribute, type StoredMaterial } from '../store/index.js';
import { applyClientAttributes, currentState } from './object-attributes.js';
import { bindingOf, inspectCertificate, inspectKeyBlock, protectObject, wipeObject, type Protected } from './key-material.js';
import {
  addServerAttributes,
  av,
  checkNamesUnique,
  dateAttribute,
  enumAttribute,
  intAttribute,
  lengthMatches,
  METADATA_ONLY,
  registeredSymmetricBytes,
  requestedAttributes,
  setSingle,
} from './new-object.js';
import { defineOperation, type OperationContext } from './types.js';

const OT = Enum.ObjectType;
const KF = Enum.KeyFormatType;

/** Keys must say what they may be used for (1.4 Table 171, 2.1 Table 293). */
const MASK_REQUIRED: readonly number[] = [OT.SymmetricKey, OT.PublicKey, OT.PrivateKey];
/** Key Format Types a symmetric key may be registered in (wrapped keys aside). */
const SYMMETRIC_FORMATS: readonly number[] = [KF.Raw, KF.TransparentSymmetricKey];

export const register = defineOperation({
  operation: Enum.Operation.Register,
  request: registerRequest,
  response: registerResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const objectType = req.objectType;
    const obj = objectFromFields(req, objectType);
    if (objectType === OT.Template && atLeast(ctx.version, 2, 0)) {
      throw new KmipError('InvalidField', 'Template objects do not exist in KMIP 2.x');
    }
    // The request's copy of the material is zeroed whatever happens (protectObject does it too).
    try {
      const inputs = withoutRestatedFacts(obj, await requestedAttributes(ctx, [req.templateAttribute, req.attributes]));
      const attrs = applyClientAttributes([], inputs, 'atCreation', objectType, Enum.State.PreActive, ctx.version);
      const schema: SchemaContext = { version: ctx.version, lenientUnknown: ctx.lenientUnknown };
      describe(ctx, obj, attrs, schema);
      await checkNamesUnique(ctx, attrs);

      const uid = newUid(now.getTime());
      const kb = keyBlockOf(obj);
      let material: StoredMaterial | null = null;
      let digest: Protected['digest'];
      if (kb !== undefined && kb.keyValue === undefined) {
        // A meta-data only object (1.4 §3.41 Key Value Present, §3.42 Key Value Location): the key
        // lives elsewhere; the server keeps what the Key Block says about it, as attributes.
        if (!METADATA_ONLY.includes(objectType)) throw new KmipError('InvalidField', 'the Key Block has no Key Value');
        if (appliesToObjectType('KeyValuePresent', objectType, ctx.version)) setSingle(attrs, 'KeyValuePresent', av('Boolean', false));
      } else {
        ({ material, digest } = await protectObject(ctx.keys, bindingOf({ uid, objectType, tenant: ctx.tenant }), obj));
      }
      addServerAttributes(attrs, { now, objectType, version: ctx.version, keyFormatType: kb?.keyFormatType, digest, generated: false });
      const state =
        objectType === OT.Template
          ? Enum.State.PreActive
          : currentState({ state: initialState(dateAttribute(attrs, 'ActivationDate'), now.getTime()), attributes: attrs }, now);
      const stored: NewObject = { uid, tenant: ctx.tenant, objectType, state, createdAt: now.getTime(), material, attributes: attrs };
      ctx.unit.insert(stored);
      ctx.idPlaceholder = uid;
      return { uniqueIdentifier: uid, templateAttribute: undefined };
    } finally {
      wipeObject(obj);
    }
  },
});

/** Checks the object and records what the server learns from it as attributes, in place. */
function describe(ctx: OperationContext, obj: ManagedObject, attrs: StoredAttribute[], schema: SchemaContext): void {
  const kb = keyBlockOf(obj);
  if (kb !== undefined) {
    describeKeyBlock(ctx, obj.objectType, kb, attrs, schema);
    if (obj.objectType === OT.SecretData) {
      const t = obj.value.secretDataType;
      if (!isExtensionValue(t) && !Object.values(Enum.SecretDataType).includes(t as never)) {
        throw new KmipError('InvalidField', 'unknown Secret Data Type');
      }
    }
  } else if (obj.objectType === OT.Certificate) {
    const { length } = inspectCertificate(obj.value.certificateType, obj.value.certificateValue);
    setSingle(attrs, 'CertificateType', av('Enumeration', obj.value.certificateType));
    setSingle(attrs, 'CertificateLength', av('Integer', length));
  } else if (obj.objectType === OT.OpaqueObject) {
    if (obj.value.opaqueDataValue.length === 0) throw new KmipError('InvalidField', 'the Opaque Data Value is empty');
  } else if (obj.objectType === OT.Template) {
    // 1.4 §11.4: a Template names itself through the request's Name, never inside the Template.
    const node = { tag: Tag.Template, type: 'Structure' as const, value: [...obj.value.attribute] };
    const content = readRequestAttributes([node], ctx.version, [Tag.Template]).attributes;
    if (content.some((a) => a.name === 'Name')) throw new KmipError('InvalidField', 'a Template may not contain a Name attribute');
    applyClientAttributes([], content, 'atCreation', OT.Template, Enum.State.PreActive, ctx.version);
  }
  if (MASK_REQUIRED.includes(obj.objectType) && intAttribute(attrs, 'CryptographicUsageMask') === undefined) {
    throw new KmipError('InvalidField', 'Register requires the Cryptographic Usage Mask attribute for keys');
  }
}

function describeKeyBlock(ctx: OperationContext, objectType: number, kb: KeyBlock, attrs: StoredAttribute[], schema: SchemaContext): void {
  const { bits } = inspectKeyBlock(objectType, kb, schema);
  const wrapped = kb.keyWrappingData !== undefined;
  if (objectType === OT.SymmetricKey && !wrapped && !SYMMETRIC_FORMATS.includes(kb.keyFormatType) && !isExtensionValue(kb.keyFormatType)) {
    throw new KmipError('InvalidField', 'a symmetric key is registered as Raw or Transparent Symmetric Key');
  }
  const algorithm = agree('Cryptographic Algorithm', enumAttribute(attrs, 'CryptographicAlgorithm'), kb.cryptographicAlgorithm);
  let length = agree('Cryptographic Length', intAttribute(attrs, 'CryptographicLength'), kb.cryptographicLength);

  const isKey = objectType === OT.SymmetricKey || objectType === OT.PublicKey || objectType === OT.PrivateKey;
  if (isKey && algorithm === undefined) {
    throw new KmipError('InvalidField', 'Register requires the Cryptographic Algorithm, in the attributes or in the Key Block');
  }
  if (bits !== undefined && !wrapped) {
    if (objectType === OT.SymmetricKey) {
      const bytes = bits / 8;
      const allowed = registeredSymmetricBytes(algorithm);
      if (allowed !== undefined && !allowed.includes(bytes)) throw new KmipError('InvalidField', 'the key length does not suit its Cryptographic Algorithm');
      if (length !== undefined && !lengthMatches(algorithm, bytes, length)) {
        throw new KmipError('InvalidField', 'Cryptographic Length does not match the length of the Key Material');
      }
      length ??= bits;
    } else if (objectType === OT.PublicKey || objectType === OT.PrivateKey) {
      if (length !== undefined && length !== bits) throw new KmipError('InvalidField', 'Cryptographic Length does not match the key');
      length ??= bits;
    }
  }
  if (algorithm !== undefined && appliesToObjectType('CryptographicAlgorithm', objectType, ctx.version)) {
    setSingle(attrs, 'CryptographicAlgorithm', av('Enumeration', algorithm));
  }
  if (length !== undefined && appliesToObjectType('CryptographicLength', objectType, ctx.version)) {
    setSingle(attrs, 'CryptographicLength', av('Integer', length));
  }
}

/** A value given both as an attribute and in the Key Block must be the same (1.4 §11.4 "Incorrect attribute value(s)"). */
function agree(label: string, attribute: number | undefined, keyBlock: number | undefined): number | undefined {
  if (attribute !== undefined && keyBlock !== undefined && attribute !== keyBlock) {
    throw new KmipError('InvalidField', `${label} differs between the attributes and the Key Block`);
  }
  return attribute ?? keyBlock;
}

/**
 * Clients restate the Certificate Type of the certificate they register as an attribute (OASIS
 * BL-M-10-21, TC-PKCS12-1-14), though the server sets it (1.4 §3.8, 2.1 §4.7). The same value is
 * dropped here rather than refused; a different one is an error in the request.
 */
function withoutRestatedFacts(obj: ManagedObject, inputs: AttributeInput[]): AttributeInput[] {
  if (obj.objectType !== OT.Certificate) return inputs;
  return inputs.filter((a) => {
    if (a.name !== 'CertificateType') return true;
    if (a.value.type === 'Enumeration' && a.value.value === obj.value.certificateType) return false;
    throw new KmipError('InvalidField', 'Certificate Type differs from the type of the certificate');
  });
}
