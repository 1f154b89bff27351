/**
 * Unique Identifiers (KMIP 1.4 §3.1, 2.1 §4.58: assigned by the server, SHOULD be globally unique).
 *
 * UUIDv7 layout (RFC 9562 §5.7): 48-bit Unix milliseconds, then 74 random bits from the CSPRNG
 * (12 in rand_a, 62 in rand_b). Unguessable, so an identifier leaks no other tenant's objects,
 * and time-ordered, so B-tree inserts append instead of splitting random pages (STACK.md:
 * ~47k vs ~30k rows/s).
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 256;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7 string for time `nowMs` (default: the system clock). */
export function newUid(nowMs: number = Date.now()): string {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  const ms = Math.max(0, Math.floor(nowMs));
  const hi = Math.floor(ms / 0x1000000) % 0x1000000; // top 24 of 48 bits
  const lo = ms % 0x1000000;
  const h = (n: number) => HEX[n & 0xff] as string;
  const rb = (i: number) => pool[r + i] as number;
  return (
    h(hi >> 16) + h(hi >> 8) + h(hi) + h(lo >> 16) + '-' +
    h(lo >> 8) + h(lo) + '-' +
    h(0x70 | (rb(0) & 0x0f)) + h(rb(1)) + '-' +
    h(0x80 | (rb(2) & 0x3f)) + h(rb(3)) + '-' +
    h(rb(4)) + h(rb(5)) + h(rb(6)) + h(rb(7)) + h(rb(8)) + h(rb(9))
  );
}

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** True for identifiers newUid() can produce. */
export function isUid(s: string): boolean {
  return UUID7.test(s);
}

/** The creation time (ms) encoded in a UUIDv7. */
export function uidTime(uid: string): number {
  return Number.parseInt(uid.slice(0, 8) + uid.slice(9, 13), 16);
}
