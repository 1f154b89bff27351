/**
 * Every way the conformance runner compares a response less than exactly, in one place, each with
 * the reason it is allowed (../shared/kmip-vectors/README.md "Compare responses leniently where the
 * server is free to differ", and the KMIP sections cited per rule). Anything not covered here is
 * compared exactly by compare.ts: item tag, item type, value, order and count.
 *
 * Not a rule because the TTLV domain already makes it moot: the order of mask bits. The vectors
 * write a Cryptographic Usage Mask as "Decrypt Encrypt" or "Encrypt Decrypt"; both parse to the
 * same Integer, so comparing integers ignores the order (Additional Message Encodings §6.1.6.4).
 */
import { Enum, Tag, enumValueName } from '../kmip/registry.js';
import type { StructureNode, TtlvNode } from '../ttlv/types.js';

/** What the comparator knows about the batch item it is comparing. */
export interface ItemContext {
  /** Operation of the request batch item (XML name), if any. */
  readonly operation: string | undefined;
  /** The item works on an object whose secret material the server generated (see runner.ts). */
  readonly randomMaterial: boolean;
  /** Encrypt without an IV in the request, and the response carries the IV the server chose. */
  readonly serverChoseIv: boolean;
  /**
   * The request's Data: absent, a literal of the file, or a value replayed from an earlier
   * response of this run (a capture or a server-value placeholder).
   */
  readonly requestData: 'none' | 'literal' | 'replayed';
  /** The request payload, after substitution. */
  readonly requestPayload: StructureNode | undefined;
}

/** How a run of same-tag siblings is compared. */
export type RunMode =
  /** Same multiset of items, any order. */
  | 'unordered'
  /** Every expected item appears somewhere; the server may list more. */
  | 'subset'
  /** Every expected item appears, in the expected relative order; the server may list more. */
  | 'subsequence';

// ---------------------------------------------------------------------------------------------
// Fields ignored on both sides

/**
 * Correlation values are the client's or the server's own bookkeeping (KMIP 1.4 §6.19 Client /
 * Server Correlation Value: "used for correlation of log entries"): the vectors show the values of
 * the vendor that recorded them (`A5E83842-2A456820-4`), and a server may or may not echo them.
 * Result Message is free text "for the client to use for logging or display" (1.4 §6.11).
 */
const IGNORED_FIELDS: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [Tag.ResponseHeader, new Set<number>([Tag.ClientCorrelationValue, Tag.ServerCorrelationValue])],
  [Tag.BatchItem, new Set<number>([Tag.ResultMessage])],
]);

export function isIgnoredField(parentTag: number, childTag: number): boolean {
  return IGNORED_FIELDS.get(parentTag)?.has(childTag) ?? false;
}

// ---------------------------------------------------------------------------------------------
// Failures

/**
 * A failed item is compared by Result Status and Result Reason only (vectors README): what else a
 * server says about a failure (message text, a partial payload) is its own choice (1.4 §6.9–6.11).
 * Operation Undone (1.4 §6.9, batch undo) is a failure outcome too.
 */
export function isFailureStatus(status: number): boolean {
  return status === Enum.ResultStatus.OperationFailed || status === Enum.ResultStatus.OperationUndone;
}

// ---------------------------------------------------------------------------------------------
// Order of attributes

/**
 * KMIP 2.x attribute sets (2.1 §7.2 Attributes; §6.1.13 Create Key Pair Common / Private Key /
 * Public Key Attributes): "a list of attributes", which the spec gives no order.
 */
const ATTRIBUTE_SETS: ReadonlySet<number> = new Set<number>([
  Tag.Attributes,
  Tag.CommonAttributes,
  Tag.PrivateKeyAttributes,
  Tag.PublicKeyAttributes,
]);

/** True when all children of this structure form one unordered set. */
export function isUnorderedStructure(tag: number): boolean {
  return ATTRIBUTE_SETS.has(tag);
}

const QUERY_LISTS: ReadonlySet<number> = new Set<number>([
  Tag.Operation,
  Tag.ObjectType,
  Tag.ApplicationNamespace,
  Tag.ExtensionInformation,
  Tag.AttestationType,
  Tag.RNGParameters,
  Tag.ProfileInformation,
  Tag.ValidationInformation,
  Tag.CapabilityInformation,
  Tag.ClientRegistrationMethod,
  Tag.ProtectionStorageMasks,
]);

/**
 * How a run of consecutive siblings with tag `childTag` inside `parentTag` is compared, or
 * undefined for exactly (in order).
 */
export function runMode(parentTag: number, childTag: number, ctx: ItemContext): RunMode | undefined {
  // 1.x attribute lists (1.4 §2.1.1 Attribute; Get Attributes §4.12, Template-Attribute §2.1.8):
  // a sequence of Attribute structures, in no order the spec defines.
  if (childTag === Tag.Attribute) return 'unordered';
  if (parentTag === Tag.ResponsePayload) {
    // Get Attribute List returns the names (1.x, §4.13) or references (2.x) of the object's
    // attributes, again with no order defined.
    if (ctx.operation === 'GetAttributeList' && (childTag === Tag.AttributeName || childTag === Tag.AttributeReference)) return 'unordered';
    // Query lists what the server supports (1.4 §4.25): a server may support more operations,
    // object types, profiles, ... than the one that recorded the vector, in any order.
    if (ctx.operation === 'Query' && QUERY_LISTS.has(childTag)) return 'subset';
    // Discover Versions with an empty request list returns every version the server supports,
    // in its order of preference (1.4 §4.26): newer ones may precede the recorded list.
    if (ctx.operation === 'DiscoverVersions' && childTag === Tag.ProtocolVersion && !hasChild(ctx.requestPayload, Tag.ProtocolVersion)) {
      return 'subsequence';
    }
  }
  return undefined;
}

/** Tags whose whole run may be absent from the expected response without a difference. */
export function mayBeExtraRun(mode: RunMode | undefined): boolean {
  return mode === 'subset' || mode === 'subsequence';
}

// ---------------------------------------------------------------------------------------------
// Subtrees and values the server chooses

/**
 * Query's Server Information is "vendor-specific" and optional (1.4 §4.25): ignored, present or not.
 */
export function isIgnoredSubtree(parentTag: number, childTag: number, ctx: ItemContext): boolean {
  return parentTag === Tag.ResponsePayload && ctx.operation === 'Query' && childTag === Tag.ServerInformation;
}

/**
 * Secret material the server generated is random, and so is everything computed from it: a Get
 * returns a different Key Material, the Digest attribute hashes different bytes, a wrapped Key
 * Value or a certificate differs, and an Encrypt / MAC / Sign output under such a key cannot be
 * predicted (vectors README: "key material and digests of randomly created keys").
 */
const RANDOM_STORED_MATERIAL: ReadonlySet<number> = new Set<number>([Tag.KeyMaterial, Tag.DigestValue, Tag.CertificateValue]);

/** Outputs of cryptographic operations under a key whose material is random. */
const RANDOM_OUTPUTS: Readonly<Record<string, readonly number[]>> = {
  Encrypt: [Tag.Data, Tag.AuthenticatedEncryptionTag],
  MAC: [Tag.MACData],
  Sign: [Tag.SignatureData],
};

/**
 * An IV the server chose (1.4 §4.29 Encrypt: "the server SHALL generate" one when the client gives
 * none and the mode needs it) is random, and the ciphertext and tag depend on it.
 */
const SERVER_IV_OUTPUTS: readonly number[] = [Tag.IVCounterNonce, Tag.Data, Tag.AuthenticatedEncryptionTag];

/**
 * True when the value of this expected leaf (or the content of this structure) may be anything of
 * its item type. `parentTag` is the tag of the structure holding it.
 */
export function isFreeValue(node: TtlvNode, parentTag: number, ctx: ItemContext): boolean {
  const { tag } = node;
  if (ctx.randomMaterial) {
    if (RANDOM_STORED_MATERIAL.has(tag)) return true;
    // A wrapped key's Key Value is a Byte String (1.4 §2.1.4); unwrapped, it is a structure whose
    // attributes are still compared and whose Key Material is covered above.
    if (tag === Tag.KeyValue && node.type === 'ByteString') return true;
    if (parentTag === Tag.ResponsePayload && ctx.operation !== undefined && RANDOM_OUTPUTS[ctx.operation]?.includes(tag)) return true;
    // A literal ciphertext was made under the recording vendor's random key (CS-BC-M-2-14/21):
    // decrypted under this server's random key it yields other bytes. A ciphertext replayed from
    // this run's own Encrypt must decrypt to the recorded plaintext, so that one is compared.
    if (ctx.operation === 'Decrypt' && ctx.requestData === 'literal' && parentTag === Tag.ResponsePayload && tag === Tag.Data) return true;
  }
  if (ctx.serverChoseIv && parentTag === Tag.ResponsePayload && SERVER_IV_OUTPUTS.includes(tag)) return true;
  // RNG Retrieve returns random bytes (1.4 §4.35).
  if (ctx.operation === 'RNGRetrieve' && parentTag === Tag.ResponsePayload && tag === Tag.Data) return true;
  // Query's Vendor Identification names the server's vendor (1.4 §4.25): required, value free.
  if (ctx.operation === 'Query' && parentTag === Tag.ResponsePayload && tag === Tag.VendorIdentification) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Which operations make random material (used by the runner to track objects)

/** Operations whose new objects carry material the server generated at random. */
export const GENERATING_OPERATIONS: ReadonlySet<string> = new Set([
  'Create',
  'CreateKeyPair',
  'ReKey',
  'ReKeyKeyPair',
  'CreateSplitKey',
  'Certify',
  'ReCertify',
]);

/** Operations whose new objects are computed from existing ones: random when an input is. */
export const DERIVING_OPERATIONS: ReadonlySet<string> = new Set(['DeriveKey', 'JoinSplitKey']);

/** Tags that name an object by its identifier. */
export const IDENTIFIER_TAGS: ReadonlySet<number> = new Set<number>([
  Tag.UniqueIdentifier,
  Tag.PrivateKeyUniqueIdentifier,
  Tag.PublicKeyUniqueIdentifier,
]);

// ---------------------------------------------------------------------------------------------
// Helpers

function hasChild(node: StructureNode | undefined, tag: number): boolean {
  return node?.value.some((c) => c.tag === tag) ?? false;
}

/** Name of an operation enumeration value, for context. */
export function operationName(value: number): string | undefined {
  return enumValueName('Operation', value);
}

/**
 * What identifies one member of an unordered run for reporting: when no actual item equals an
 * expected one, the difference is reported against the actual item with the same identity (the
 * 1.x attribute of the same name and index, the 2.x attribute with the same tag), which says far
 * more than "missing". Members of other runs (Query lists, attribute names) have no identity
 * beyond their value, so they are reported as missing.
 */
export function identityKey(node: TtlvNode, parentTag: number): string | undefined {
  if (node.tag === Tag.Attribute && node.type === 'Structure') {
    const name = node.value.find((c) => c.tag === Tag.AttributeName);
    const index = node.value.find((c) => c.tag === Tag.AttributeIndex);
    return `${name?.type === 'TextString' ? name.value : ''}:${index?.type === 'Integer' ? index.value : 0}`;
  }
  if (ATTRIBUTE_SETS.has(parentTag)) return String(node.tag);
  return undefined;
}
