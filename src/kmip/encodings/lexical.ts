/**
 * Lexical forms of TTLV scalar values shared by the XML, JSON and text encodings
 * (KMIP Additional Message Encodings v1.0 §4.1.1 / §6.1.1 "Hex representations", §4.1.6 / §6.1.6
 * value forms: xsd:int, xsd:long, xsd:hexBinary, xsd:dateTime, xsd:unsignedInt).
 *
 * Parsers return undefined for text that is not in the form; callers turn that into an
 * EncodingError with the element path. Date-times are computed with bigint civil-calendar
 * arithmetic, so every signed 64-bit Date-Time value has a text form and JavaScript's Date range
 * (±273,790 years) never silently clips one.
 */

import { ItemType, type ItemTypeName, type TtlvNode } from '../../ttlv/types.js';

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** An item type name as the encodings write it in `type` (§6.1.4 / §4.1.4). */
export function isItemTypeName(text: string): text is ItemTypeName {
  return Object.hasOwn(ItemType, text);
}

// ---------------------------------------------------------------------------------------------
// Hex

/** Lower-case hex of a byte string, no prefix (§6.1.6.10: Byte Strings carry no 0x). */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of an even-length hex string (either case); undefined for anything else. */
export function hexToBytes(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** `0x` followed by `digits` lower-case hex digits of an unsigned value. */
export function hexFixed(value: number | bigint, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** Digits of a `0x…` string with at most `maxDigits` digits, or undefined. */
function hexDigits(text: string, maxDigits: number): string | undefined {
  const m = /^0[xX]([0-9a-fA-F]+)$/.exec(text);
  return m && m[1]!.length <= maxDigits ? m[1] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Integers

/** Integer (signed 32-bit): decimal (xsd:int) or 32-bit two's complement hex ("0xffffffff" = -1). */
export function parseInt32(text: string): number | undefined {
  if (/^[+-]?\d+$/.test(text)) {
    const n = Number(text);
    return n >= INT32_MIN && n <= INT32_MAX ? n | 0 : undefined; // | 0 also turns -0 into 0
  }
  const h = hexDigits(text, 8);
  return h === undefined ? undefined : Number.parseInt(h, 16) | 0;
}

/** Interval and Enumeration (unsigned 32-bit): decimal (xsd:unsignedInt) or hex. */
export function parseUint32(text: string, allowDecimal = true): number | undefined {
  if (allowDecimal && /^\+?\d+$/.test(text)) {
    const n = Number(text);
    return n <= UINT32_MAX ? n >>> 0 : undefined;
  }
  const h = hexDigits(text, 8);
  return h === undefined ? undefined : Number.parseInt(h, 16);
}

/** Long Integer (signed 64-bit): decimal (xsd:long) or 64-bit two's complement hex. */
export function parseInt64(text: string): bigint | undefined {
  if (/^[+-]?\d+$/.test(text)) {
    const n = BigInt(text);
    return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
  }
  const h = hexDigits(text, 16);
  return h === undefined ? undefined : BigInt.asIntN(64, BigInt(`0x${h}`));
}

/** Long Integer hex as the encodings define it: all 16 digits, two's complement. */
export function int64ToHex(value: bigint): string {
  return hexFixed(BigInt.asUintN(64, value), 16);
}

/**
 * Big Integer as sign-extended two's complement hex, padded to a multiple of 8 bytes
 * (§6.1.6.6 xsd:hexBinary; KMIP 1.4 §9.1.1.4 "Big Integer ... sign-extended ... multiple of 8").
 * No prefix; the JSON form adds `0x`.
 */
export function bigIntToHex(value: bigint): string {
  let bytes = 8;
  // Smallest multiple of 8 bytes whose two's complement range holds the value.
  while (value < -(1n << BigInt(bytes * 8 - 1)) || value >= 1n << BigInt(bytes * 8 - 1)) bytes += 8;
  return BigInt.asUintN(bytes * 8, value).toString(16).padStart(bytes * 2, '0');
}

/** Two's complement big-endian hex of any even length (the length gives the sign bit); "" is 0. */
export function hexToBigInt(text: string): bigint | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  if (text === '') return 0n;
  return BigInt.asIntN(text.length * 4, BigInt(`0x${text}`));
}

/** xsd:boolean, plus the 64-bit hex form of §4.1.6.8. */
export function parseBoolean(text: string): boolean | undefined {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  const m = /^0x([0-9a-fA-F]{1,16})$/.exec(text);
  if (!m) return undefined;
  const v = BigInt(`0x${m[1]}`);
  return v === 0n ? false : v === 1n ? true : undefined;
}

// ---------------------------------------------------------------------------------------------
// Date-Time (xsd:dateTime; §4.1.6.11: '-'? yyyy '-' mm '-' dd 'T' hh ':' mm ':' ss ('.' s+)? (zone)?)

const DAY = 86_400n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n) && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering). */
function daysFromCivil(year: bigint, month: bigint, day: bigint): bigint {
  const y = month <= 2n ? year - 1n : year;
  const era = floorDiv(y, 400n);
  const yoe = y - era * 400n;
  const mp = month > 2n ? month - 3n : month + 9n;
  const doy = (153n * mp + 2n) / 5n + day - 1n;
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146_097n + doe - 719_468n;
}

function civilFromDays(days: bigint): [year: bigint, month: bigint, day: bigint] {
  const z = days + 719_468n;
  const era = floorDiv(z, 146_097n);
  const doe = z - era * 146_097n;
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  return [yoe + era * 400n + (month <= 2n ? 1n : 0n), month, day];
}

const two = (n: bigint): string => n.toString().padStart(2, '0');

function formatSeconds(seconds: bigint, fraction: string): string {
  const days = floorDiv(seconds, DAY);
  const secs = seconds - days * DAY;
  const [y, mo, d] = civilFromDays(days);
  const year = y < 0n ? `-${(-y).toString().padStart(4, '0')}` : y.toString().padStart(4, '0');
  return `${year}-${two(mo)}-${two(d)}T${two(secs / 3600n)}:${two((secs / 60n) % 60n)}:${two(secs % 60n)}${fraction}+00:00`;
}

/** Date-Time (seconds since the epoch) as xsd:dateTime in UTC, written "+00:00" like the OASIS vectors. */
export function formatDateTime(seconds: bigint): string {
  return formatSeconds(seconds, '');
}

/**
 * Date-Time Extended (microseconds, KMIP 2.0 §9.1.1.4) as xsd:dateTime with six fraction digits.
 * The v1.0 message-encodings document predates this type; xsd:dateTime with a fraction is its
 * natural form and keeps every microsecond.
 */
export function formatDateTimeExtended(micros: bigint): string {
  const seconds = floorDiv(micros, 1_000_000n);
  return formatSeconds(seconds, `.${(micros - seconds * 1_000_000n).toString().padStart(6, '0')}`);
}

const ISO = /^(-?)(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses xsd:dateTime into microseconds since the epoch. A missing zone is read as UTC (KMIP
 * times are UTC). Fraction digits beyond microseconds are truncated, as §4.1.6.11 asks.
 */
export function parseIsoMicros(text: string): bigint | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, sign, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  const year = BigInt(`${sign}${ys}`);
  const month = BigInt(mos!);
  const day = BigInt(ds!);
  const hour = BigInt(hs!);
  const minute = BigInt(mis!);
  const second = BigInt(ss!);
  if (month < 1n || month > 12n || hour > 23n || minute > 59n || second > 59n) return undefined;
  const monthDays = daysFromCivil(month === 12n ? year + 1n : year, month === 12n ? 1n : month + 1n, 1n) - daysFromCivil(year, month, 1n);
  if (day < 1n || day > monthDays) return undefined;
  let offset = 0n;
  if (zone !== undefined && zone !== 'Z') {
    const zh = BigInt(zone.slice(1, 3));
    const zm = BigInt(zone.slice(4, 6));
    if (zh > 14n || zm > 59n) return undefined;
    offset = (zh * 3600n + zm * 60n) * (zone[0] === '-' ? -1n : 1n);
  }
  const seconds = daysFromCivil(year, month, day) * DAY + hour * 3600n + minute * 60n + second - offset;
  const micros = frac === undefined ? 0n : BigInt(frac.slice(0, 6).padEnd(6, '0'));
  return seconds * 1_000_000n + micros;
}

/** Date-Time: xsd:dateTime (fraction truncated) or 64-bit hex; undefined outside signed 64-bit. */
export function parseDateTime(text: string): bigint | undefined {
  const micros = parseIsoMicros(text);
  const value = micros === undefined ? parseHex64(text) : floorDiv(micros, 1_000_000n);
  return value !== undefined && value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
}

/** Date-Time Extended: xsd:dateTime (to the microsecond) or 64-bit hex. */
export function parseDateTimeExtended(text: string): bigint | undefined {
  const value = parseIsoMicros(text) ?? parseHex64(text);
  return value !== undefined && value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
}

function parseHex64(text: string): bigint | undefined {
  const h = hexDigits(text, 16);
  return h === undefined ? undefined : BigInt.asIntN(64, BigInt(`0x${h}`));
}

/**
 * The plain XML `value` text of a leaf: numbers in decimal, Enumerations as 0x-hex, everything
 * else in its lexical form above. The XML writer uses it where no symbolic name applies; read back
 * by the XML reader, it gives exactly this value.
 */
export function plainLeafText(node: Exclude<TtlvNode, { type: 'Structure' }>): string {
  switch (node.type) {
    case 'Integer':
    case 'Interval':
      return String(node.value);
    case 'LongInteger':
      return node.value.toString();
    case 'BigInteger':
      return bigIntToHex(node.value);
    case 'Enumeration':
      return hexFixed(node.value >>> 0, 8);
    case 'Boolean':
      return node.value ? 'true' : 'false';
    case 'TextString':
      return node.value;
    case 'ByteString':
      return bytesToHex(node.value);
    case 'DateTime':
      return formatDateTime(node.value);
    case 'DateTimeExtended':
      return formatDateTimeExtended(node.value);
  }
}
