/**
 * Connection admission (the "how many" limits of the listener): a global cap and a cap per
 * remote address, checked on the raw TCP socket before any TLS work is spent on it, so a flood of
 * connections costs an accept and a close rather than an RSA operation each.
 *
 * Time limits (handshake, idle, per-message read) and back-pressure live where the state they
 * watch lives: the listener and session modules.
 */
import { isIPv4 } from 'node:net';

export type AdmissionRefusal = 'max_connections' | 'max_per_address' | 'draining';

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/**
 * A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`; count them under the plain IPv4
 * address so one host has one budget whichever way it connected.
 */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  return address.toLowerCase();
}

export class ConnectionAdmission {
  readonly #limits: AdmissionLimits;
  readonly #perAddress = new Map<string, number>();
  #open = 0;
  #closed = false;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  get open(): number {
    return this.#open;
  }

  countFor(address: string): number {
    return this.#perAddress.get(normalizeAddress(address)) ?? 0;
  }

  /** After this every admission is refused: the listener is draining. */
  closeAdmission(): void {
    this.#closed = true;
  }

  /** Takes a slot for `address`, or says why not. Every admitted slot must be released once. */
  tryAdmit(address: string): AdmissionRefusal | null {
    if (this.#closed) return 'draining';
    if (this.#open >= this.#limits.maxConnections) return 'max_connections';
    const key = normalizeAddress(address);
    const n = this.#perAddress.get(key) ?? 0;
    if (n >= this.#limits.maxConnectionsPerAddress) return 'max_per_address';
    this.#perAddress.set(key, n + 1);
    this.#open++;
    return null;
  }

  release(address: string): void {
    const key = normalizeAddress(address);
    const n = this.#perAddress.get(key) ?? 0;
    // Deleting at zero keeps the map as large as the set of connected hosts, not of all hosts ever seen.
    if (n <= 1) this.#perAddress.delete(key);
    else this.#perAddress.set(key, n - 1);
    if (n > 0) this.#open--;
  }
}
