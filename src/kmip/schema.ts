/**
 * A few combinators that describe a KMIP structure once, as data, and give both its decoder
 * and its encoder (KMIP 1.4 §7, 2.1 §8: messages are Structures of tagged fields in a fixed order).
 *
 * Decoding follows the general error rules of KMIP 1.4 §11.1 / 2.1 §11.1:
 *  - a field of the wrong item type, or a single field given twice: Invalid Message;
 *  - an unknown field in the client's exact version: Invalid Field; when the client speaks a newer
 *    minor version than we do, unknown fields are ignored;
 *  - a required field that is absent: the structure's `missing` reason (Missing Data by default,
 *    Invalid Message for headers).
 * Encoding writes fields in declaration order and leaves out any field whose tag the target
 * version does not define, so a response never carries a field its reader cannot know.
 */
import type { ItemTypeName, TtlvNode, StructureNode, ValueOf } from '../ttlv/types.js';
import { KmipError, type ResultReasonName } from './errors.js';
import { tagLabel, tagDefinedIn } from './registry.js';
import type { KmipVersion } from './version.js';

export interface SchemaContext {
  /** Version the message is processed in. */
  readonly version: KmipVersion;
  /** True when the client announced a newer minor version than `version`: unknown fields are ignored. */
  readonly lenientUnknown?: boolean;
  /**
   * Where an encoder lists the buffers of secret material it put into the tree it returns (key
   * material served by Get, plaintext of Decrypt): whoever encodes the message zeroes them after.
   */
  readonly secrets?: Uint8Array[];
}

export interface Codec<T> {
  decode(node: TtlvNode, ctx: SchemaContext): T;
  encode(tag: number, value: T, ctx: SchemaContext): TtlvNode;
}

function typeMismatch(node: TtlvNode, expected: string): KmipError {
  return new KmipError('InvalidMessage', `${tagLabel(node.tag)} must be ${expected}`, `got ${node.type}`);
}

function primitive<T extends ItemTypeName>(type: T): Codec<ValueOf<T>> {
  return {
    decode(node) {
      if (node.type !== type) throw typeMismatch(node, type);
      return node.value as ValueOf<T>;
    },
    encode(tag, value) {
      return { tag, type, value } as TtlvNode;
    },
  };
}

export const integer = primitive('Integer');
export const longInteger = primitive('LongInteger');
export const bigInteger = primitive('BigInteger');
export const enumeration = primitive('Enumeration');
export const boolean = primitive('Boolean');
export const textString = primitive('TextString');
export const byteString = primitive('ByteString');
export const dateTime = primitive('DateTime');
export const interval = primitive('Interval');
export const dateTimeExtended = primitive('DateTimeExtended');

/** Any node, kept as is (payloads decoded later by their operation, attribute values, vendor extensions). */
export const anyNode: Codec<TtlvNode> = {
  decode: (node) => node,
  encode: (tag, value) => ({ ...value, tag }) as TtlvNode,
};

/** A Structure kept as its raw children. */
export const rawStructure: Codec<TtlvNode[]> = {
  decode(node) {
    if (node.type !== 'Structure') throw typeMismatch(node, 'Structure');
    return node.value;
  },
  encode: (tag, value) => ({ tag, type: 'Structure', value }),
};

/**
 * A field whose item type changed between versions (e.g. Asynchronous Indicator: Boolean in 1.x,
 * Enumeration in 2.x). Decodes whichever is present; encodes with the first codec.
 */
export function oneOf<A, B>(a: Codec<A>, b: Codec<B>): Codec<A | B> {
  return {
    decode(node, ctx) {
      try {
        return a.decode(node, ctx);
      } catch {
        return b.decode(node, ctx);
      }
    },
    encode: (tag, value, ctx) => a.encode(tag, value as A, ctx),
  };
}

type Occurs = 'one' | 'optional' | 'many' | 'some';

export interface FieldDef<T = unknown, O extends Occurs = Occurs> {
  readonly tag: number;
  readonly codec: Codec<T>;
  readonly occurs: O;
}

export const one = <T>(tag: number, codec: Codec<T>): FieldDef<T, 'one'> => ({ tag, codec, occurs: 'one' });
export const optional = <T>(tag: number, codec: Codec<T>): FieldDef<T, 'optional'> => ({ tag, codec, occurs: 'optional' });
export const many = <T>(tag: number, codec: Codec<T>): FieldDef<T, 'many'> => ({ tag, codec, occurs: 'many' });
/** One or more. */
export const some = <T>(tag: number, codec: Codec<T>): FieldDef<T, 'some'> => ({ tag, codec, occurs: 'some' });

type FieldValue<F> = F extends FieldDef<infer T, infer O>
  ? O extends 'one'
    ? T
    : O extends 'optional'
      ? T | undefined
      : T[]
  : never;

export type Shape<F extends Record<string, FieldDef<any, Occurs>>> = { [K in keyof F]: FieldValue<F[K]> };

export interface StructOptions {
  /** Reason for an absent required field: Missing Data for payloads, Invalid Message for headers. */
  missing?: ResultReasonName;
  /** Keep children whose tag no field names instead of rejecting them (e.g. extensible payloads). */
  extra?: 'reject' | 'ignore';
}

export interface StructCodec<S> extends Codec<S> {
  /** Decodes the children of a Structure already unwrapped (e.g. a payload). */
  decodeChildren(children: TtlvNode[], ctx: SchemaContext, at: number): S;
  encodeChildren(value: S, ctx: SchemaContext): TtlvNode[];
}

export function struct<F extends Record<string, FieldDef<any, Occurs>>>(
  fields: F,
  options: StructOptions = {},
): StructCodec<Shape<F>> {
  const entries = Object.entries(fields) as [keyof F & string, FieldDef<unknown, Occurs>][];
  const byTag = new Map<number, [keyof F & string, FieldDef<unknown, Occurs>]>();
  for (const e of entries) byTag.set(e[1].tag, e);
  const missingReason = options.missing ?? 'MissingData';

  const decodeChildren = (children: TtlvNode[], ctx: SchemaContext, at: number): Shape<F> => {
    const out: Record<string, unknown> = {};
    for (const [name, def] of entries) if (def.occurs === 'many' || def.occurs === 'some') out[name] = [];
    for (const child of children) {
      const entry = byTag.get(child.tag);
      if (entry === undefined) {
        if (options.extra === 'ignore' || ctx.lenientUnknown) continue;
        throw new KmipError('InvalidField', `unexpected field ${tagLabel(child.tag)} in ${tagLabel(at)}`);
      }
      const [name, def] = entry;
      const value = def.codec.decode(child, ctx);
      if (def.occurs === 'many' || def.occurs === 'some') {
        (out[name] as unknown[]).push(value);
      } else {
        if (out[name] !== undefined) {
          throw new KmipError('InvalidMessage', `${tagLabel(child.tag)} appears more than once in ${tagLabel(at)}`);
        }
        out[name] = value;
      }
    }
    for (const [name, def] of entries) {
      const absent = def.occurs === 'one' ? out[name] === undefined : def.occurs === 'some' && (out[name] as unknown[]).length === 0;
      if (absent) throw new KmipError(missingReason, `${tagLabel(def.tag)} is required in ${tagLabel(at)}`);
    }
    return out as Shape<F>;
  };

  // The fields a version defines, worked out once per version (a handful exist) instead of
  // asking the registry for every field of every message encoded.
  const definedEntries = new Map<number, typeof entries>();
  const entriesIn = (version: KmipVersion): typeof entries => {
    const key = version.major * 256 + version.minor;
    let list = definedEntries.get(key);
    if (list === undefined) {
      list = entries.filter(([, def]) => tagDefinedIn(def.tag, version));
      // Bounded: versions come from negotiation or from a client's own choice, never many.
      if (definedEntries.size < 16) definedEntries.set(key, list);
    }
    return list;
  };

  const encodeChildren = (value: Shape<F>, ctx: SchemaContext): TtlvNode[] => {
    const children: TtlvNode[] = [];
    for (const [name, def] of entriesIn(ctx.version)) {
      const v = value[name];
      if (v === undefined) continue;
      if (def.occurs === 'many' || def.occurs === 'some') {
        for (const item of v as unknown[]) children.push(def.codec.encode(def.tag, item, ctx));
      } else {
        children.push(def.codec.encode(def.tag, v, ctx));
      }
    }
    return children;
  };

  return {
    decode(node, ctx) {
      if (node.type !== 'Structure') throw typeMismatch(node, 'a Structure');
      return decodeChildren(node.value, ctx, node.tag);
    },
    encode(tag, value, ctx): StructureNode {
      return { tag, type: 'Structure', value: encodeChildren(value, ctx) };
    },
    decodeChildren,
    encodeChildren,
  };
}
