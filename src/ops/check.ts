/**
 * Check (KMIP 1.4 §4.10, §11.11; 2.1 §6.1.7): may the client use the object as it describes?
 *  - Cryptographic Usage Mask: every requested bit must be in the object's mask (1.4 §3.19);
 *  - Usage Limits Count: no more than the object's remaining count (1.4 §3.21; no Usage Limits
 *    means no limit);
 *  - Lease Time: no longer than the object's Lease Time, if it has one (1.4 §3.20; kmipd has no
 *    lease policy beyond that attribute).
 * A refusal empties the ID Placeholder (1.4 §4.10) and fails with the version's reason (OASIS
 * BL-M-3-21: Incompatible Cryptographic Usage Mask in 2.x; 1.4 §11.11: Permission Denied).
 */
import { Enum, Tag } from '../kmip/registry.js';
import { checkRequest, checkResponse } from '../kmip/payloads/check.js';
import type { KmipError } from '../kmip/errors.js';
import { attributeValue, intAttribute } from './new-object.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import { defineOperation } from './types.js';

export const check = defineOperation({
  operation: Enum.Operation.Check,
  request: checkRequest,
  response: checkResponse,
  async handle(ctx, req) {
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const deny = (err: KmipError): never => {
      ctx.idPlaceholder = undefined;
      throw err;
    };
    if (obj.objectType === Enum.ObjectType.Template) deny(refuse('checkObjectType', ctx.version, 'a Template cannot be used'));

    if (req.cryptographicUsageMask !== undefined) {
      const allowed = intAttribute(obj.attributes, 'CryptographicUsageMask') ?? 0;
      if ((req.cryptographicUsageMask & ~allowed) !== 0) {
        deny(refuse('usageMask', ctx.version, 'the object may not be used for every requested cryptographic usage'));
      }
    }
    if (req.usageLimitsCount !== undefined) {
      const remaining = remainingUsage(attributeValue(obj.attributes, 'UsageLimits'));
      if (remaining !== undefined && req.usageLimitsCount > remaining) {
        deny(refuse('usageLimit', ctx.version, 'the requested usage exceeds what the object has left'));
      }
    }
    if (req.leaseTime !== undefined) {
      const lease = attributeValue(obj.attributes, 'LeaseTime');
      if (lease?.type === 'Interval' && req.leaseTime > lease.value) {
        deny(refuse('leaseTime', ctx.version, 'the requested lease is longer than the object allows'));
      }
    }
    return { uniqueIdentifier: obj.uid, usageLimitsCount: undefined, cryptographicUsageMask: undefined, leaseTime: undefined };
  },
});

/** Usage Limits Count, or its Total while no usage was allocated (1.4 §3.21). */
function remainingUsage(limits: ReturnType<typeof attributeValue>): bigint | undefined {
  if (limits?.type !== 'Structure') return undefined;
  const field = (tag: number) => {
    const c = limits.value.find((x) => x.tag === tag);
    return c?.type === 'LongInteger' ? c.value : undefined;
  };
  return field(Tag.UsageLimitsCount) ?? field(Tag.UsageLimitsTotal);
}
