// The reveal cache: unwrapped keys kept as session objects inside the HSM after a verified
// reveal, so that revealing the same stored row again costs one C_GetAttributeValue instead of
// C_Verify + C_UnwrapKey + C_GetAttributeValue + C_DestroyObject (measured in
// src/bench/hsm-reveal.ts). This module is the bookkeeping only (no PKCS#11): the protector
// creates, reads and destroys the objects.
//
// A hit must be equivalent to a verified reveal, so an entry remembers every input of the MAC
// check it passed (binding uid, objectType and extra, kekVersion, the envelope) and the MAC
// itself, and a lookup compares them all byte for byte: a row with any byte changed misses and
// goes through the HSM's MAC check as before. Entries are bounded in number (least recently
// used first out) and in age (time since their MAC was verified; a hit does not extend it).
// Evicted, expired and forgotten objects are queued for C_DestroyObject by the protector.
// Nothing here holds plaintext: only object handles and the (non-secret) stored bytes.

import { timingSafeEqual } from 'node:crypto';
import type { EnvelopeFormat } from './envelope.js';
import type { Binding, ProtectedMaterial } from './key-protector.js';
import type { Handle } from './pkcs11-library.js';

export interface CachedKey {
  /** Session object holding the unwrapped (padded) value; readable, usable for nothing else. */
  readonly handle: Handle;
  /** Pool epoch the object was created in: after a re-initialisation its handle means nothing. */
  readonly epoch: number;
  readonly plaintextLength: number;
  readonly format: EnvelopeFormat;
}

interface Entry extends CachedKey {
  readonly objectType: number;
  readonly extra: string | undefined;
  readonly kekVersion: number;
  readonly wrapped: Buffer;
  readonly mac: Buffer;
  readonly expiresAt: number;
}

export interface RevealCacheStats {
  /** Configured bound; 0 means the cache is off. */
  maxEntries: number;
  ttlMs: number;
  entries: number;
  hits: number;
  misses: number;
  /** Entries dropped for the bound, their age, forget(), a KEK destruction or a replacement. */
  evictions: number;
}

export class RevealCache {
  /** By uid: one stored row per object. Map order is the LRU order (oldest use first). */
  private readonly entries = new Map<string, Entry>();
  /** Handles no longer in the map whose objects still have to be destroyed. */
  private doomed: { handle: Handle; epoch: number }[] = [];
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.maxEntries > 0 && this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached key for exactly these bytes, or undefined (counted as a miss). */
  lookup(pm: ProtectedMaterial, binding: Binding, epoch: number): CachedKey | undefined {
    if (!this.enabled) return undefined;
    const e = this.entries.get(binding.uid);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (e.epoch !== epoch || e.expiresAt <= this.now()) {
      this.evict(binding.uid, e);
      this.misses++;
      return undefined;
    }
    if (!sameInputs(e, pm, binding)) {
      // Another row under this uid (or a tampered one): the HSM decides; the entry stays until
      // a verified reveal replaces it.
      this.misses++;
      return undefined;
    }
    this.entries.delete(binding.uid);
    this.entries.set(binding.uid, e);
    this.hits++;
    return e;
  }

  /**
   * Records a key that has just passed the MAC check for `pm` and `binding`. Returns false when
   * the cache is off; the caller then destroys the object itself.
   */
  insert(pm: ProtectedMaterial, binding: Binding, key: CachedKey): boolean {
    if (!this.enabled) return false;
    const old = this.entries.get(binding.uid);
    if (old !== undefined) this.evict(binding.uid, old);
    this.entries.set(binding.uid, {
      ...key,
      objectType: binding.objectType,
      extra: binding.extra,
      kekVersion: pm.kekVersion,
      wrapped: Buffer.from(pm.wrapped),
      mac: Buffer.from(pm.mac),
      expiresAt: this.now() + this.ttlMs,
    });
    while (this.entries.size > this.maxEntries) {
      const [uid, oldest] = this.entries.entries().next().value as [string, Entry];
      this.evict(uid, oldest);
    }
    return true;
  }

  /** Drops a hit that turned out unusable (its object is gone): it is not destroyed again. */
  discard(uid: string, key: CachedKey): void {
    const e = this.entries.get(uid);
    if (e !== undefined && e.handle.equals(key.handle) && e.epoch === key.epoch) this.entries.delete(uid);
  }

  /** Drops the entry of `uid`; true if there was one. */
  forget(uid: string): boolean {
    const e = this.entries.get(uid);
    if (e === undefined) return false;
    this.evict(uid, e);
    return true;
  }

  /** Drops every entry wrapped under KEK `version` (that KEK is being destroyed). */
  forgetKekVersion(version: number): number {
    let n = 0;
    for (const [uid, e] of this.entries) {
      if (e.kekVersion !== version) continue;
      this.evict(uid, e);
      n++;
    }
    return n;
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [uid, e] of this.entries) {
      if (e.expiresAt > now) continue;
      this.evict(uid, e);
      n++;
    }
    return n;
  }

  /**
   * Forgets everything without destroying anything: for a pool that is being dropped, whose
   * session objects die with their sessions and whose handle numbers the module will reuse.
   */
  clear(): void {
    this.entries.clear();
    this.doomed = [];
  }

  /** Handles to destroy, of epoch `epoch` only (older ones are already gone with their sessions). */
  takeDoomed(epoch: number): Handle[] {
    const out = this.doomed.filter((d) => d.epoch === epoch).map((d) => d.handle);
    this.doomed = [];
    return out;
  }

  get pendingDestroys(): number {
    return this.doomed.length;
  }

  stats(): RevealCacheStats {
    return {
      maxEntries: this.maxEntries,
      ttlMs: this.ttlMs,
      entries: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  private evict(uid: string, e: Entry): void {
    this.entries.delete(uid);
    this.doomed.push({ handle: e.handle, epoch: e.epoch });
    this.evictions++;
  }
}

function sameInputs(e: Entry, pm: ProtectedMaterial, binding: Binding): boolean {
  return (
    e.objectType === binding.objectType &&
    e.extra === binding.extra &&
    e.kekVersion === pm.kekVersion &&
    e.wrapped.equals(pm.wrapped) &&
    e.mac.length === pm.mac.length &&
    timingSafeEqual(e.mac, pm.mac)
  );
}
