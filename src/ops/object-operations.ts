/**
 * Handlers for the managed-object lifecycle (KMIP 1.4 §4.1–4.23, 2.1 §6.1): Create, Register,
 * Get, Activate, Revoke, Destroy, ReKey, Check, Archive, Recover, and the cryptographic services
 * Encrypt, Decrypt, MAC, MAC Verify, RNG Retrieve (1.4 §4.29–4.35). One module per operation;
 * this list is what the handler table picks up.
 */
import { Enum } from '../kmip/registry.js';
import { objectTypesWithStructure } from '../kmip/objects.js';
import type { OperationHandler } from './types.js';
import { activate } from './activate.js';
import { archive } from './archive.js';
import { check } from './check.js';
import { create } from './create.js';
import { createKeyPair } from './create-key-pair.js';
import { decrypt } from './decrypt.js';
import { destroy } from './destroy.js';
import { encrypt } from './encrypt.js';
import { get } from './get.js';
import { mac } from './mac.js';
import { macVerify } from './mac-verify.js';
import { recover } from './recover.js';
import { register } from './register.js';
import { rekey } from './rekey.js';
import { rekeyKeyPair } from './rekey-key-pair.js';
import { sign } from './sign.js';
import { signatureVerify } from './signature-verify.js';
import { revoke } from './revoke.js';
import { rngRetrieve } from './rng-retrieve.js';

export const objectOperations: readonly OperationHandler[] = [
  ...[create, register, get, activate, revoke, destroy, rekey, check, archive, recover],
  // Cryptographic services (symmetric-crypto.ts).
  ...[encrypt, decrypt, mac, macVerify, rngRetrieve],
  // Asymmetric keys (key-pair.ts).
  ...[createKeyPair, rekeyKeyPair, sign, signatureVerify],
];

/**
 * Object Type values the server can store (reported by Query Objects): every type Register
 * accepts. Template exists in 1.x only (Register refuses it in 2.x) and PGP Key from 1.2: Query
 * should leave out values the response's version does not define (registry `definedIn`).
 */
export const supportedObjectTypes: readonly number[] = objectTypesWithStructure.filter((t) => t !== Enum.ObjectType.CertificateRequest);
