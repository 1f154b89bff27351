/**
 * Locate (KMIP 1.4 §4.9, 2.1 §6.1.28): the identifiers of the tenant's objects matching every
 * filter, newest first, after Offset Items and up to Maximum Items. The matching rules are in
 * locate-query.ts; here are the request forms (1.x Attribute items, also inside a Template-
 * Attribute as some appliances send them; 2.x one Attributes structure), Object Group Member,
 * Located Items and the ID Placeholder rule: set to the identifier when exactly one is returned,
 * emptied otherwise so batched operations relying on it fail rather than act on a wrong object.
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { readAttribute, readRequestAttributes, type AttributeInput } from '../kmip/attribute-codec.js';
import { locateRequest, locateResponse } from '../kmip/payloads/locate.js';
import { atLeast } from '../kmip/version.js';
import type { LocateQuery } from '../store/types.js';
import { buildLocateQuery, statePredicate } from './locate-query.js';
import { defineOperation, type OperationContext } from './types.js';

/**
 * Without Maximum Items a Locate returns at most this many identifiers ("the server MAY impose an
 * internal maximum limit", 1.4 §4.9), keeping one response well inside the message size limit;
 * Located Items then tells the client how many matched.
 */
export const LOCATE_INTERNAL_MAX = 10_000;

export const locate = defineOperation({
  operation: Enum.Operation.Locate,
  request: locateRequest,
  response: locateResponse,
  async handle(ctx, req) {
    const filters = readFilters(ctx, req);
    if (req.maximumItems !== undefined && req.maximumItems < 0) throw new KmipError('InvalidField', 'Maximum Items must not be negative');
    if (req.offsetItems !== undefined && req.offsetItems < 0) throw new KmipError('InvalidField', 'Offset Items must not be negative');
    const member = req.objectGroupMember;
    if (member !== undefined && member !== Enum.ObjectGroupMember.GroupMemberFresh && member !== Enum.ObjectGroupMember.GroupMemberDefault) {
      throw new KmipError('InvalidField', 'unknown Object Group Member');
    }
    if (member === Enum.ObjectGroupMember.GroupMemberFresh) {
      // 1.4 §3.34: fresh = not yet served to a client.
      filters.push({ name: 'Fresh', value: { tag: Tag.AttributeValue, type: 'Boolean', value: true } });
    }

    const options = { now: ctx.now(), storageStatusMask: req.storageStatusMask, version: ctx.version };
    const query = buildLocateQuery(filters, options);
    let uids: string[];
    let located: number | undefined;
    if (query === 'none') {
      uids = [];
      located = 0;
    } else if (member === Enum.ObjectGroupMember.GroupMemberDefault) {
      uids = await defaultMember(ctx, query, options, filters.some((f) => f.name === 'State'));
    } else {
      ({ uids, located } = await page(ctx, query, req.offsetItems, req.maximumItems));
    }

    ctx.idPlaceholder = uids.length === 1 ? uids[0] : undefined;
    // Located Items answers a paging client (the 1.4 vectors show it exactly when Offset Items was
    // sent) and a client whose result the internal maximum cut short.
    const report = req.offsetItems !== undefined || (located !== undefined && located > uids.length && req.maximumItems === undefined);
    return { locatedItems: report ? located : undefined, uniqueIdentifiers: uids };
  },
});

function readFilters(ctx: OperationContext, req: ReturnType<typeof locateRequest.decode>): AttributeInput[] {
  const version = ctx.version;
  if (atLeast(version, 2, 0)) {
    if (req.attributes.length > 0 || req.templateAttributes.length > 0) {
      throw new KmipError('InvalidField', 'KMIP 2.x Locate takes its filters in one Attributes structure');
    }
    return (req.attributesStructure ?? []).map((n) => readAttribute(n, version, 'partial'));
  }
  if (req.attributesStructure !== undefined) throw new KmipError('InvalidField', 'Attributes is not a KMIP 1.x field');
  // 1.4 §4.9: an Attribute Index in a Locate filter SHALL be ignored.
  const filters = req.attributes.map((n) => ({ ...readAttribute(n, version, 'partial'), index: undefined }));
  const templated = readRequestAttributes(req.templateAttributes, version, [Tag.TemplateAttribute], 'partial');
  if (templated.templateNames.length > 0) {
    // 1.4 Table 336: templates that do not exist are Invalid Field; kmipd keeps no templates.
    throw new KmipError('InvalidField', 'templates are not supported; give the attributes themselves');
  }
  return [...filters, ...templated.attributes];
}

/** Applies Offset Items / Maximum Items; counts all matches when the client pages or the internal cap cuts. */
async function page(
  ctx: OperationContext,
  query: LocateQuery,
  offset: number | undefined,
  max: number | undefined,
): Promise<{ uids: string[]; located: number | undefined }> {
  if (offset !== undefined) {
    const all = await ctx.unit.locate(query);
    const limit = max ?? LOCATE_INTERNAL_MAX;
    return { uids: all.slice(offset, offset + limit), located: all.length };
  }
  const limit = max ?? LOCATE_INTERNAL_MAX;
  const uids = await ctx.unit.locate({ ...query, maxItems: limit + (max === undefined ? 1 : 0) });
  if (max === undefined && uids.length > limit) {
    const located = (await ctx.unit.locate(query)).length;
    return { uids: uids.slice(0, limit), located };
  }
  return { uids, located: undefined };
}

/**
 * Group Member Default (1.4 §4.9: "the default object as defined by server policy"): kmipd's
 * policy is the newest matching member that is Active now, else the newest matching member.
 * A client that filters on State itself gets the newest member in that state.
 */
async function defaultMember(
  ctx: OperationContext,
  query: LocateQuery,
  options: Parameters<typeof statePredicate>[1],
  stateGiven: boolean,
): Promise<string[]> {
  if (!stateGiven) {
    const active = await ctx.unit.locate({ ...query, state: statePredicate([Enum.State.Active], options), maxItems: 1 });
    if (active.length > 0) return active;
  }
  return ctx.unit.locate({ ...query, maxItems: 1 });
}
