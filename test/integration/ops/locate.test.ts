// Locate through the real executor, SQLite store and SoftHSM2 token (KMIP 1.4 §4.9 with Table 336,
// 2.1 §6.1.28): the filters storage appliances use, paging, storage status, object groups, the
// ID Placeholder rule, the state as of now, and tenant isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import {
  asiValue,
  attr1,
  attributes1,
  createKey1,
  createKey2,
  date,
  enumeration,
  failure,
  groupValue,
  int,
  located,
  nameValue,
  ok,
  req,
  struct,
  text,
  uidOf,
  uidsOf,
  uidNode,
  v14,
  v21,
  vendorAttr,
} from '../../support/attribute-requests.js';

const AV = Tag.AttributeValue;
const OP = Enum.Operation;
const SSM = Mask.StorageStatusMask;

describeHsm('Locate', () => {
  let h: OpsHarness;
  // A clock the tests move: date-driven transitions happen when it passes a date.
  let nowMs = Date.UTC(2030, 0, 1);
  const seconds = () => BigInt(Math.floor(nowMs / 1000));
  beforeAll(async () => {
    h = await openOpsHarness({ clock: () => new Date(nowMs) });
  });
  afterAll(async () => {
    await h.close();
  });

  /** Keys are created a second apart, so "newest first" is well defined. */
  async function newKey(version: KmipVersion, extra: TtlvNode[] = [], tenant = 'default'): Promise<string> {
    nowMs += 1000;
    return uidOf(ok(await h.send(version, [version.major >= 2 ? createKey2(extra) : createKey1(extra)], undefined, tenant)));
  }
  const find1 = async (filters: TtlvNode[], fields: TtlvNode[] = [], tenant = 'default') =>
    uidsOf(ok(await h.send(v14, [req.locate1(filters, fields)], undefined, tenant)));
  const find2 = async (typed: TtlvNode[], fields: TtlvNode[] = [], tenant = 'default') =>
    uidsOf(ok(await h.send(v21, [req.locate2(typed, fields)], undefined, tenant)));

  it('by Name and Object Type, 1.4 and 2.1 forms (SKFF-M-5-14, SKFF-M-5-21)', async () => {
    const uid = await newKey(v14, [attr1('Name', nameValue('locate-by-name'))]);
    expect(await find1([attr1('Object Type', enumeration(AV, Enum.ObjectType.SymmetricKey)), attr1('Name', nameValue('locate-by-name'))])).toEqual([uid]);
    expect(await find2([enumeration(Tag.ObjectType, Enum.ObjectType.SymmetricKey), nameValue('locate-by-name')])).toEqual([uid]);
    expect(await find2([enumeration(Tag.ObjectType, Enum.ObjectType.SecretData), nameValue('locate-by-name')])).toEqual([]);
    // Name Value alone (2.1 §6.1.28: structure fields may be left out).
    expect(await find2([struct(Tag.Name, [text(Tag.NameValue, 'locate-by-name')])])).toEqual([uid]);
  });

  it('filters sent inside a 1.x Template-Attribute, as some appliances do', async () => {
    const uid = await newKey(v14, [attr1('Name', nameValue('in-template'))]);
    const templated = struct(Tag.TemplateAttribute, [attr1('Name', nameValue('in-template')), attr1('Cryptographic Algorithm', enumeration(AV, Enum.CryptographicAlgorithm.AES))]);
    expect(uidsOf(ok(await h.send(v14, [{ operation: OP.Locate, payload: [templated] }])))).toEqual([uid]);
    const withTemplateName = struct(Tag.TemplateAttribute, [nameValue('some-template')]);
    expect(failure(await h.send(v14, [{ operation: OP.Locate, payload: [withTemplateName] }]))).toBe('InvalidField');
  });

  it('unknown attribute names and malformed values are Invalid Field (1.4 Table 336)', async () => {
    expect(failure(await h.send(v14, [req.locate1([attr1('Colour', text(AV, 'blue'))])]))).toBe('InvalidField');
    expect(failure(await h.send(v14, [req.locate1([attr1('Cryptographic Length', text(AV, '256'))])]))).toBe('InvalidField');
  });

  describe('tape library: Application Specific Information in the LIBRARY-LTO namespace (TL profile, TL-M-3-14)', () => {
    it('by namespace and data, then Get Attributes through the ID Placeholder', async () => {
      const data = '123456789ABCDEF123456789123456789ABCDEF123456789ABCDEF1234000000';
      const uid = await newKey(v14, [attr1('Application Specific Information', asiValue('LIBRARY-LTO', data)), attr1('x-Barcode', text(AV, 'XXA012A1'))]);
      await newKey(v14, [attr1('Application Specific Information', asiValue('LIBRARY-LTO', `${data.slice(0, -1)}1`))]);
      const res = await h.send(v14, [
        req.locate1([attr1('Object Type', enumeration(AV, Enum.ObjectType.SymmetricKey)), attr1('Application Specific Information', asiValue('LIBRARY-LTO', data))]),
        req.getAttributes1(undefined, ['x-Barcode']),
      ]);
      expect(uidsOf(ok(res, 0))).toEqual([uid]);
      expect(attributes1(ok(res, 1))).toEqual([{ name: 'x-Barcode', index: 0, value: text(AV, 'XXA012A1') }]);
    });

    it('by namespace alone: every cartridge key of the library, not those of a namespace sharing its prefix', async () => {
      const a = await newKey(v14, [attr1('Application Specific Information', asiValue('LIBRARY-LTO-B', 'vol-1'))]);
      const b = await newKey(v14, [attr1('Application Specific Information', asiValue('LIBRARY-LTO-B', 'vol-2'))]);
      await newKey(v14, [attr1('Application Specific Information', asiValue('LIBRARY-LTO-BX', 'vol-3'))]);
      expect(await find1([attr1('Application Specific Information', asiValue('LIBRARY-LTO-B'))])).toEqual([b, a]);
    });
  });

  describe('object groups', () => {
    it('by Object Group; Group Member Fresh finds keys not yet served; Group Member Default the newest Active one', async () => {
      const g = (uid: string) => uid;
      const older = g(await newKey(v14, [attr1('Object Group', groupValue('pool-1'))]));
      const newer = g(await newKey(v14, [attr1('Object Group', groupValue('pool-1'))]));
      await newKey(v14, [attr1('Object Group', groupValue('pool-2'))]);
      const inPool = [attr1('Object Group', text(AV, 'pool-1'))];
      expect(await find1(inPool)).toEqual([newer, older]);

      // Get serves the newer key: it is no longer fresh (1.4 §3.34).
      ok(await h.send(v14, [{ operation: OP.Get, payload: [uidNode(newer)] }]));
      const fresh = enumeration(Tag.ObjectGroupMember, Enum.ObjectGroupMember.GroupMemberFresh);
      expect(await find1(inPool, [fresh])).toEqual([older]);

      const dflt = enumeration(Tag.ObjectGroupMember, Enum.ObjectGroupMember.GroupMemberDefault);
      expect(await find1(inPool, [dflt])).toEqual([newer]); // none Active: the newest
      ok(await h.send(v14, [{ operation: OP.Activate, payload: [uidNode(older)] }]));
      expect(await find1(inPool, [dflt])).toEqual([older]); // the Active one
      expect(await find2([text(Tag.ObjectGroup, 'pool-1')], [dflt])).toEqual([older]);
    });
  });

  describe('paging and the ID Placeholder', () => {
    it('Maximum Items, Offset Items and Located Items (TC-OFFSET-1-14)', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 5; i++) keys.unshift(await newKey(v14, [attr1('x-batch', text(AV, 'offset-test'))]));
      const filter = [attr1('x-batch', text(AV, 'offset-test'))];
      expect(await find1(filter)).toEqual(keys);
      const max1 = ok(await h.send(v14, [req.locate1(filter, [int(Tag.MaximumItems, 1)])]));
      expect([uidsOf(max1), located(max1)]).toEqual([[keys[0]], undefined]);
      const page = ok(await h.send(v14, [req.locate1(filter, [int(Tag.MaximumItems, 2), int(Tag.OffsetItems, 1)])]));
      expect([uidsOf(page), located(page)]).toEqual([keys.slice(1, 3), 5]);
      const past = ok(await h.send(v21, [req.locate2([vendorAttr('batch', text(AV, 'offset-test'))], [int(Tag.OffsetItems, 7)])]));
      expect([uidsOf(past), located(past)]).toEqual([[], 5]);
      expect(failure(await h.send(v14, [req.locate1(filter, [int(Tag.MaximumItems, -1)])]))).toBe('InvalidField');
    });

    it('one match sets the ID Placeholder; several empty it, so a batched Get Attributes without identifier fails', async () => {
      await newKey(v14, [attr1('x-ph', text(AV, 'two'))]);
      const one = await newKey(v14, [attr1('x-ph', text(AV, 'one'))]);
      await newKey(v14, [attr1('x-ph', text(AV, 'two'))]);
      const single = await h.send(v14, [req.locate1([attr1('x-ph', text(AV, 'one'))]), req.getAttributes1(undefined, ['x-ph'])]);
      expect(uidOf(ok(single, 1))).toBe(one);
      const several = await h.send(v14, [req.locate1([attr1('x-ph', text(AV, 'two'))]), req.getAttributes1(undefined, ['x-ph'])]);
      expect(uidsOf(ok(several, 0))).toHaveLength(2);
      expect(failure(several, 1)).toBe('MissingData');
    });
  });

  describe('dates, masks, custom attributes', () => {
    it('two instances of a date attribute are an inclusive range; one instance an exact date', async () => {
      const t0 = seconds() + 10_000n;
      const a = await newKey(v14, [attr1('Activation Date', date(AV, t0))]);
      const b = await newKey(v14, [attr1('Activation Date', date(AV, t0 + 10n))]);
      await newKey(v14, [attr1('Activation Date', date(AV, t0 + 20n))]);
      expect(await find1([attr1('Activation Date', date(AV, t0 + 10n)), attr1('Activation Date', date(AV, t0))])).toEqual([b, a]);
      expect(await find2([date(Tag.ActivationDate, t0 + 10n)])).toEqual([b]);
    });

    it('Cryptographic Usage Mask matches objects having every requested bit', async () => {
      const M = Mask.CryptographicUsageMask;
      const both = await newKey(v21, [vendorAttr('mask-test', text(AV, 'm'))]); // Encrypt | Decrypt (12)
      const filter = [vendorAttr('mask-test', text(AV, 'm'))];
      expect(await find2([...filter, int(Tag.CryptographicUsageMask, M.Encrypt)])).toEqual([both]);
      expect(await find2([...filter, int(Tag.CryptographicUsageMask, M.Encrypt | M.Sign)])).toEqual([]);
    });

    it('custom attributes of each type filter by exact value', async () => {
      const uid = await newKey(v14, [attr1('x-serial', text(AV, 'SN-0042')), attr1('x-slot', int(AV, 17)), attr1('x-bay', enumeration(AV, 3))]);
      expect(await find1([attr1('x-serial', text(AV, 'SN-0042')), attr1('x-slot', int(AV, 17))])).toEqual([uid]);
      expect(await find1([attr1('x-slot', int(AV, 18))])).toEqual([]);
      expect(await find2([vendorAttr('bay', enumeration(AV, 3)), vendorAttr('serial', text(AV, 'SN-0042'))])).toEqual([uid]);
    });
  });

  describe('state and storage status', () => {
    it('State is the state as of now: a key whose Activation Date passed is found as Active', async () => {
      const uid = await newKey(v14, [attr1('x-when', text(AV, 'later')), attr1('Activation Date', date(AV, seconds() + 60n))]);
      const byState = (s: number) => find1([attr1('x-when', text(AV, 'later')), attr1('State', enumeration(AV, s))]);
      expect(await byState(Enum.State.PreActive)).toEqual([uid]);
      expect(await byState(Enum.State.Active)).toEqual([]);
      nowMs += 120_000;
      expect(await byState(Enum.State.Active)).toEqual([uid]);
      expect(await byState(Enum.State.PreActive)).toEqual([]);
    });

    it('archived objects only with Archival Storage; destroyed ones never in 1.x, with Destroyed Storage in 2.x', async () => {
      const tag = [attr1('x-storage', text(AV, 's'))];
      const online = await newKey(v14, tag);
      const archived = await newKey(v14, tag);
      const destroyed = await newKey(v14, tag);
      ok(await h.send(v14, [{ operation: OP.Archive, payload: [uidNode(archived)] }]));
      ok(await h.send(v14, [{ operation: OP.Destroy, payload: [uidNode(destroyed)] }]));
      const mask = (m: number) => [int(Tag.StorageStatusMask, m)];
      expect(await find1(tag)).toEqual([online]);
      expect(await find1(tag, mask(SSM.ArchivalStorage))).toEqual([archived]);
      expect(await find1(tag, mask(SSM.OnLineStorage | SSM.ArchivalStorage))).toEqual([archived, online]);
      const tag2 = [vendorAttr('storage', text(AV, 's'))];
      expect(await find2(tag2, mask(SSM.DestroyedStorage))).toEqual([destroyed]);
      expect(await find2(tag2, mask(SSM.OnLineStorage | SSM.ArchivalStorage | SSM.DestroyedStorage))).toEqual([destroyed, archived, online]);
    });
  });

  it("tenant isolation: another tenant's objects are never located, whatever the filter", async () => {
    const mine = await newKey(v14, [attr1('Name', nameValue('shared-name')), attr1('x-tenant-test', text(AV, 't'))], 'alpha');
    const theirs = await newKey(v14, [attr1('Name', nameValue('shared-name')), attr1('x-tenant-test', text(AV, 't'))], 'beta');
    expect(await find1([attr1('Name', nameValue('shared-name'))], [], 'alpha')).toEqual([mine]);
    expect(await find1([attr1('Name', nameValue('shared-name'))], [], 'beta')).toEqual([theirs]);
    expect(await find1([attr1('Unique Identifier', text(AV, theirs))], [], 'alpha')).toEqual([]);
    expect(await find2([], [], 'alpha')).toContain(mine);
    expect(await find2([], [], 'alpha')).not.toContain(theirs);
    expect(await find1([], [], 'gamma')).toEqual([]);
  });
});
