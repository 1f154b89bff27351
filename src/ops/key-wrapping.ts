/**
 * Key wrapping (KMIP 1.4 §2.1.5 Key Wrapping Data, §2.1.6 Key Wrapping Specification, §4.11 Get;
 * 2.1 §3.3, §7.18 and §6.1.19): a key returned wrapped under another managed key, and a key
 * registered wrapped returned unwrapped (Key Wrap Type Not Wrapped).
 *
 * Wrapping Method Encrypt only. The wrapped bytes are the Key Value's Key Material (Encoding Option
 * No Encoding, which needs a Byte String Key Material and allows no attributes) or the TTLV
 * encoding of the whole Key Value structure (TTLV Encoding, the default), which may carry the
 * attributes the specification names. With TTLV Encoding the Key Value is that Byte String. With
 * No Encoding the spec's text (1.4 §2.1.4 "the wrapped un-encoded value of the Byte String Key
 * Material field") is read two ways: TC-SENSITIVE-1-14 records a Byte String Key Value, while
 * TC-WRAP-1/2/3-14, the PyKMIP server and the PyKMIP client (which cannot read the other form) keep
 * the Key Value structure with the wrapped bytes as its Key Material. kmipd answers in the form
 * clients read; it accepts both on Register.
 *
 * How a wrapping key computes depends on its Object Type: `keyWrappers` is the table (symmetric
 * keys; Public Keys wrap with RSA-OAEP, their linked Private Keys unwrap: asymmetric-crypto.ts). Each wrapper checks the
 * key's state and Cryptographic Usage Mask itself, since what is allowed differs per type.
 *
 * Cryptographic Parameters (1.4 §2.1.6): those given in the Encryption Key Information must match
 * an instance of the wrapping key's Cryptographic Parameters attribute (every field the request
 * gives equals that instance's field); without them the first instance is used; a key without the
 * attribute, or without a match, is refused.
 *
 * Errors follow 1.4 §11.12 (Get Errors): a missing wrapping key or unmatched Cryptographic
 * Parameters are Item Not Found (Object Not Found in 2.x); a wrapping object that is not a key,
 * Illegal Operation; a key that may not wrap, Permission Denied (2.x: the usage reasons);
 * an Encoding Option that cannot be honoured, Encoding Option Error.
 */
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask, Tag, enumValueName } from '../kmip/registry.js';
import type { SchemaContext } from '../kmip/schema.js';
import { attributeNameFromText, renderAttributes } from '../kmip/attribute-codec.js';
import { keyBlockOf, keyValue as keyValueCodec, type KeyBlock, type KeyValue, type ManagedObject, type keyWrappingSpecification } from '../kmip/objects.js';
import { cryptographicParameters, type CryptographicParameters } from '../kmip/payloads/encrypt.js';
import { atLeast } from '../kmip/version.js';
import type { StoredAttribute, StoredObject } from '../store/types.js';
import { attributesOf } from './object-attributes.js';
import { intAttribute } from './new-object.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import { decryptWith, decryptionIv, encryptWith, encryptionIv, ivToGenerate, planCipher, withLoadedKey, type CipherPlan } from './symmetric-crypto.js';
import type { OperationContext } from './types.js';
import { publicKeyWrapper } from './asymmetric-crypto.js';

const WM = Enum.WrappingMethod;
const EO = Enum.EncodingOption;
const BCM = Enum.BlockCipherMode;
const M = Mask.CryptographicUsageMask;

export type KeyWrappingSpecification = ReturnType<typeof keyWrappingSpecification.decode>;

/** Stored attribute values are read in a version that defines every field, leniently. */
const STORED_CONTEXT: SchemaContext = { version: { major: 2, minor: 1 }, lenientUnknown: true };

// ---------------------------------------------------------------------------------------------
// The extension point: what a wrapping key of one Object Type does

export interface Wrapped {
  bytes: Uint8Array;
  /** An IV the server chose; it goes into the Key Wrapping Data. */
  ivCounterNonce?: Uint8Array;
}

export interface KeyWrapper {
  /** Wraps `plaintext` under `key` (loaded, on-line, in the caller's scope) with `params`. */
  wrap(ctx: OperationContext, key: StoredObject, params: CryptographicParameters, plaintext: Uint8Array): Promise<Wrapped>;
  /** Undoes a wrapping described by a registered Key Wrapping Data. The caller zeroes the result. */
  unwrap(ctx: OperationContext, key: StoredObject, params: CryptographicParameters, wrapped: Uint8Array, iv: Uint8Array | undefined): Promise<Uint8Array>;
}

/** Symmetric modes a key can be wrapped in: those whose output needs nothing beyond an IV (GCM's tag has no place in Key Wrapping Data). */
function wrappingPlan(algorithm: number | undefined, keyBytes: number, params: CryptographicParameters): CipherPlan {
  const plan = planCipher(algorithm, keyBytes, params);
  if (plan.mode === BCM.GCM) throw new KmipError('FeatureNotSupported', 'wrapping with GCM is not supported: Key Wrapping Data has no field for the tag');
  return plan;
}

const symmetricWrapper: KeyWrapper = {
  async wrap(ctx, kek, params, plaintext) {
    return withLoadedKey(ctx, kek, M.WrapKey, 'protect', async ({ key, algorithm }) => {
      const plan = wrappingPlan(algorithm, key.length, params);
      const n = ivToGenerate(plan, undefined);
      const random = n > 0 ? await ctx.keys.random(n) : undefined;
      const { iv, returned } = encryptionIv(plan, undefined, random);
      const out = encryptWith(plan, key, iv, plaintext, undefined);
      return { bytes: out.data, ...(returned && iv !== null ? { ivCounterNonce: iv } : {}) };
    });
  },
  async unwrap(ctx, kek, params, wrapped, givenIv) {
    // TC-WRAP-2/3 (1.4) register the key-encryption key with Wrap Key alone and expect the server
    // to undo that wrapping on Get: a key registered to wrap may unwrap what it wrapped.
    const mask = intAttribute(kek.attributes, 'CryptographicUsageMask') ?? 0;
    const usage = (mask & M.UnwrapKey) !== 0 ? M.UnwrapKey : M.WrapKey;
    return withLoadedKey(ctx, kek, usage, 'process', ({ key, algorithm }) => {
      const plan = wrappingPlan(algorithm, key.length, params);
      return decryptWith(plan, key, decryptionIv(plan, givenIv), wrapped, undefined, undefined);
    });
  },
};

/** Object Type of the wrapping (or unwrapping) key → how it computes. */
export const keyWrappers = new Map<number, KeyWrapper>([
  [Enum.ObjectType.SymmetricKey, symmetricWrapper],
  // RSA-OAEP under a managed Public Key (asymmetric-crypto.ts).
  [Enum.ObjectType.PublicKey, publicKeyWrapper],
]);

function wrapperFor(ctx: OperationContext, key: StoredObject): KeyWrapper {
  const w = keyWrappers.get(key.objectType);
  if (w === undefined) {
    throw refuse('objectType', ctx.version, `a ${enumValueName('ObjectType', key.objectType) ?? 'object of this type'} cannot wrap keys`);
  }
  return w;
}

// ---------------------------------------------------------------------------------------------
// Cryptographic Parameters of the wrapping key

function storedParameterInstances(obj: StoredObject): { node: TtlvNode[]; params: CryptographicParameters }[] {
  return obj.attributes
    .filter((a: StoredAttribute) => a.name === 'CryptographicParameters' && a.value.type === 'Structure')
    .sort((a, b) => a.index - b.index)
    .map((a) => ({ node: a.value.type === 'Structure' ? [...a.value.value] : [], params: cryptographicParameters.decode(a.value, STORED_CONTEXT) }));
}

function sameField(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return a === b;
}

/**
 * The parameters wrapping uses and the node that names them in the response (1.4 §2.1.6): the
 * request's, when they match an instance of the key's attribute, else its first instance.
 */
export function selectWrappingParameters(ctx: OperationContext, key: StoredObject, given: readonly TtlvNode[] | undefined): { params: CryptographicParameters; node: TtlvNode[] } {
  const instances = storedParameterInstances(key);
  if (instances.length === 0) {
    throw notFound(ctx, 'the wrapping key has no Cryptographic Parameters attribute to wrap with (KMIP 1.4 §2.1.6)');
  }
  if (given === undefined) return instances[0]!;
  const requested = cryptographicParameters.decode(asParameters(given), ctx);
  const fields = Object.entries(requested).filter(([, v]) => v !== undefined);
  const match = instances.find((i) => fields.every(([k, v]) => sameField((i.params as Record<string, unknown>)[k], v)));
  if (match === undefined) throw notFound(ctx, 'the Cryptographic Parameters match none of the wrapping key’s Cryptographic Parameters attributes');
  return { params: match.params, node: [...given] };
}

const notFound = (ctx: OperationContext, message: string): KmipError =>
  new KmipError(atLeast(ctx.version, 2, 0) ? 'ObjectNotFound' : 'ItemNotFound', message);

const asParameters = (children: readonly TtlvNode[]): TtlvNode => ({ tag: Tag.CryptographicParameters, type: 'Structure', value: [...children] });

// ---------------------------------------------------------------------------------------------
// Wrapping on Get

const uidNode = (uid: string): TtlvNode => ({ tag: Tag.UniqueIdentifier, type: 'TextString', value: uid });

function checkSpecification(spec: KeyWrappingSpecification): void {
  if (spec.wrappingMethod !== WM.Encrypt) {
    throw new KmipError('FeatureNotSupported', `Wrapping Method ${enumValueName('WrappingMethod', spec.wrappingMethod) ?? spec.wrappingMethod} is not supported; kmipd wraps with Encrypt only`);
  }
  if (spec.macSignatureKeyInformation !== undefined) {
    throw new KmipError('FeatureNotSupported', 'MAC/Signature Key Information is not supported: kmipd wraps with Encrypt only, without a MAC or signature');
  }
  if (spec.encryptionKeyInformation === undefined) throw new KmipError('InvalidField', 'Wrapping Method Encrypt needs Encryption Key Information');
  const eo = spec.encodingOption;
  if (eo !== undefined && eo !== EO.NoEncoding && eo !== EO.TTLVEncoding) throw new KmipError('EncodingOptionError', 'unknown Encoding Option');
  if (eo === EO.NoEncoding && spec.attributeNames.length > 0) {
    throw new KmipError('EncodingOptionError', 'with No Encoding the wrapped Key Value carries no attributes (KMIP 1.4 §2.1.6)');
  }
}

/** The attributes a TTLV-encoded wrapped Key Value carries, named by the specification. */
function boundAttributes(ctx: OperationContext, obj: StoredObject, names: readonly string[]): Pick<Extract<KeyValue, { kind: 'plain' }>, 'attribute' | 'attributes'> {
  if (names.length === 0) return { attribute: [], attributes: undefined };
  const all = attributesOf(obj, ctx.now());
  const selected = names.flatMap((text) => {
    const name = attributeNameFromText(text, ctx.version);
    return name === undefined ? [] : all.filter((a) => a.name === name);
  });
  const rendered = renderAttributes(selected, ctx.version);
  return atLeast(ctx.version, 2, 0)
    ? { attribute: [], attributes: { tag: Tag.Attributes, type: 'Structure', value: rendered } }
    : { attribute: rendered, attributes: undefined };
}

/**
 * `served` (plaintext, in its final format) wrapped as `spec` asks. `obj` is the stored object
 * (for the attributes to bind); buffers made here are added to `created` for zeroing.
 */
export async function wrapForGet(
  ctx: OperationContext,
  obj: StoredObject,
  served: ManagedObject,
  spec: KeyWrappingSpecification,
  created: Uint8Array[],
): Promise<ManagedObject> {
  if (served.objectType === Enum.ObjectType.Template) throw new KmipError('InvalidField', 'a Template cannot be returned wrapped (KMIP 1.4 §4.11)');
  const kb = keyBlockOf(served);
  if (kb === undefined) throw new KmipError('InvalidField', 'only objects with a Key Block can be returned wrapped');
  const kv = kb.keyValue;
  if (kv === undefined || kv.kind === 'wrapped' || kb.keyWrappingData !== undefined) throw new Error('wrapForGet needs a plaintext Key Value');
  checkSpecification(spec);
  const info = spec.encryptionKeyInformation!;
  const kek = await loadOnline(ctx, uidNode(info.uniqueIdentifier));
  if (kek.uid === obj.uid) throw new KmipError('InvalidField', 'a key cannot be wrapped under itself');
  const wrapper = wrapperFor(ctx, kek);
  const { params, node } = selectWrappingParameters(ctx, kek, info.cryptographicParameters);

  let plaintext: Uint8Array;
  if (spec.encodingOption === EO.NoEncoding) {
    if (kv.keyMaterial.type !== 'ByteString') throw new KmipError('EncodingOptionError', 'No Encoding needs a Byte String Key Material; ask for TTLV Encoding or a Raw format');
    plaintext = kv.keyMaterial.value;
  } else {
    const full: KeyValue = { ...kv, ...boundAttributes(ctx, obj, spec.attributeNames) };
    plaintext = encodeTtlv(keyValueCodec.encode(Tag.KeyValue, full, ctx));
    created.push(plaintext);
  }
  const wrapped = await wrapper.wrap(ctx, kek, params, plaintext);
  const keyValue: KeyValue =
    spec.encodingOption === EO.NoEncoding
      ? { kind: 'plain', keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: wrapped.bytes }, attribute: [], attributes: undefined }
      : { kind: 'wrapped', bytes: wrapped.bytes };
  const block: KeyBlock = {
    ...kb,
    keyValue,
    keyWrappingData: {
      wrappingMethod: WM.Encrypt,
      encryptionKeyInformation: { uniqueIdentifier: kek.uid, cryptographicParameters: node },
      macSignatureKeyInformation: undefined,
      macSignature: undefined,
      ivCounterNonce: wrapped.ivCounterNonce,
      encodingOption: spec.encodingOption,
    },
  };
  return { objectType: served.objectType, value: { ...served.value, keyBlock: block } } as ManagedObject;
}

// ---------------------------------------------------------------------------------------------
// Unwrapping a key registered wrapped

/**
 * The plaintext form of `object`, registered with Key Wrapping Data (TC-WRAP-2/3: Get with Key
 * Wrap Type Not Wrapped). The wrapped bytes are the Key Value Byte String, or, as the OASIS
 * vectors register it with No Encoding, the Byte String Key Material of a Key Value structure.
 * Buffers made here are added to `created` for zeroing.
 */
export async function unwrapRegistered(ctx: OperationContext, object: ManagedObject, created: Uint8Array[]): Promise<ManagedObject> {
  const kb = keyBlockOf(object);
  const kwd = kb?.keyWrappingData;
  if (kb === undefined || kwd === undefined || kb.keyValue === undefined) throw new Error('unwrapRegistered needs a wrapped Key Block');
  if (kwd.wrappingMethod !== WM.Encrypt || kwd.macSignatureKeyInformation !== undefined || kwd.encryptionKeyInformation === undefined) {
    throw new KmipError('FeatureNotSupported', 'kmipd unwraps keys wrapped with Encrypt only, without a MAC or signature');
  }
  const kv = kb.keyValue;
  let wrapped: Uint8Array;
  if (kv.kind === 'wrapped') wrapped = kv.bytes;
  else if (kv.keyMaterial.type === 'ByteString') wrapped = kv.keyMaterial.value;
  else throw new KmipError('FeatureNotSupported', 'the wrapped key’s Key Value has no wrapped bytes kmipd can read');

  const info = kwd.encryptionKeyInformation;
  const kek = await loadOnline(ctx, uidNode(info.uniqueIdentifier));
  const wrapper = wrapperFor(ctx, kek);
  const params =
    info.cryptographicParameters !== undefined
      ? cryptographicParameters.decode(asParameters(info.cryptographicParameters), STORED_CONTEXT)
      : selectWrappingParameters(ctx, kek, undefined).params;
  const plain = await wrapper.unwrap(ctx, kek, params, wrapped, kwd.ivCounterNonce);
  created.push(plain);

  let keyValue: KeyValue;
  if (kwd.encodingOption === EO.NoEncoding) {
    keyValue = { kind: 'plain', keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: plain }, attribute: [], attributes: undefined };
  } else {
    let node: TtlvNode;
    try {
      node = decodeTtlv(plain);
    } catch {
      throw new KmipError('CryptographicFailure', 'the unwrapped Key Value is not a TTLV structure');
    }
    // The decoder copies Byte Strings: those copies hold key material too and are zeroed with the rest.
    collectByteStrings(node, created);
    if (node.tag !== Tag.KeyValue) throw new KmipError('CryptographicFailure', 'the unwrapped bytes are not a Key Value structure');
    keyValue = keyValueCodec.decode(node, STORED_CONTEXT);
  }
  const block: KeyBlock = { ...kb, keyValue, keyWrappingData: undefined };
  return { objectType: object.objectType, value: { ...object.value, keyBlock: block } } as ManagedObject;
}

function collectByteStrings(node: TtlvNode, into: Uint8Array[]): void {
  if (node.type === 'ByteString') into.push(node.value);
  else if (node.type === 'Structure') for (const c of node.value) collectByteStrings(c, into);
}
