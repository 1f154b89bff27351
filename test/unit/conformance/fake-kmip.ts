// Test helpers for the conformance runner: XML builders in the OASIS test-case style, and an
// in-memory KMIP 1.4 server (a handful of operations) behind the runner's connection interface.
// The fake answers from its own state, never from the vector, so a runner that substitutes or
// captures wrongly sends requests the fake rejects.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { decodeTtlv, encodeTtlv, type StructureNode, type TtlvNode } from '../../../src/ttlv/index.js';
import { Tag, enumValueName } from '../../../src/kmip/registry.js';
import { parseXml, xmlToTtlv } from '../../../src/kmip/encodings/xml.js';
import { bytesToHex, formatDateTime } from '../../../src/kmip/encodings/lexical.js';
import type { KmipConnection } from '../../../src/conformance/runner.js';

// ---------------------------------------------------------------------------------------------
// Temp dirs, removed after the test file

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

// ---------------------------------------------------------------------------------------------
// XML builders

export const version14 = '<ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>';

export function req(...items: string[]): string {
  return `<RequestMessage><RequestHeader>${version14}<BatchCount type="Integer" value="${items.length}"/></RequestHeader>${items.join('')}</RequestMessage>`;
}

export function reqItem(op: string, payload: string): string {
  return `<BatchItem><Operation type="Enumeration" value="${op}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
}

export function resp(items: string[], header = '', timeStamp = '$NOW'): string {
  return `<ResponseMessage><ResponseHeader>${version14}<TimeStamp type="DateTime" value="${timeStamp}"/>${header}<BatchCount type="Integer" value="${items.length}"/></ResponseHeader>${items.join('')}</ResponseMessage>`;
}

export function ok(op: string, payload: string): string {
  return `<BatchItem><Operation type="Enumeration" value="${op}"/><ResultStatus type="Enumeration" value="Success"/><ResponsePayload>${payload}</ResponsePayload></BatchItem>`;
}

export function failed(op: string, reason: string, message = 'vendor text'): string {
  return `<BatchItem><Operation type="Enumeration" value="${op}"/><ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="${reason}"/><ResultMessage type="TextString" value="${message}"/></BatchItem>`;
}

export const uid = (v: string): string => `<UniqueIdentifier type="TextString" value="${v}"/>`;
export const text = (tag: string, v: string): string => `<${tag} type="TextString" value="${v}"/>`;
export const bytes = (tag: string, hex: string): string => `<${tag} type="ByteString" value="${hex}"/>`;
export const en = (tag: string, v: string): string => `<${tag} type="Enumeration" value="${v}"/>`;
export const int = (tag: string, v: string | number): string => `<${tag} type="Integer" value="${v}"/>`;
export const date = (tag: string, v: string): string => `<${tag} type="DateTime" value="${v}"/>`;
export const attr = (name: string, value: string): string => `<Attribute><AttributeName type="TextString" value="${name}"/>${value}</Attribute>`;

export function vector(...messages: string[]): string {
  return `<KMIP>\n${messages.join('\n')}\n</KMIP>`;
}

/** One XML element (a message) as TTLV, literal values only. */
export function ttlv(xml: string): TtlvNode {
  return xmlToTtlv(parseXml(xml)[0]!);
}

export function symmetricKey(material: string): string {
  return `<SymmetricKey><KeyBlock>${en('KeyFormatType', 'Raw')}<KeyValue>${bytes('KeyMaterial', material)}</KeyValue>${en('CryptographicAlgorithm', 'AES')}${int('CryptographicLength', 128)}</KeyBlock></SymmetricKey>`;
}

// ---------------------------------------------------------------------------------------------
// The fake server

interface FakeObject {
  material: string;
  name?: string;
  state: 'PreActive' | 'Active' | 'Deactivated';
}

export interface FakeOptions {
  /** Fixed clock for response time stamps (ms). */
  now?: () => number;
  /** Extra response header XML (e.g. a ServerCorrelationValue). */
  header?: string;
  /** Override or add operations: return response item XML, or undefined to fall through. */
  handle?: (op: string, payload: StructureNode | undefined, server: FakeKmip) => string | undefined;
}

/** A minimal KMIP 1.4 server: Create, Register, Get, Activate, Revoke, Destroy, Locate, Encrypt, Decrypt. */
export class FakeKmip {
  readonly objects = new Map<string, FakeObject>();
  /** Every request received, decoded, and the response sent for it. */
  readonly requests: TtlvNode[] = [];
  readonly responses: TtlvNode[] = [];
  /** Ciphertext (hex) → plaintext (hex), for Decrypt of what Encrypt produced. */
  readonly ciphertexts = new Map<string, string>();
  connections = 0;
  #next = 1;

  constructor(readonly options: FakeOptions = {}) {}

  connect = async (): Promise<KmipConnection> => {
    this.connections++;
    return {
      send: async (bytes: Buffer) => encodeTtlv(this.answer(decodeTtlv(bytes))),
      close: () => undefined,
    };
  };

  newId(): string {
    return `fake-${this.#next++}`;
  }

  answer(request: TtlvNode): TtlvNode {
    this.requests.push(request);
    const items = (request as StructureNode).value.filter((c) => c.tag === Tag.BatchItem) as StructureNode[];
    const out = items.map((item) => {
      const op = operationOf(item);
      const payload = item.value.find((c) => c.tag === Tag.RequestPayload) as StructureNode | undefined;
      return this.options.handle?.(op, payload, this) ?? this.builtIn(op, payload);
    });
    const now = this.options.now?.() ?? Date.now();
    const response = ttlv(resp(out, this.options.header ?? '', formatDateTime(BigInt(Math.floor(now / 1000)))));
    this.responses.push(response);
    return response;
  }

  private builtIn(op: string, payload: StructureNode | undefined): string {
    const id = textChild(payload, Tag.UniqueIdentifier);
    const obj = id === undefined ? undefined : this.objects.get(id);
    switch (op) {
      case 'Create': {
        const newId = this.newId();
        this.objects.set(newId, { material: bytesToHex(randomBytes(16)), state: 'PreActive', ...(nameIn(payload) !== undefined && { name: nameIn(payload)! }) });
        return ok(op, en('ObjectType', 'SymmetricKey') + uid(newId));
      }
      case 'Register': {
        const newId = this.newId();
        const material = findDeep(payload, Tag.KeyMaterial);
        this.objects.set(newId, {
          material: material?.type === 'ByteString' ? bytesToHex(material.value) : '',
          state: 'PreActive',
          ...(nameIn(payload) !== undefined && { name: nameIn(payload)! }),
        });
        return ok(op, uid(newId));
      }
      case 'Get':
        if (!obj) return failed(op, 'ItemNotFound');
        return ok(op, en('ObjectType', 'SymmetricKey') + uid(id!) + symmetricKey(obj.material));
      case 'Activate':
        if (!obj) return failed(op, 'ItemNotFound');
        obj.state = 'Active';
        return ok(op, uid(id!));
      case 'Revoke':
        if (!obj) return failed(op, 'ItemNotFound');
        obj.state = 'Deactivated';
        return ok(op, uid(id!));
      case 'Destroy':
        if (!obj) return failed(op, 'ItemNotFound');
        if (obj.state === 'Active') return failed(op, 'PermissionDenied');
        this.objects.delete(id!);
        return ok(op, uid(id!));
      case 'Locate': {
        const name = nameIn(payload);
        return ok(op, [...this.objects].filter(([, o]) => o.name === name).map(([k]) => uid(k)).join(''));
      }
      case 'Encrypt': {
        if (!obj) return failed(op, 'ItemNotFound');
        const data = findDeep(payload, Tag.Data);
        const ivGiven = findDeep(payload, Tag.IVCounterNonce);
        const cipher = bytesToHex(randomBytes(16));
        this.ciphertexts.set(cipher, data?.type === 'ByteString' ? bytesToHex(data.value) : '');
        const iv = ivGiven === undefined ? bytes('IVCounterNonce', bytesToHex(randomBytes(16))) : '';
        return ok(op, uid(id!) + bytes('Data', cipher) + iv);
      }
      case 'Decrypt': {
        if (!obj) return failed(op, 'ItemNotFound');
        const data = findDeep(payload, Tag.Data);
        const plain = data?.type === 'ByteString' ? this.ciphertexts.get(bytesToHex(data.value)) : undefined;
        if (plain === undefined) return failed(op, 'CryptographicFailure');
        return ok(op, uid(id!) + bytes('Data', plain));
      }
      default:
        return failed(op, 'OperationNotSupported');
    }
  }
}

export function operationOf(item: StructureNode): string {
  const op = item.value.find((c) => c.tag === Tag.Operation);
  return op?.type === 'Enumeration' ? enumValueName('Operation', op.value) ?? '' : '';
}

function textChild(node: StructureNode | undefined, tag: number): string | undefined {
  const c = node?.value.find((n) => n.tag === tag);
  return c?.type === 'TextString' ? c.value : undefined;
}

export function findDeep(node: TtlvNode | undefined, tag: number): TtlvNode | undefined {
  if (node === undefined) return undefined;
  if (node.tag === tag) return node;
  if (node.type !== 'Structure') return undefined;
  for (const c of node.value) {
    const f = findDeep(c, tag);
    if (f) return f;
  }
  return undefined;
}

function nameIn(payload: StructureNode | undefined): string | undefined {
  const nv = findDeep(payload, Tag.NameValue);
  return nv?.type === 'TextString' ? nv.value : undefined;
}
