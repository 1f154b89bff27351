// Streamed Encrypt / Decrypt / MAC / MAC Verify (Init Indicator, Final Indicator, Correlation Value; KMIP 1.4
// §4.29–4.30, 2.1 §6.1.17 / §6.1.11) through the real executor, store and SoftHSM2 token. The
// joined pieces are checked against node:crypto computing the whole message in one call.
import { createCipheriv, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { BatchItemRequest } from '../../../src/client/request.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { bytes, child, enumeration, expectFailure, int, okPayload, ops, struct, uidNode, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';

const OP = Enum.Operation;
const BCM = Enum.BlockCipherMode;
const M = Mask.CryptographicUsageMask;

const bool = (tag: number, value: boolean): TtlvNode => ({ tag, type: 'Boolean', value });
const cbc = struct(Tag.CryptographicParameters, [enumeration(Tag.BlockCipherMode, BCM.CBC), enumeration(Tag.PaddingMethod, Enum.PaddingMethod.PKCS5)]);
const gcm = struct(Tag.CryptographicParameters, [enumeration(Tag.BlockCipherMode, BCM.GCM), int(Tag.TagLength, 16)]);

interface Piece {
  uid?: string;
  params?: TtlvNode;
  data?: Uint8Array;
  iv?: Uint8Array;
  aad?: Uint8Array;
  tag?: Uint8Array;
  correlation?: Uint8Array;
  init?: boolean;
  final?: boolean;
}

function piece(operation: number, p: Piece): BatchItemRequest {
  const payload: TtlvNode[] = [];
  if (p.uid !== undefined) payload.push(uidNode(p.uid));
  if (p.params !== undefined) payload.push(p.params);
  if (p.data !== undefined) payload.push(bytes(Tag.Data, p.data));
  if (p.iv !== undefined) payload.push(bytes(Tag.IVCounterNonce, p.iv));
  if (p.correlation !== undefined) payload.push(bytes(Tag.CorrelationValue, p.correlation));
  if (p.init !== undefined) payload.push(bool(Tag.InitIndicator, p.init));
  if (p.final !== undefined) payload.push(bool(Tag.FinalIndicator, p.final));
  if (p.aad !== undefined) payload.push(bytes(Tag.AuthenticatedEncryptionAdditionalData, p.aad));
  if (p.tag !== undefined) payload.push(bytes(Tag.AuthenticatedEncryptionTag, p.tag));
  return { operation, payload };
}

const field = (payload: readonly TtlvNode[], tag: number): Buffer | undefined => {
  const n = child(payload, tag);
  return n?.type === 'ByteString' ? Buffer.from(n.value) : undefined;
};

describeHsm('streamed Encrypt and Decrypt', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  async function activeKey(version: KmipVersion, key: Buffer, mask = M.Encrypt | M.Decrypt): Promise<string> {
    const res = await h.send(version, [ops.registerKey(version, key, mask), ops.activate()]);
    okPayload(res, 1);
    return uidOf(okPayload(res, 0));
  }

  /** Sends `chunks` as one stream; returns the joined output and the last payload. */
  async function streamed(version: KmipVersion, operation: number, uid: string, chunks: Buffer[], first: Piece, last: Piece = {}, tenant?: string) {
    const outputs: Buffer[] = [];
    let payload = okPayload(await h.send(version, [piece(operation, { uid, ...first, data: chunks[0], init: true })], undefined, tenant));
    const correlation = field(payload, Tag.CorrelationValue);
    expect(correlation?.length).toBe(16);
    outputs.push(field(payload, Tag.Data) ?? Buffer.alloc(0));
    for (let i = 1; i < chunks.length; i++) {
      const final = i === chunks.length - 1;
      payload = okPayload(await h.send(version, [piece(operation, { uid, data: chunks[i], correlation, ...(final ? { final: true, ...last } : {}) })], undefined, tenant));
      outputs.push(field(payload, Tag.Data) ?? Buffer.alloc(0));
      if (final) expect(child(payload, Tag.CorrelationValue)).toBeUndefined();
      else expect(field(payload, Tag.CorrelationValue)).toEqual(correlation);
    }
    return { output: Buffer.concat(outputs), payload, correlation: correlation! };
  }

  it('Query Capabilities reports streaming, which the tests below exercise', async () => {
    const res = await h.send(v14, [{ operation: OP.Query, payload: [enumeration(Tag.QueryFunction, Enum.QueryFunction.QueryCapabilities)] }]);
    const cap = child(okPayload(res), Tag.CapabilityInformation);
    expect(child(cap!, Tag.StreamingCapability)).toMatchObject({ type: 'Boolean', value: true });
  });

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      const message = Buffer.from('0102030405060708091011121314151601020304050607080910111213141516' + '01', 'hex');

      it('CBC with PKCS5 in pieces of 8, 8 and 17 bytes (TC-STREAM-ENCDEC-1): node:crypto agrees; the decryption streams back', async () => {
        const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
        const iv = Buffer.from('01020304050607080910111213141516', 'hex');
        const uid = await activeKey(version, key);
        const enc = await streamed(version, OP.Encrypt, uid, [message.subarray(0, 8), message.subarray(8, 16), message.subarray(16)], { params: cbc, iv });
        const c = createCipheriv('aes-128-cbc', key, iv);
        const expected = Buffer.concat([c.update(message), c.final()]);
        // The published TC-STREAM-ENCDEC-1-14 ciphertext.
        expect(expected.toString('hex')).toBe('79abc5c23868ad84d388ce61110a62742bda19d694bbcb757dd06617c0d80fb1df2e71864ad9633d7d797e30860df00d');
        expect(enc.output).toEqual(expected);
        const dec = await streamed(version, OP.Decrypt, uid, [expected.subarray(0, 16), expected.subarray(16, 32), expected.subarray(32)], { params: cbc, iv });
        expect(dec.output).toEqual(message);
      });

      it('GCM with AAD (CS-BC-M-GCM-3): the final piece returns the tag; a wrong tag fails and ends the stream', async () => {
        const key = Buffer.from('feffe9928665731c6d6a8f9467308308', 'hex');
        const iv = Buffer.from('cafebabefacedbad', 'hex');
        const aad = Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex');
        const plain = Buffer.from('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39', 'hex');
        const uid = await activeKey(version, key);
        const enc = await streamed(version, OP.Encrypt, uid, [plain.subarray(0, 32), plain.subarray(32)], { params: gcm, iv, aad });
        const c = createCipheriv('aes-128-gcm', key, iv);
        c.setAAD(aad);
        const expected = Buffer.concat([c.update(plain), c.final()]);
        expect(enc.output).toEqual(expected);
        const tag = field(enc.payload, Tag.AuthenticatedEncryptionTag)!;
        expect(tag.toString('hex')).toBe('3612d2e79e3b0785561be14aaca2fccb');
        const dec = await streamed(version, OP.Decrypt, uid, [expected.subarray(0, 20), expected.subarray(20)], { params: gcm, iv, aad }, { tag });
        expect(dec.output).toEqual(plain);

        const first = okPayload(await h.send(version, [piece(OP.Decrypt, { uid, params: gcm, iv, aad, data: expected, init: true })]));
        const correlation = field(first, Tag.CorrelationValue)!;
        const bad = Buffer.from(tag);
        bad[0]! ^= 1;
        expectFailure(await h.send(version, [piece(OP.Decrypt, { uid, correlation, final: true, tag: bad })]), 'CryptographicFailure');
        expectFailure(await h.send(version, [piece(OP.Decrypt, { uid, correlation, final: true, tag })]), 'InvalidField');
      });

      it('a stream belongs to the client that started it; an unknown Correlation Value is Invalid Field', async () => {
        const uid = await activeKey(version, Buffer.alloc(16, 3));
        const first = okPayload(await h.send(version, [piece(OP.Encrypt, { uid, params: cbc, iv: Buffer.alloc(16), data: Buffer.alloc(5), init: true })]));
        const correlation = field(first, Tag.CorrelationValue)!;
        expectFailure(await h.send(version, [piece(OP.Encrypt, { correlation, data: Buffer.alloc(5) })], undefined, 'other-tenant'), 'InvalidField');
        expectFailure(await h.send(version, [piece(OP.Encrypt, { correlation: Buffer.alloc(16, 0xee), data: Buffer.alloc(5) })]), 'InvalidField');
        expectFailure(await h.send(version, [piece(OP.Decrypt, { correlation, data: Buffer.alloc(16) })]), 'InvalidField');
        // The owner can still finish it.
        okPayload(await h.send(version, [piece(OP.Encrypt, { correlation, data: Buffer.alloc(5), final: true })]));
      });

      it('MAC and MAC Verify in pieces (TC-STREAM-MAC-1): HMAC-SHA256 as node:crypto computes it; MAC Data first or last', async () => {
        const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
        const res = await h.send(version, [ops.registerKey(version, key, M.MACGenerate | M.MACVerify, [], Enum.CryptographicAlgorithm.HMAC_SHA256), ops.activate()]);
        const uid = uidOf(okPayload(res, 0));
        const message = Buffer.from('01020304050607080910111213141516', 'hex');
        const expected = createHmac('sha256', key).update(message).digest();
        // The published TC-STREAM-MAC-1-14 MAC.
        expect(expected.toString('hex')).toBe('c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9');
        const macPieces = async (operation: number, first: Piece, last: Piece) => {
          const p1 = okPayload(await h.send(version, [piece(operation, { uid, data: message.subarray(0, 2), init: true, ...first })]));
          const correlation = field(p1, Tag.CorrelationValue)!;
          expect(child(p1, Tag.MACData)).toBeUndefined();
          const p2 = okPayload(await h.send(version, [piece(operation, { uid, data: message.subarray(2, 14), correlation })]));
          expect(field(p2, Tag.CorrelationValue)).toEqual(correlation);
          return okPayload(await h.send(version, [piece(operation, { uid, data: message.subarray(14), correlation, final: true, ...last })]));
        };
        const mac = await macPieces(OP.MAC, {}, {});
        expect(field(mac, Tag.MACData)).toEqual(expected);
        expect(child(mac, Tag.CorrelationValue)).toBeUndefined();
        const macData = (m: Buffer): TtlvNode => bytes(Tag.MACData, m);
        const verify = async (at: 'first' | 'last', m: Buffer) => {
          const p1 = okPayload(await h.send(version, [{ operation: OP.MACVerify, payload: [uidNode(uid), bytes(Tag.Data, message.subarray(0, 4)), ...(at === 'first' ? [macData(m)] : []), bool(Tag.InitIndicator, true)] }]));
          const correlation = field(p1, Tag.CorrelationValue)!;
          const p2 = okPayload(await h.send(version, [{ operation: OP.MACVerify, payload: [uidNode(uid), bytes(Tag.Data, message.subarray(4)), ...(at === 'last' ? [macData(m)] : []), bytes(Tag.CorrelationValue, correlation), bool(Tag.FinalIndicator, true)] }]));
          return child(p2, Tag.ValidityIndicator);
        };
        expect(await verify('first', expected)).toMatchObject({ value: Enum.ValidityIndicator.Valid });
        expect(await verify('last', expected)).toMatchObject({ value: Enum.ValidityIndicator.Valid });
        const wrong = Buffer.from(expected);
        wrong[31]! ^= 1;
        expect(await verify('first', wrong)).toMatchObject({ value: Enum.ValidityIndicator.Invalid });
      });

      it('a key revoked mid-stream stops the stream; key wrap and XTS modes cannot be streamed', async () => {
        const v2 = version.major >= 2;
        const uid = await activeKey(version, Buffer.alloc(16, 4));
        const first = okPayload(await h.send(version, [piece(OP.Encrypt, { uid, params: cbc, iv: Buffer.alloc(16), data: Buffer.alloc(5), init: true })]));
        okPayload(await h.send(version, [ops.revoke(uid, Enum.RevocationReasonCode.KeyCompromise, 1n)]));
        expectFailure(await h.send(version, [piece(OP.Encrypt, { correlation: field(first, Tag.CorrelationValue)!, data: Buffer.alloc(5), final: true })]), v2 ? 'WrongKeyLifecycleState' : 'PermissionDenied');
        const other = await activeKey(version, Buffer.alloc(16, 5));
        const kw = struct(Tag.CryptographicParameters, [enumeration(Tag.BlockCipherMode, BCM.NISTKeyWrap)]);
        expectFailure(await h.send(version, [piece(OP.Encrypt, { uid: other, params: kw, data: Buffer.alloc(16), init: true })]), 'FeatureNotSupported');
      });
    });
  }
});
