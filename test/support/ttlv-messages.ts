// Hand-built TTLV messages for transport tests (KMIP 1.4 §9.1.1): the transport never looks inside
// a message, so a Structure holding one Byte String of chosen size is all it needs. Built byte by
// byte here, not with src/ttlv/encode, so the tests do not depend on the encoder.

/** Request Message tag (0x420078) and an arbitrary Byte String tag (Nonce Value, 0x4200C8). */
const REQUEST_MESSAGE_TAG = 0x420078;
const BYTE_STRING_TAG = 0x4200c8;

function header(tag: number, type: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUIntBE(tag, 0, 3);
  h.writeUInt8(type, 3);
  h.writeUInt32BE(length, 4);
  return h;
}

/** A Structure containing one Byte String of `payloadBytes` bytes, filled with `fill`. */
export function testMessage(payloadBytes: number, fill = 0x41): Buffer {
  const padded = (payloadBytes + 7) & ~7;
  const child = Buffer.concat([header(BYTE_STRING_TAG, 0x08, payloadBytes), Buffer.alloc(padded, 0)]);
  child.fill(fill, 8, 8 + payloadBytes);
  return Buffer.concat([header(REQUEST_MESSAGE_TAG, 0x01, child.length), child]);
}

/** A message whose payload encodes a sequence number, to check ordering of answers. */
export function numberedMessage(n: number): Buffer {
  const m = testMessage(8);
  m.writeUInt32BE(n, 16);
  return m;
}

export function numberOf(message: Buffer): number {
  return message.readUInt32BE(16);
}

/** Only the 8-byte header of a Structure that declares `length` value bytes. */
export function structureHeader(length: number): Buffer {
  return header(REQUEST_MESSAGE_TAG, 0x01, length);
}
