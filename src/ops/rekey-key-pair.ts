/**
 * Re-key Key Pair (KMIP 1.4 §4.5, §11.6; 2.1 §6.1.47): a replacement for a private key and its
 * public key, generated inside the HSM with the existing pair's algorithm, length and curve.
 *
 * Re-key semantics as for symmetric keys (rekey.ts): each new half copies its predecessor's
 * attributes except those Table 180 (2.1 Table 309) leaves out, takes over its Names, gains a
 * Replaced Object link to it while the predecessor gains a Replacement Object link; the Offset
 * places the new dates. The two new halves link to each other (Private Key / Public Key Link).
 * The request's Common/Private/Public attributes are applied last. The ID Placeholder becomes the
 * new private key's identifier.
 */
import { KmipError } from '../kmip/errors.js';
import { initialState } from '../kmip/lifecycle.js';
import { Enum, Tag } from '../kmip/registry.js';
import { keyPairResponse, rekeyKeyPairRequest } from '../kmip/payloads/create-key-pair.js';
import { newUid, type StoredAttribute, type StoredObject } from '../store/index.js';
import { checkDistinctNames, completeHalf, generateKeyPairObjects, keyPairInputs, keyPairPlan } from './key-pair.js';
import type { AttributeInput } from '../kmip/attribute-codec.js';
import { addInstance, attributeValue, checkNamesUnique, checkRequestedRng, dateAttribute, linkValue, removeAll, setSingle } from './new-object.js';
import { loadObject } from './object-lookup.js';
import { applyClientAttributes, currentState, touch } from './object-attributes.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import { NOT_COPIED, SHIFTED, applyOffset, usageLimitsCopy } from './rekey.js';
import { defineOperation, type OperationContext } from './types.js';

const OT = Enum.ObjectType;
const LT = Enum.LinkType;

export const rekeyKeyPair = defineOperation({
  operation: Enum.Operation.ReKeyKeyPair,
  request: rekeyKeyPairRequest,
  response: keyPairResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const oldPriv = await loadOnline(ctx, req.privateKeyUniqueIdentifier);
    if (oldPriv.objectType !== OT.PrivateKey) throw refuse('notReKeyable', ctx.version, 'Re-key Key Pair replaces private keys (and their public keys)');
    if (oldPriv.material === null) throw new KmipError('KeyValueNotPresent', 'the key has been destroyed; it has no value to replace');
    const oldPub = await linkedPublicKey(ctx, oldPriv);

    const inputs = await keyPairInputs(ctx, req);
    const dated = (list: readonly AttributeInput[]) => list.some((a) => a.name === 'ActivationDate' || (SHIFTED as readonly string[]).includes(a.name));
    if (req.offset !== undefined && (dated(inputs.privateKey) || dated(inputs.publicKey))) {
      throw new KmipError('InvalidMessage', 'Offset cannot be given together with Activation, Process Start, Protect Stop or Deactivation Date');
    }
    const privAttrs = successorAttributes(ctx, oldPriv, inputs.privateKey, req.offset, now);
    const pubAttrs = successorAttributes(ctx, oldPub, inputs.publicKey, req.offset, now);
    // The pair keeps its algorithm and size (1.4 §4.5: "the same ... as the existing key pair").
    const plan = keyPairPlan(oldPriv.attributes, ctx.version);
    checkDistinctNames(ctx.version, privAttrs, pubAttrs);

    const privUid = newUid(now.getTime());
    const pubUid = newUid(now.getTime());
    for (const [old, attrs, uid] of [[oldPriv, privAttrs, privUid], [oldPub, pubAttrs, pubUid]] as const) {
      addInstance(attrs, 'Link', linkValue(LT.ReplacedObjectLink, old.uid));
      removeAll(old.attributes, 'Name');
      addInstance(old.attributes, 'Link', linkValue(LT.ReplacementObjectLink, uid));
    }
    await checkNamesUnique(ctx, privAttrs, [oldPriv.uid, oldPub.uid]);
    await checkNamesUnique(ctx, pubAttrs, [oldPriv.uid, oldPub.uid]);
    completeHalf(privAttrs, plan, 'private', pubUid);
    completeHalf(pubAttrs, plan, 'public', privUid);

    const { privateKey, publicKey } = await generateKeyPairObjects(ctx, plan, [{ uid: privUid, attributes: privAttrs }, { uid: pubUid, attributes: pubAttrs }], now);
    ctx.unit.put(touch(oldPriv, now));
    ctx.unit.put(touch(oldPub, now));
    for (const obj of [privateKey, publicKey]) {
      obj.state = currentState({ state: initialState(dateAttribute(obj.attributes, 'ActivationDate'), now.getTime()), attributes: obj.attributes }, now);
      ctx.unit.insert(obj);
    }
    ctx.idPlaceholder = privUid;
    return { privateKeyUniqueIdentifier: privUid, publicKeyUniqueIdentifier: pubUid, privateKeyTemplateAttribute: undefined, publicKeyTemplateAttribute: undefined };
  },
});

/** The public key the private key links to (created by Create Key Pair, or linked by the client). */
async function linkedPublicKey(ctx: OperationContext, priv: StoredObject): Promise<StoredObject> {
  for (const a of priv.attributes) {
    if (a.name !== 'Link' || a.value.type !== 'Structure') continue;
    const type = a.value.value.find((c) => c.tag === Tag.LinkType);
    const target = a.value.value.find((c) => c.tag === Tag.LinkedObjectIdentifier);
    if (type?.type === 'Enumeration' && type.value === LT.PublicKeyLink && target?.type === 'TextString') {
      const pub = await loadObject(ctx, target.value);
      if (pub.objectType === OT.PublicKey) return pub;
    }
  }
  throw refuse('notReKeyable', ctx.version, 'the private key has no Public Key Link to re-key with');
}

/** The attributes of one new half: the predecessor's (Re-key rules), then the request's. */
function successorAttributes(
  ctx: OperationContext,
  old: StoredObject,
  inputs: readonly AttributeInput[],
  offset: number | undefined,
  now: Date,
): StoredAttribute[] {
  const copied: StoredAttribute[] = old.attributes.filter((a) => !NOT_COPIED.has(a.name)).map((a) => ({ ...a }));
  const usage = usageLimitsCopy(attributeValue(old.attributes, 'UsageLimits'));
  if (usage !== undefined) setSingle(copied, 'UsageLimits', usage);
  if (offset !== undefined) applyOffset(copied, old.attributes, BigInt(Math.floor(now.getTime() / 1000)) + BigInt(offset));
  const attrs = applyClientAttributes(copied, inputs, 'atCreation', old.objectType, Enum.State.PreActive, ctx.version);
  checkRequestedRng(attrs, ctx.version);
  return attrs;
}
