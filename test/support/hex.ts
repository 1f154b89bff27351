/**
 * Hand-written hex for codec tests: spaces, `|` separators and newlines are ignored, so
 * expected bytes can be laid out as tag | type | length | value, the way the KMIP spec prints them.
 */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/[\s|]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`not an even-length hex string: ${text}`);
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

/** Upper-case hex of bytes, for readable assertion failures. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}
