/**
 * Why a lifecycle or key-use operation refuses an object, and the Result Reason each KMIP version
 * gives for it (KMIP 1.4 §11.5, §11.11–11.12, §11.20–11.24; KMIP 2.1 §6.1.1.1, §6.1.7.1,
 * §6.1.15.1, §6.1.19.1, §6.1.44.1, §6.1.46.1). The version-dependent choice is made here and only
 * here; the 1.4 column follows the OASIS 1.4 vectors where they are more specific than §11
 * (SKLC-M-2-14: Destroy of an Active key → Permission Denied).
 *
 *   refusal            1.x                          2.x
 *   wrongState         Permission Denied            Wrong Key Lifecycle State
 *   alreadyDestroyed   Permission Denied (§11.22)   Object Destroyed
 *   keyValueAbsent     Illegal Operation (§11.12)   Key Value Not Present
 *   objectType         Illegal Operation            Invalid Object Type
 *   checkObjectType    Illegal Operation (§11.11)   Illegal Object Type
 *   usageMask          Permission Denied (§11.11)   Incompatible Cryptographic Usage Mask (BL-M-3-21)
 *   usageLimit         Permission Denied (§11.11)   Usage Limit Exceeded
 *   keyWrapType        Feature Not Supported        Key Wrap Type Not Supported
 *   notReKeyable       Permission Denied (§11.5)    Invalid Object Type
 *   notCreatable       Invalid Field (§11.2)        Invalid Object Type
 *   leaseTime          Permission Denied (§11.11)   Permission Denied
 *
 * Re-key of a destroyed key is Key Value Not Present in both (1.4 §11.5 names it); archived
 * objects are Object Archived in both.
 */
import { KmipError, type ResultReasonName } from '../kmip/errors.js';
import { atLeast, type KmipVersion } from '../kmip/version.js';

export type Refusal =
  | 'wrongState'
  | 'alreadyDestroyed'
  | 'keyValueAbsent'
  | 'objectType'
  | 'checkObjectType'
  | 'usageMask'
  | 'usageLimit'
  | 'keyWrapType'
  | 'notReKeyable'
  | 'notCreatable'
  | 'leaseTime';

const reasons: Readonly<Record<Refusal, readonly [v1: ResultReasonName, v2: ResultReasonName]>> = {
  wrongState: ['PermissionDenied', 'WrongKeyLifecycleState'],
  alreadyDestroyed: ['PermissionDenied', 'ObjectDestroyed'],
  keyValueAbsent: ['IllegalOperation', 'KeyValueNotPresent'],
  objectType: ['IllegalOperation', 'InvalidObjectType'],
  checkObjectType: ['IllegalOperation', 'IllegalObjectType'],
  usageMask: ['PermissionDenied', 'IncompatibleCryptographicUsageMask'],
  usageLimit: ['PermissionDenied', 'UsageLimitExceeded'],
  keyWrapType: ['FeatureNotSupported', 'KeyWrapTypeNotSupported'],
  notReKeyable: ['PermissionDenied', 'InvalidObjectType'],
  notCreatable: ['InvalidField', 'InvalidObjectType'],
  leaseTime: ['PermissionDenied', 'PermissionDenied'],
};

/** The error for `refusal` in `version`, with a message written for the client. */
export function refuse(refusal: Refusal, version: KmipVersion, message: string): KmipError {
  const [v1, v2] = reasons[refusal];
  return new KmipError(atLeast(version, 2, 0) ? v2 : v1, message);
}
