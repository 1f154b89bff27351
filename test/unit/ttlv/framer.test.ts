// Framing a byte stream into whole TTLV messages by their 8-byte headers (KMIP 1.4 §9.1.1).
import { describe, expect, it } from 'vitest';
import { TtlvError, TtlvFramer } from '../../../src/ttlv/index.js';
import { hex, toHex } from '../../support/hex.js';

// Three hand-written messages of different sizes.
const A = hex('420078 01 00000010 42006A 02 00000004 00000001 00000000'); // 24 bytes
const B = hex('42007B 01 00000000'); // 8 bytes
const C = hex('420078 01 00000018 420094 07 0000000B 48656C6C6F20576F726C64 0000000000'); // 32 bytes

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function hexes(messages: Uint8Array[]): string[] {
  return messages.map(toHex);
}

function errorOf(fn: () => unknown): TtlvError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TtlvError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('TtlvFramer', () => {
  it('returns a whole message pushed in one chunk, as a Buffer of exactly its bytes', () => {
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    const out = framer.push(A);
    expect(out).toHaveLength(1);
    expect(Buffer.isBuffer(out[0])).toBe(true);
    expect(toHex(out[0]!)).toBe(toHex(A));
    expect(framer.bufferedBytes).toBe(0);
  });

  it('returns every message of a chunk holding several, and keeps the partial rest', () => {
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    const stream = concat(A, B, C);
    expect(hexes(framer.push(stream.subarray(0, 40)))).toEqual(hexes([A, B]));
    expect(framer.bufferedBytes).toBe(8);
    expect(hexes(framer.push(stream.subarray(40)))).toEqual(hexes([C]));
    expect(framer.bufferedBytes).toBe(0);
  });

  it('handles a header split across chunks', () => {
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    expect(framer.push(A.subarray(0, 3))).toEqual([]);
    expect(framer.push(A.subarray(3, 5))).toEqual([]);
    expect(framer.bufferedBytes).toBe(5);
    expect(framer.push(A.subarray(5, 9))).toEqual([]);
    expect(hexes(framer.push(A.subarray(9)))).toEqual(hexes([A]));
  });

  it('yields the same messages for every split point of a three-message stream', () => {
    const stream = concat(A, B, C);
    for (let cut = 0; cut <= stream.length; cut++) {
      const framer = new TtlvFramer({ maxMessageSize: 1024 });
      const out = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      expect(hexes(out), `split at ${cut}`).toEqual(hexes([A, B, C]));
    }
  });

  it('yields the same messages when fed one byte at a time', () => {
    const stream = concat(A, B, C);
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...framer.push(stream.subarray(i, i + 1)));
    expect(hexes(out)).toEqual(hexes([A, B, C]));
  });

  it('ignores empty chunks', () => {
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    expect(framer.push(new Uint8Array(0))).toEqual([]);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('returns copies: changing a chunk later does not change a returned message', () => {
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    const chunk = Uint8Array.from(A);
    const [message] = framer.push(chunk);
    chunk.fill(0xee);
    expect(toHex(message!)).toBe(toHex(A));
  });

  it('frames a non-Structure top-level item including its padding', () => {
    const framer = new TtlvFramer({ maxMessageSize: 1024 });
    const text = hex('420020 07 00000003 616263 0000000000'); // 16 bytes on the wire, length 3
    expect(hexes(framer.push(concat(text, B)))).toEqual(hexes([text, B]));
  });

  it('stays linear for a large message arriving in many tiny chunks', () => {
    const size = 200_000;
    const message = new Uint8Array(size);
    message.set(hex('420078 01'), 0);
    new DataView(message.buffer).setUint32(4, size - 8);
    const framer = new TtlvFramer({ maxMessageSize: size });
    const out: Buffer[] = [];
    for (let i = 0; i < size; i += 3) out.push(...framer.push(message.subarray(i, Math.min(i + 3, size))));
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(message)).toBe(true);
  });

  describe('TooLarge', () => {
    it('accepts a message of exactly maxMessageSize', () => {
      expect(new TtlvFramer({ maxMessageSize: 24 }).push(A)).toHaveLength(1);
    });

    it('throws as soon as the header declares too much, with the message\'s stream offset', () => {
      const framer = new TtlvFramer({ maxMessageSize: 24 });
      expect(framer.push(concat(A, B))).toHaveLength(2);
      const err = errorOf(() => framer.push(hex('420078 01 00000018'))); // header only: 8 + 24 > 24
      expect({ code: err.code, offset: err.offset }).toEqual({ code: 'TooLarge', offset: 32 });
      expect(framer.bufferedBytes).toBe(0);
    });

    it('throws on the chunk that completes a split header, before any body byte', () => {
      const framer = new TtlvFramer({ maxMessageSize: 64 });
      expect(framer.push(concat(A, hex('420078 01 00')))).toHaveLength(1);
      const err = errorOf(() => framer.push(hex('00 10 00')));
      expect({ code: err.code, offset: err.offset }).toEqual({ code: 'TooLarge', offset: 24 });
    });

    it('treats a declared length near 2^32 as too large, not as a wrapped small number', () => {
      const framer = new TtlvFramer({ maxMessageSize: 1024 });
      expect(errorOf(() => framer.push(hex('420078 01 FFFFFFF9'))).code).toBe('TooLarge');
    });

    it('keeps throwing afterwards: the stream is out of sync', () => {
      const framer = new TtlvFramer({ maxMessageSize: 16 });
      const first = errorOf(() => framer.push(hex('420078 01 00000100')));
      expect(errorOf(() => framer.push(B))).toBe(first);
      expect(errorOf(() => framer.push(new Uint8Array(0)))).toBe(first);
    });
  });

  describe('requireStructure', () => {
    it('rejects a top-level type other than Structure at the message offset', () => {
      const framer = new TtlvFramer({ maxMessageSize: 1024, requireStructure: true });
      expect(framer.push(B)).toHaveLength(1);
      const err = errorOf(() => framer.push(hex('420020 02 00000004 00000008 00000000')));
      expect({ code: err.code, offset: err.offset }).toEqual({ code: 'UnexpectedType', offset: 8 });
      expect(errorOf(() => framer.push(A))).toBe(err);
    });

    it('is off by default', () => {
      const framer = new TtlvFramer({ maxMessageSize: 1024 });
      expect(framer.push(hex('420020 02 00000004 00000008 00000000'))).toHaveLength(1);
    });
  });
});
