/**
 * One automatic rotation (K8; KMIP 2.1 §4.48: "the equivalent of the ReKey … operation performed
 * by the server"): the ReKey handler itself (src/ops/rekey.ts: new key generated in the HSM,
 * attributes copied, links both ways, Names moved, Rotate Generation + 1) run in the key's tenant
 * under the scheduler's identity, then the rotation's own changes:
 *
 *  - Rotate Latest (2.1 §4.52, "implicitly set when object is rotated by the server"): True on the
 *    replacement, False on the replaced key;
 *  - the policy's grace: the replaced key stays Active until now + Offset + grace (the grace counts
 *    from the replacement's activation), when its Deactivation
 *    Date (an earlier one is kept) moves it to Deactivated through the lifecycle's date-driven
 *    transition 6 (1.4 §3.22); pinned clients keep using it until then;
 *  - RotationStore.completeInUnit: claim released, history recorded, key policy moved.
 *
 * All of it is one unit of work: it commits entirely or not at all. An HSM failure throws before
 * anything is written; a concurrent rotation makes the commit fail with StoreConflict.
 */
import type { Logger } from 'pino';
import type { KeyProtector } from '../hsm/key-protector.js';
import { Tag } from '../kmip/registry.js';
import type { KmipVersion } from '../kmip/version.js';
import type { Principal } from '../dispatch/types.js';
import { rekey } from '../ops/rekey.js';
import { currentState } from '../ops/object-attributes.js';
import type { OperationContext } from '../ops/types.js';
import { StoreConflict } from '../store/errors.js';
import type { ObjectStore, StoredAttribute, StoredObject } from '../store/types.js';
import type { TtlvNode } from '../ttlv/types.js';
import type { DueKey } from './due.js';
import type { RotationClaim, RotationRecord, RotationStore } from './types.js';
import { CryptoStreams } from '../ops/crypto-streams.js';

/** Rotations run in KMIP 2.1, the version that defines the Rotate attributes. */
const ROTATION_VERSION: KmipVersion = { major: 2, minor: 1 };

/**
 * The scheduler acts without a TLS peer, so it has no certificate; nothing on the rotation path
 * (ReKey, the audit record) reads one. Subject and fingerprint name it in logs and the audit trail.
 */
export const SCHEDULER_PRINCIPAL: Principal = {
  subject: 'scheduler',
  fingerprint: 'scheduler',
  certificate: undefined as unknown as Principal['certificate'],
};

export interface RotateDeps {
  objects: ObjectStore;
  rotation: RotationStore;
  keys: KeyProtector;
  log: Logger;
}

export interface RotationDone extends RotationRecord {
  policyDescription: string;
}

const value = <T extends TtlvNode['type']>(type: T, v: Extract<TtlvNode, { type: T }>['value']): TtlvNode =>
  ({ tag: Tag.AttributeValue, type, value: v }) as TtlvNode;

function setSingle(attrs: StoredAttribute[], name: string, v: TtlvNode): void {
  const at = attrs.findIndex((a) => a.name === name);
  if (at >= 0) attrs[at] = { name, index: 0, value: v };
  else attrs.push({ name, index: 0, value: v });
}

function dateOf(attrs: readonly StoredAttribute[], name: string): bigint | undefined {
  const v = attrs.find((a) => a.name === name)?.value;
  return v?.type === 'DateTime' ? v.value : undefined;
}

export async function rotateKey(deps: RotateDeps, due: DueKey, claim: RotationClaim, nowMs: number): Promise<RotationDone> {
  const now = new Date(nowMs);
  const unit = deps.objects.begin({ tenant: due.tenant });
  try {
    // The due list may predate another rotator's commit: re-read under the claim, and do not ask
    // the HSM for a key that would only lose at commit (the history's unique old key refuses it).
    const current = await unit.get(due.uid);
    if (current === undefined || dateOf(current.attributes, 'RotateDate') !== undefined) throw new StoreConflict(due.uid, 'version');
    const ctx: OperationContext = {
      version: ROTATION_VERSION,
      lenientUnknown: false,
      principal: SCHEDULER_PRINCIPAL,
      log: deps.log,
      now: () => now,
      idPlaceholder: undefined,
      tenant: due.tenant,
      unit,
      keys: deps.keys,
      // ReKey streams nothing; an empty table satisfies the context.
      streams: new CryptoStreams({}, () => nowMs),
    };
    const res = await rekey.handle(ctx, {
      uniqueIdentifier: { tag: Tag.UniqueIdentifier, type: 'TextString', value: due.uid },
      offset: due.policy.offsetSeconds ?? undefined,
      templateAttribute: undefined,
      attributes: undefined,
      protectionStorageMasks: undefined,
    });
    const newUid = res.uniqueIdentifier;
    const old = (await unit.get(due.uid)) as StoredObject;
    const replacement = (await unit.get(newUid)) as StoredObject;

    setSingle(replacement.attributes, 'RotateLatest', value('Boolean', true));
    unit.put(replacement);

    setSingle(old.attributes, 'RotateLatest', value('Boolean', false));
    if (due.policy.graceSeconds !== null) {
      // The grace counts from when the replacement becomes Active (now + Offset): never a gap
      // without an Active key under the Name.
      const end = BigInt(Math.floor(nowMs / 1000) + (due.policy.offsetSeconds ?? 0) + due.policy.graceSeconds);
      const current = dateOf(old.attributes, 'DeactivationDate');
      if (current === undefined || current > end) setSingle(old.attributes, 'DeactivationDate', value('DateTime', end));
      old.state = currentState(old, now);
    }
    unit.put(old);

    const generation = due.generation + 1;
    const record: RotationRecord = { oldUid: due.uid, newUid, tenant: due.tenant, generation, policy: due.policy.description, at: nowMs };
    deps.rotation.completeInUnit(unit, claim, record);
    await unit.commit();
    return { ...record, policyDescription: due.policy.description };
  } catch (err) {
    unit.rollback();
    throw err;
  }
}
