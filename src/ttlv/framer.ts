/**
 * Splits a byte stream into whole TTLV messages (KMIP 1.4 §9.1.1: every item starts with an
 * 8-byte tag/type/length header). A connection carries messages back to back, each one
 * top-level item, with no other framing (§10 leaves the transport to the profiles).
 *
 * Only the header is read here; the message itself is checked later by decodeTtlv. A message
 * is header + value + padding to 8, which for a well-formed Structure equals header + length.
 * The size limit is enforced from the header alone, so an oversized message is refused
 * before a single byte of its body is buffered. After a failure the stream is out of sync
 * for good, so the framer keeps throwing the same error.
 */
import { readHeader, encodedItemLength } from './decode.js';
import { TtlvError } from './errors.js';
import { HEADER_LENGTH, ItemType } from './types.js';

export interface TtlvFramerOptions {
  /** Largest accepted message in bytes, header included. */
  maxMessageSize: number;
  /** Reject a top-level item that is not a Structure (KMIP messages always are). */
  requireStructure?: boolean;
}

/** Dropping consumed chunks from the front of the queue only every so often keeps it O(1) amortised. */
const COMPACT_AFTER = 64;

export class TtlvFramer {
  readonly #maxMessageSize: number;
  readonly #requireStructure: boolean;
  /** Chunks not yet fully consumed; those before #head are spent. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Bytes of #chunks[#head] already consumed. */
  #headOffset = 0;
  #buffered = 0;
  /** Stream offset of the first buffered byte, for error offsets. */
  #streamOffset = 0;
  /** Size of the message whose header has been read, or -1 while waiting for a header. */
  #pending = -1;
  #failure: TtlvError | undefined;
  readonly #scratch = new Uint8Array(HEADER_LENGTH);

  constructor(options: TtlvFramerOptions) {
    this.#maxMessageSize = options.maxMessageSize;
    this.#requireStructure = options.requireStructure ?? false;
  }

  /** Bytes received but not yet returned as part of a message. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Adds a chunk and returns every message it completes, in order; each message is a fresh
   * copy. Unconsumed bytes of `chunk` are kept by reference (no copy per chunk), so the caller
   * must not modify a chunk after pushing it; socket chunks never are. Throws TooLarge / UnexpectedType with the
   * stream offset of the message concerned; messages completed earlier in the same call are
   * then dropped with the connection.
   */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#failure) throw this.#failure;
    const messages: Buffer[] = [];
    if (chunk.length === 0) return messages;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;

    for (;;) {
      if (this.#pending < 0) {
        if (this.#buffered < HEADER_LENGTH) break;
        this.#pending = this.#readMessageSize();
      }
      if (this.#buffered < this.#pending) break;
      messages.push(this.#take(this.#pending));
      this.#pending = -1;
    }
    return messages;
  }

  #fail(error: TtlvError): never {
    this.#failure = error;
    this.#chunks = [];
    this.#head = 0;
    this.#headOffset = 0;
    this.#buffered = 0;
    throw error;
  }

  #readMessageSize(): number {
    const first = this.#chunks[this.#head]!;
    const header =
      first.length - this.#headOffset >= HEADER_LENGTH
        ? readHeader(first, this.#headOffset)
        : readHeader(this.#copyPrefix(this.#scratch), 0);
    if (this.#requireStructure && header.typeCode !== ItemType.Structure) {
      this.#fail(new TtlvError('UnexpectedType', this.#streamOffset, `top-level type byte 0x${header.typeCode.toString(16).padStart(2, '0')}`));
    }
    const size = encodedItemLength(header.length);
    if (size > this.#maxMessageSize) {
      this.#fail(new TtlvError('TooLarge', this.#streamOffset, `declares ${size} bytes, limit ${this.#maxMessageSize}`));
    }
    return size;
  }

  /** Copies the first `into.length` buffered bytes without consuming them. */
  #copyPrefix(into: Uint8Array): Uint8Array {
    let filled = 0;
    let offset = this.#headOffset;
    for (let i = this.#head; filled < into.length; i++) {
      const c = this.#chunks[i]!;
      const n = Math.min(c.length - offset, into.length - filled);
      into.set(c.subarray(offset, offset + n), filled);
      filled += n;
      offset = 0;
    }
    return into;
  }

  /** Removes `size` buffered bytes (all present) and returns them as one Buffer. */
  #take(size: number): Buffer {
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const c = this.#chunks[this.#head]!;
      const n = Math.min(c.length - this.#headOffset, size - filled);
      out.set(c.subarray(this.#headOffset, this.#headOffset + n), filled);
      filled += n;
      this.#headOffset += n;
      if (this.#headOffset === c.length) {
        this.#head++;
        this.#headOffset = 0;
      }
    }
    this.#buffered -= size;
    this.#streamOffset += size;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
}
