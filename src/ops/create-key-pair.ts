/**
 * Create Key Pair (KMIP 1.4 §4.2, §11.3; 2.1 §6.1.9): an RSA or EC key pair generated inside the
 * HSM (key-pair.ts), registered as a Private Key and a Public Key linked to each other (Link
 * Public Key on the private key, Link Private Key on the public key). The ID Placeholder becomes
 * the private key's identifier. Both start Pre-Active, or Active when the Activation Date given
 * has passed (1.4 §3.22 transitions 1 and 3).
 */
import { KmipError } from '../kmip/errors.js';
import { atLeast } from '../kmip/version.js';
import { initialState } from '../kmip/lifecycle.js';
import { Enum } from '../kmip/registry.js';
import { createKeyPairRequest, keyPairResponse } from '../kmip/payloads/create-key-pair.js';
import { newUid } from '../store/index.js';
import { checkDistinctNames, completeHalf, generateKeyPairObjects, keyPairInputs, keyPairPlan } from './key-pair.js';
import { checkNamesUnique, checkRequestedRng, dateAttribute } from './new-object.js';
import { applyClientAttributes, currentState } from './object-attributes.js';
import { defineOperation } from './types.js';

const OT = Enum.ObjectType;

export const createKeyPair = defineOperation({
  operation: Enum.Operation.CreateKeyPair,
  request: createKeyPairRequest,
  response: keyPairResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const inputs = await keyPairInputs(ctx, req);
    const privAttrs = applyClientAttributes([], inputs.privateKey, 'atCreation', OT.PrivateKey, Enum.State.PreActive, ctx.version);
    const pubAttrs = applyClientAttributes([], inputs.publicKey, 'atCreation', OT.PublicKey, Enum.State.PreActive, ctx.version);
    checkRequestedRng(privAttrs, ctx.version);
    checkRequestedRng(pubAttrs, ctx.version);
    // Both halves describe one key: the pair is planned from the private key's view of it.
    const plan = keyPairPlan(privAttrs, ctx.version);
    const publicPlan = keyPairPlan(pubAttrs, ctx.version);
    if (JSON.stringify(publicPlan.spec) !== JSON.stringify(plan.spec)) {
      throw new KmipError(atLeast(ctx.version, 2, 0) ? 'InvalidAttributeValue' : 'InvalidField', 'the private and public key attributes describe different keys');
    }
    checkDistinctNames(ctx.version, privAttrs, pubAttrs);
    await checkNamesUnique(ctx, privAttrs);
    await checkNamesUnique(ctx, pubAttrs);

    const privUid = newUid(now.getTime());
    const pubUid = newUid(now.getTime());
    completeHalf(privAttrs, plan, 'private', pubUid);
    completeHalf(pubAttrs, plan, 'public', privUid);
    const { privateKey, publicKey } = await generateKeyPairObjects(ctx, plan, [{ uid: privUid, attributes: privAttrs }, { uid: pubUid, attributes: pubAttrs }], now);
    for (const obj of [privateKey, publicKey]) {
      obj.state = currentState({ state: initialState(dateAttribute(obj.attributes, 'ActivationDate'), now.getTime()), attributes: obj.attributes }, now);
      ctx.unit.insert(obj);
    }
    ctx.idPlaceholder = privUid;
    return { privateKeyUniqueIdentifier: privUid, publicKeyUniqueIdentifier: pubUid, privateKeyTemplateAttribute: undefined, publicKeyTemplateAttribute: undefined };
  },
});
