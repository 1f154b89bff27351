// Cross-check of the wrap path against node's independent RFC 5649 implementation
// (id-aes256-wrap-pad). The production KEK cannot be extracted, so the same code path
// (wrapToEnvelope / unwrapEnvelope / readKeyValue) runs here under an extractable test KEK whose
// bytes the test knows.
//
// Measured behaviour of SoftHSM 2.6.1: for lengths that are a multiple of 8 its output is
// byte-identical to RFC 5649; for other lengths it zero-pads the key to a multiple of 8 *before*
// wrapping, so the Message Length Indicator is the padded length. The envelope's own length field
// makes both behaviours (and a conforming one) reveal the exact plaintext.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, roundUp8 } from '../../../src/hsm/envelope.js';
import {
  Pkcs11Calls,
  importTemplate,
  readKeyValue,
  readableSessionKeyTemplate,
  unwrapEnvelope,
  wrapToEnvelope,
} from '../../../src/hsm/key-ops.js';
import { type Handle, ck } from '../../../src/hsm/pkcs11-library.js';
import { type RawSession, type TestToken, describeHsm, makeTestToken, openRawSession } from '../../support/softhsm.js';

// RFC 5649 §3: the alternative initial value's constant half; node takes it as the IV.
const AIV = Buffer.from('a65959a6', 'hex');

function nodeWrap(kek: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('id-aes256-wrap-pad', kek, AIV);
  return Buffer.concat([c.update(data), c.final()]);
}

function nodeUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', kek, AIV);
  return Buffer.concat([d.update(wrapped), d.final()]);
}

function zeroPad8(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc(roundUp8(b.length) - b.length)]);
}

describeHsm('RFC 5649 wrap path cross-checked with node', () => {
  let token: TestToken;
  let raw: RawSession;
  let calls: Pkcs11Calls;
  let kekBytes: Buffer;
  let kek: Handle;

  beforeAll(async () => {
    token = await makeTestToken();
    raw = openRawSession(token);
    calls = new Pkcs11Calls(raw.module, false);
    kekBytes = randomBytes(32);
    kek = raw.p11.C_CreateObject(raw.session, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_TOKEN, value: false },
      { type: ck.CKA_WRAP, value: true },
      { type: ck.CKA_UNWRAP, value: true },
      { type: ck.CKA_VALUE, value: kekBytes },
    ]);
  });

  afterAll(async () => {
    raw?.close();
    await token?.cleanup();
  });

  for (const size of [1, 7, 8, 9, 15, 16, 24, 32, 100, 4096]) {
    it(`${size} bytes: HSM wrap equals node RFC 5649 and both sides unwrap each other`, async () => {
      const plaintext = randomBytes(size);
      const key = raw.p11.C_CreateObject(raw.session, importTemplate(plaintext));
      const envelope = await wrapToEnvelope(calls, raw.session, kek, key, size);
      raw.p11.C_DestroyObject(raw.session, key);
      const { plaintextLength, wrappedKey } = decodeEnvelope(envelope);
      expect(plaintextLength).toBe(size);

      const exact = nodeWrap(kekBytes, plaintext);
      const padded = nodeWrap(kekBytes, zeroPad8(plaintext));
      if (size % 8 === 0) {
        expect(wrappedKey.equals(exact)).toBe(true);
      } else {
        // Either conforming RFC 5649 or SoftHSM 2.6.1's zero-pad-first variant; nothing else.
        expect(wrappedKey.equals(exact) || wrappedKey.equals(padded)).toBe(true);
      }
      const byNode = nodeUnwrap(kekBytes, wrappedKey);
      expect(byNode.equals(plaintext) || byNode.equals(zeroPad8(plaintext))).toBe(true);

      // Our unwrap path reads back the exact plaintext from our own wrap ...
      const own = await unwrapEnvelope(calls, raw.session, kek, envelope, readableSessionKeyTemplate());
      expect(readKeyValue(calls, raw.session, own.handle, own.plaintextLength).equals(plaintext)).toBe(true);
      raw.p11.C_DestroyObject(raw.session, own.handle);
      // ... and from a conforming implementation's wrap (material migrated from elsewhere).
      const foreign = await unwrapEnvelope(
        calls,
        raw.session,
        kek,
        encodeEnvelope(size, exact),
        readableSessionKeyTemplate(),
      );
      expect(readKeyValue(calls, raw.session, foreign.handle, foreign.plaintextLength).equals(plaintext)).toBe(true);
      raw.p11.C_DestroyObject(raw.session, foreign.handle);
    });
  }

  it('a blob that fails the RFC 5649 integrity check is an IntegrityFailure', async () => {
    const wrapped = nodeWrap(kekBytes, randomBytes(32));
    wrapped[5]! ^= 0x10;
    await expect(
      unwrapEnvelope(calls, raw.session, kek, encodeEnvelope(32, wrapped), readableSessionKeyTemplate()),
    ).rejects.toMatchObject({ code: 'IntegrityFailure', ckr: 'CKR_GENERAL_ERROR' });
  });
});
