// The narrow interface through which the rest of kmipd reaches key material (STYLE.md: `ops/`
// sees crypto only through `hsm/`). Plaintext keys exist only transiently: they are generated
// or imported inside the HSM, wrapped under a key-encryption key (KEK) that never leaves it, and
// bound to the object they belong to by a MAC computed inside the HSM, so a stored row cannot be
// swapped for another or re-labelled without reveal() refusing it.
// The PKCS#11 implementation is pkcs11-protector.ts; a fake for unit tests lives in test/.

/** What a protected blob belongs to. Every field is covered by the MAC. */
export interface Binding {
  /** The KMIP Unique Identifier of the managed object. */
  uid: string;
  /** The KMIP Object Type enumeration value (e.g. 0x00000002 Symmetric Key). */
  objectType: number;
  /** Anything else the caller wants bound (e.g. a tenant id); absent and '' differ. */
  extra?: string;
}

/**
 * Key material as it is stored. `wrapped` is an opaque, versioned envelope (see envelope.ts);
 * callers persist the three fields as they are and hand them back unchanged.
 */
export interface ProtectedMaterial {
  wrapped: Buffer;
  /** HMAC-SHA256, computed inside the HSM, over the envelope, the binding and kekVersion. */
  mac: Buffer;
  kekVersion: number;
}

/** Material generated inside the HSM: wrapped and bound, with a digest of its value taken there. */
export interface GeneratedMaterial extends ProtectedMaterial {
  /**
   * SHA-256 of the key value, computed inside the HSM (C_DigestKey), for the Digest attribute
   * (KMIP 1.4 §3.17 over Raw key bytes) without revealing the key; undefined if the module cannot
   * digest a key.
   */
  sha256: Buffer | undefined;
}

export type KeySpec = { kind: 'aes'; bits: 128 | 192 | 256 } | { kind: 'generic'; bytes: number };

/** Asymmetric key pairs generated inside the HSM (Create Key Pair, ReKey Key Pair). */
export type KeyPairSpec = { kind: 'rsa'; bits: 2048 | 3072 | 4096 } | { kind: 'ec'; curve: EcCurve };
/** Named curves, by their JWK names (RFC 7518 §6.2.1.1; secp256k1: RFC 8812 §3.1). */
export type EcCurve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';

export interface GeneratedKeyPair {
  /** The private key as a PKCS#8 PrivateKeyInfo (RFC 5208), wrapped and bound like other material. */
  privateKey: ProtectedMaterial;
  /** The public key as a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): not secret. */
  publicKey: Buffer;
}

export interface HealthReport {
  ok: boolean;
  detail?: string;
}

export interface KeyProtector {
  /** Generates key material inside the HSM and returns it wrapped under the current KEK. */
  generate(spec: KeySpec, binding: Binding): Promise<GeneratedMaterial>;
  /**
   * Generates a key pair inside the HSM: the private key leaves it only wrapped under the current
   * KEK and bound to `privateBinding`; the public key is returned in the clear.
   */
  generateKeyPair(spec: KeyPairSpec, privateBinding: Binding): Promise<GeneratedKeyPair>;
  /**
   * ECDSA over a digest the client computed (KMIP Digested Data), inside the HSM (CKM_ECDSA):
   * node's signer always hashes its input. `privateScalar` is the key's d, big-endian, from a
   * revealed key (the caller zeroes it); the result is r || s, each as long as the field.
   */
  signEcdsaDigest(curve: EcCurve, privateScalar: Uint8Array, digest: Uint8Array): Promise<Buffer>;
  /** Verifies r || s over a digest with the uncompressed public point (04 || X || Y). */
  verifyEcdsaDigest(curve: EcCurve, publicPoint: Uint8Array, digest: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Imports caller-supplied material (BYOK, Register); any length from 1 byte up to the limit. */
  protect(plaintext: Uint8Array, binding: Binding): Promise<ProtectedMaterial>;
  /**
   * Verifies the MAC against `binding`, then unwraps. Throws HsmError IntegrityFailure if the
   * blob was tampered with or belongs to another object. The caller zeroes the result after use.
   */
  reveal(pm: ProtectedMaterial, binding: Binding): Promise<Buffer>;
  /**
   * Tells the protector that the material of object `uid` is being removed or replaced (Destroy,
   * re-wrapping): anything it keeps for faster reveals of that object is dropped now rather than
   * when it expires. Never fails; a later reveal of a still-stored row works as before.
   */
  forget(uid: string): void;
  /** Re-wraps under another KEK version without the plaintext entering JavaScript. */
  rewrap(pm: ProtectedMaterial, binding: Binding, toKekVersion: number): Promise<ProtectedMaterial>;
  /** Random bytes from the HSM's generator. */
  random(bytes: number): Promise<Buffer>;
  health(): Promise<HealthReport>;
  close(): Promise<void>;
}

/** KEK lifecycle, used by `kmipd init` and KEK rotation; not needed by request handlers. */
export interface KekAdmin {
  /** Creates KEK version `version` (and its binding key); fails with KekExists if present. */
  createKek(version: number): Promise<void>;
  /** The versions present on the token, ascending. */
  listKekVersions(): Promise<number[]>;
  /** The highest version present; KekNotFound if there is none. */
  currentKekVersion(): Promise<number>;
  /** Destroys KEK version `version` and its binding key: blobs under it become unrecoverable. */
  destroyKek(version: number): Promise<void>;
}
