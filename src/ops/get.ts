/**
 * Get (KMIP 1.4 §4.11, §11.12; 2.1 §6.1.19): the object with its material, revealed by the HSM,
 * in the format it was registered in or a requested Key Format Type kmipd can convert to
 * (key-material.ts `convertFormat`). Any state that still holds material may be read, Pre-Active
 * included; a destroyed object has attributes only (1.4 §11.12 "the server only has attributes
 * for this object"). A meta-data only key (registered without Key Value) is returned as its Key
 * Block without Key Value (OASIS TC-MDO-1-14). With a Key Wrapping Specification the key is returned
 * wrapped under another managed key; a key registered wrapped is returned as registered, or
 * unwrapped for Key Wrap Type Not Wrapped (key-wrapping.ts).
 *
 * The revealed buffer is zeroed as soon as the response payload is encoded (zeroAfterEncode).
 * Serving the object clears Fresh (1.4 §3.34).
 */
import { KmipError } from '../kmip/errors.js';
import { Enum } from '../kmip/registry.js';
import { getRequest, getResponse } from '../kmip/payloads/get.js';
import { fieldsFromObject, keyBlockOf, type ManagedObject } from '../kmip/objects.js';
import type { StoredObject } from '../store/types.js';
import { checkCompression, convertFormat, revealObject, zeroAfterEncode } from './key-material.js';
import { currentState, isDestroyed, touch } from './object-attributes.js';
import { attributeValue, av, enumAttribute, intAttribute, METADATA_ONLY, setSingle } from './new-object.js';
import { unwrapRegistered, wrapForGet } from './key-wrapping.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import { defineOperation } from './types.js';

export const get = defineOperation({
  operation: Enum.Operation.Get,
  request: getRequest,
  response: zeroAfterEncode(getResponse),
  async handle(ctx, req) {
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    // Extractable governs every way out, wrapped or not (1.4 §3.50); Sensitive only the plaintext one (§3.48).
    const extractable = attributeValue(obj.attributes, 'Extractable');
    if (extractable?.type === 'Boolean' && !extractable.value) throw new KmipError('NotExtractable', 'the object is not Extractable');
    const spec = req.keyWrappingSpecification;
    if (spec !== undefined && req.keyWrapType === Enum.KeyWrapType.AsRegistered) {
      throw new KmipError('InvalidField', 'Key Wrap Type As Registered contradicts a Key Wrapping Specification');
    }
    const sensitive = attributeValue(obj.attributes, 'Sensitive');
    const isSensitive = sensitive?.type === 'Boolean' && sensitive.value;

    let served: ManagedObject;
    const plaintexts: Uint8Array[] = [];
    if (obj.material === null) {
      if (spec !== undefined) throw refuse('keyValueAbsent', ctx.version, 'the object has no key material to wrap');
      if (isSensitive) throw sensitiveError();
      const metadataOnly = metadataOnlyObject(obj);
      if (metadataOnly === undefined) throw refuse('keyValueAbsent', ctx.version, 'the object has been destroyed; only its attributes remain');
      served = convertFormat(metadataOnly, req.keyFormatType, plaintexts);
    } else {
      const { object, secret } = await revealObject(ctx.keys, obj);
      plaintexts.push(secret);
      try {
        let plain = object;
        const registeredWrapped = keyBlockOf(object)?.keyWrappingData !== undefined;
        if (registeredWrapped && (req.keyWrapType === Enum.KeyWrapType.NotWrapped || spec !== undefined)) {
          plain = await unwrapRegistered(ctx, object, plaintexts);
        }
        const leavesWrapped = spec !== undefined || (registeredWrapped && plain === object);
        if (isSensitive && !leavesWrapped) throw sensitiveError();
        served = convertFormat(plain, req.keyFormatType, plaintexts);
        checkCompression(served, req.keyCompressionType);
        if (spec !== undefined) served = await wrapForGet(ctx, obj, served, spec, plaintexts);
      } catch (err) {
        for (const p of plaintexts) p.fill(0);
        throw err;
      }
    }

    const fresh = attributeValue(obj.attributes, 'Fresh');
    if (fresh?.type === 'Boolean' && fresh.value) {
      setSingle(obj.attributes, 'Fresh', av('Boolean', false));
      obj.state = currentState(obj, ctx.now());
      ctx.unit.put(touch(obj, ctx.now()));
    }
    return { objectType: obj.objectType, uniqueIdentifier: obj.uid, ...fieldsFromObject(served), plaintexts };
  },
});

function sensitiveError(): KmipError {
  return new KmipError('Sensitive', 'the object is Sensitive: it may only leave the server wrapped');
}

/**
 * The Key Block of a meta-data only key (registered without Key Value, Key Value Present false):
 * rebuilt from its attributes. Undefined for anything else without material (destroyed objects).
 */
function metadataOnlyObject(obj: StoredObject): ManagedObject | undefined {
  const present = attributeValue(obj.attributes, 'KeyValuePresent');
  if (isDestroyed(obj.state) || !(present?.type === 'Boolean' && !present.value) || !METADATA_ONLY.includes(obj.objectType)) return undefined;
  const keyBlock = {
    keyFormatType: enumAttribute(obj.attributes, 'KeyFormatType') ?? Enum.KeyFormatType.Raw,
    keyCompressionType: undefined,
    keyValue: undefined,
    cryptographicAlgorithm: enumAttribute(obj.attributes, 'CryptographicAlgorithm'),
    cryptographicLength: intAttribute(obj.attributes, 'CryptographicLength'),
    keyWrappingData: undefined,
  };
  return { objectType: obj.objectType, value: { keyBlock } } as ManagedObject;
}
