// Attribute operations through the real executor, SQLite store and SoftHSM2 token (KMIP 1.4
// §4.11–4.15 with §11.13–11.17; 2.1 §6.1.2, §6.1.3, §6.1.13, §6.1.20, §6.1.21, §6.1.34,
// §6.1.51): what storage appliances do with them, in both major versions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import {
  attr1,
  attributes1,
  attributes2,
  bool,
  bytes,
  createKey1,
  createKey2,
  date,
  enumeration,
  failure,
  int,
  nameValue,
  ok,
  refTag,
  refVendor,
  req,
  struct,
  text,
  uidOf,
  v14,
  v21,
  vendorAttr,
} from '../../support/attribute-requests.js';

const AV = Tag.AttributeValue;
const OP = Enum.Operation;

describeHsm('Attribute operations', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const newKey = async (version: KmipVersion, extra: TtlvNode[] = [], tenant = 'default') =>
    uidOf(ok(await h.send(version, [version.major >= 2 ? createKey2(extra) : createKey1(extra)], undefined, tenant)));

  const stored = (uid: string, tenant?: string) => h.stored(uid, tenant);

  describe('Get Attributes', () => {
    it('a named attribute the object lacks: success, without that attribute (1.4)', async () => {
      const uid = await newKey(v14);
      const payload = ok(await h.send(v14, [req.getAttributes1(uid, ['Cryptographic Algorithm', 'Object Group', 'x-not-there', 'No Such Attribute'])]));
      expect(uidOf(payload)).toBe(uid);
      expect(attributes1(payload)).toEqual([{ name: 'Cryptographic Algorithm', index: 0, value: enumeration(AV, Enum.CryptographicAlgorithm.AES) }]);
    });

    it('none of the named attributes present: only the Unique Identifier (1.4), an empty Attributes (2.1)', async () => {
      const uid = await newKey(v14);
      expect(ok(await h.send(v14, [req.getAttributes1(uid, ['Contact Information'])]))).toEqual([text(Tag.UniqueIdentifier, uid)]);
      expect(ok(await h.send(v21, [req.getAttributes2(uid, [refTag(Tag.ContactInformation), refVendor('nothing')])]))).toEqual([
        text(Tag.UniqueIdentifier, uid),
        struct(Tag.Attributes, []),
      ]);
    });

    it('2.1 by Attribute Reference: typed items and Vendor Attributes', async () => {
      const uid = await newKey(v21, [vendorAttr('ID', text(AV, 'drive-7')), nameValue('k-21')]);
      const got = attributes2(ok(await h.send(v21, [req.getAttributes2(uid, [refTag(Tag.State), refTag(Tag.Name), refVendor('ID')])])));
      expect(got).toEqual([enumeration(Tag.State, Enum.State.PreActive), nameValue('k-21'), vendorAttr('ID', text(AV, 'drive-7'))]);
    });

    it('the same name twice is Invalid Message (1.4 Table 339)', async () => {
      const uid = await newKey(v14);
      expect(failure(await h.send(v14, [req.getAttributes1(uid, ['State', 'State'])]))).toBe('InvalidMessage');
    });

    it('all attributes when none is named, with the ID Placeholder when the identifier is omitted (TL-M-3-14)', async () => {
      const res = await h.send(v14, [createKey1([attr1('x-Barcode', text(AV, 'XXA012A1'))]), req.getAttributes1(undefined, [])]);
      const uid = uidOf(ok(res, 0));
      const all = attributes1(ok(res, 1));
      expect(all.slice(0, 3).map((a) => a.name)).toEqual(['Unique Identifier', 'Object Type', 'State']);
      expect(all.find((a) => a.name === 'x-Barcode')?.value).toEqual(text(AV, 'XXA012A1'));
      expect(all.find((a) => a.name === 'Unique Identifier')?.value).toEqual(text(AV, uid));
    });
  });

  describe('Get Attribute List', () => {
    it('1.4: spec names and custom names, each once; 2.1: Attribute References (SKFF-M-9-14, TL-M-3-14)', async () => {
      const uid = await newKey(v14, [attr1('Object Group', text(AV, 'g1')), attr1('Object Group', text(AV, 'g2')), attr1('x-ID', text(AV, 'i'))]);
      const names = ok(await h.send(v14, [req.getAttributeList(uid)])).filter((n) => n.tag === Tag.AttributeName);
      const texts = names.map((n) => (n.type === 'TextString' ? n.value : ''));
      expect(texts).toEqual(expect.arrayContaining(['Unique Identifier', 'Object Type', 'State', 'Cryptographic Algorithm', 'Object Group', 'x-ID']));
      expect(texts.filter((t) => t === 'Object Group')).toHaveLength(1);
      const refs = ok(await h.send(v21, [req.getAttributeList(uid)])).filter((n) => n.tag === Tag.AttributeReference);
      expect(refs).toEqual(expect.arrayContaining([refTag(Tag.UniqueIdentifier), refTag(Tag.ObjectGroup), refVendor('ID')]));
    });
  });

  describe('30 custom attributes of each type, values of 256+ characters', () => {
    const long = (i: number) => `${i}:`.padEnd(300, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const values: [string, (i: number) => TtlvNode][] = [
      ['text', (i) => text(AV, long(i))],
      ['int', (i) => int(AV, -1_000_000 + i * 77_777)],
      ['date', (i) => date(AV, 1_700_000_000n + BigInt(i))],
      ['bool', (i) => bool(AV, i % 2 === 0)],
      ['bytes', (i) => bytes(AV, Uint8Array.from({ length: 257 + i }, (_, k) => (k * 7 + i) & 0xff))],
      ['enum', (i) => enumeration(AV, i + 1)],
    ];
    const all = values.flatMap(([kind, make]) => Array.from({ length: 30 }, (_, i) => ({ name: `x-${kind}-${String(i).padStart(2, '0')}`, value: make(i) })));

    it('1.4: set at Create, returned exactly by Get Attributes', async () => {
      const uid = await newKey(v14, all.map((a) => attr1(a.name, a.value)));
      const got = attributes1(ok(await h.send(v14, [req.getAttributes1(uid, [])]))).filter((a) => a.name.startsWith('x-'));
      expect(got).toEqual(all.map((a) => ({ name: a.name, index: 0, value: a.value })));
    });

    it('2.1: added one by one as Vendor Attributes, returned exactly', async () => {
      const uid = await newKey(v21);
      for (let i = 0; i < all.length; i += 60) {
        const res = await h.send(v21, all.slice(i, i + 60).map((a) => req.add2(uid, vendorAttr(a.name.slice(2), a.value))));
        res.batchItems.forEach((_, k) => ok(res, k));
      }
      const got = attributes2(ok(await h.send(v21, [req.getAttributes2(uid, [])]))).filter((n) => n.tag === Tag.Attribute);
      expect(got).toEqual(all.map((a) => vendorAttr(a.name.slice(2), a.value)));
    });

    it('one value over the size limit is refused, naming the attribute', async () => {
      const uid = await newKey(v14);
      const res = await h.send(v14, [req.add1(uid, attr1('x-huge', text(AV, 'z'.repeat(70_000))))]);
      expect(failure(res)).toBe('InvalidField');
      expect(res.batchItems[0]?.resultMessage).toMatch(/x-huge/);
    });
  });

  describe('Add / Modify / Delete Attribute', () => {
    it('1.4: answers carry the attribute and its server-assigned index (SKFF-M-9-14, AX-M-1-14)', async () => {
      const uid = await newKey(v14, [attr1('Object Group', text(AV, 'first'))]);
      const added = attributes1(ok(await h.send(v14, [req.add1(uid, attr1('Object Group', text(AV, 'second')))])));
      expect(added).toEqual([{ name: 'Object Group', index: 1, value: text(AV, 'second') }]);
      const modified = attributes1(ok(await h.send(v14, [req.modify1(uid, attr1('Object Group', text(AV, 'second*'), 1))])));
      expect(modified).toEqual([{ name: 'Object Group', index: 1, value: text(AV, 'second*') }]);
      const deleted = attributes1(ok(await h.send(v14, [req.delete1(uid, 'Object Group')])));
      expect(deleted).toEqual([{ name: 'Object Group', index: 0, value: text(AV, 'first') }]);
      const left = (await stored(uid))!.attributes.filter((a) => a.name === 'ObjectGroup');
      expect(left).toEqual([{ name: 'ObjectGroup', index: 1, value: text(AV, 'second*') }]);
    });

    it('1.4 errors: read-only (Permission Denied), absent (Invalid Field / Item Not Found), index given on Add (Invalid Field)', async () => {
      const uid = await newKey(v14);
      expect(failure(await h.send(v14, [req.add1(uid, attr1('Initial Date', date(AV, 1n)))]))).toBe('PermissionDenied');
      expect(failure(await h.send(v14, [req.modify1(uid, attr1('Object Group', text(AV, 'g')))]))).toBe('InvalidField');
      expect(failure(await h.send(v14, [req.delete1(uid, 'Object Group')]))).toBe('ItemNotFound');
      expect(failure(await h.send(v14, [req.delete1(uid, 'Unique Identifier')]))).toBe('PermissionDenied');
      expect(failure(await h.send(v14, [req.add1(uid, attr1('Object Group', text(AV, 'g'), 2))]))).toBe('InvalidField');
      expect(failure(await h.send(v14, [req.add1(uid, attr1('Cryptographic Length', text(AV, '256')))]))).toBe('InvalidField');
    });

    it('2.1: Modify by Current Attribute, Delete by Current Attribute or by reference (all instances)', async () => {
      const uid = await newKey(v21, [text(Tag.ObjectGroup, 'a'), text(Tag.ObjectGroup, 'b'), text(Tag.ObjectGroup, 'c')]);
      expect(failure(await h.send(v21, [req.modify2(uid, text(Tag.ObjectGroup, 'x'))]))).toBe('MultiValuedAttribute');
      expect(ok(await h.send(v21, [req.modify2(uid, text(Tag.ObjectGroup, 'B'), text(Tag.ObjectGroup, 'b'))]))).toEqual([text(Tag.UniqueIdentifier, uid)]);
      expect(failure(await h.send(v21, [req.modify2(uid, text(Tag.ObjectGroup, 'Z'), text(Tag.ObjectGroup, 'zz'))]))).toBe('AttributeInstanceNotFound');
      ok(await h.send(v21, [req.delete2(uid, { current: text(Tag.ObjectGroup, 'a') })]));
      const groups = () => stored(uid).then((o) => o!.attributes.filter((a) => a.name === 'ObjectGroup').map((a) => (a.value.type === 'TextString' ? a.value.value : '')));
      expect(await groups()).toEqual(['B', 'c']);
      ok(await h.send(v21, [req.delete2(uid, { reference: refTag(Tag.ObjectGroup) })]));
      expect(await groups()).toEqual([]);
      expect(failure(await h.send(v21, [req.delete2(uid, { reference: refTag(Tag.ObjectGroup) })]))).toBe('AttributeNotFound');
    });

    it('2.1: read-only attributes (BL-M-7-21: Modify State → Attribute Read Only; Add → Read Only Attribute)', async () => {
      const uid = await newKey(v21);
      expect(failure(await h.send(v21, [req.modify2(uid, enumeration(Tag.State, Enum.State.Compromised))]))).toBe('AttributeReadOnly');
      expect(failure(await h.send(v21, [req.add2(uid, date(Tag.InitialDate, 5n))]))).toBe('ReadOnlyAttribute');
      expect(failure(await h.send(v21, [req.add2(uid, text(Tag.ContactInformation, 'a')), req.add2(uid, text(Tag.ContactInformation, 'b'))], {
        batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Continue,
      }), 1)).toBe('AttributeSingleValued');
    });

    it('Modify of the Activation Date to now activates a Pre-Active key (1.4 §3.22 transition 4); afterwards it is Permission Denied (SKLC-M-3-14)', async () => {
      const uid = await newKey(v14, [attr1('Activation Date', date(AV, 4_000_000_000n))]);
      const now = BigInt(Math.floor(Date.now() / 1000));
      ok(await h.send(v14, [req.modify1(uid, attr1('Activation Date', date(AV, now)))]));
      expect((await stored(uid))!.state).toBe(Enum.State.Active);
      expect(failure(await h.send(v14, [req.modify1(uid, attr1('Activation Date', date(AV, now + 100n)))]))).toBe('PermissionDenied');
      expect(failure(await h.send(v21, [req.modify2(uid, date(Tag.ActivationDate, now + 100n))]))).toBe('WrongKeyLifecycleState');
    });

    it('changes set Last Change Date', async () => {
      const uid = await newKey(v14);
      const unit = h.store.begin({ tenant: 'default' });
      const obj = (await unit.get(uid))!;
      obj.attributes = obj.attributes.map((a) => (a.name === 'LastChangeDate' ? { ...a, value: date(AV, 1n) } : a));
      unit.put(obj);
      await unit.commit();
      ok(await h.send(v14, [req.add1(uid, attr1('Comment', text(AV, 'c')))]));
      const lcd = (await stored(uid))!.attributes.find((a) => a.name === 'LastChangeDate')!.value;
      expect(lcd.type === 'DateTime' && lcd.value > 1n).toBe(true);
    });

    it('a Name another live object carries: Illegal Operation (1.4 Table 341), Non Unique Name Attribute (2.1)', async () => {
      await newKey(v14, [attr1('Name', nameValue('taken-name'))]);
      const uid = await newKey(v14);
      expect(failure(await h.send(v14, [req.add1(uid, attr1('Name', nameValue('taken-name')))]))).toBe('IllegalOperation');
      expect(failure(await h.send(v21, [req.add2(uid, nameValue('taken-name'))]))).toBe('NonUniqueNameAttribute');
      ok(await h.send(v14, [req.add1(uid, attr1('Name', nameValue('free-name')))]));
    });
  });

  describe('Set / Adjust Attribute (2.1)', () => {
    it('Set adds, then modifies; several instances are Multi Valued Attribute; 1.x does not know the operation', async () => {
      const uid = await newKey(v21);
      ok(await h.send(v21, [req.set2(uid, text(Tag.Description, 'first'))]));
      ok(await h.send(v21, [req.set2(uid, text(Tag.Description, 'second'))]));
      expect((await stored(uid))!.attributes.filter((a) => a.name === 'Description').map((a) => a.value)).toEqual([text(AV, 'second')]);
      ok(await h.send(v21, [req.add2(uid, text(Tag.ObjectGroup, 'a')), req.add2(uid, text(Tag.ObjectGroup, 'b'))]));
      expect(failure(await h.send(v21, [req.set2(uid, text(Tag.ObjectGroup, 'c'))]))).toBe('MultiValuedAttribute');
      expect(failure(await h.send(v21, [req.set2(uid, date(Tag.InitialDate, 1n))]))).toBe('ReadOnlyAttribute');
      expect(failure(await h.send(v14, [{ operation: OP.SetAttribute, payload: [] }]))).toBe('OperationNotSupported');
    });

    it('Adjust increments a custom counter from 0, negates a Boolean, refuses overflow and read-only attributes', async () => {
      const uid = await newKey(v21);
      const counter = refVendor('uses');
      ok(await h.send(v21, [req.adjust2(uid, counter, Enum.AdjustmentType.Increment, int(AV, 5))]));
      ok(await h.send(v21, [req.adjust2(uid, counter, Enum.AdjustmentType.Decrement, int(AV, 2))]));
      const value = async (name: string) => (await stored(uid))!.attributes.find((a) => a.name === name)?.value;
      expect(await value('x-uses')).toEqual(int(AV, 3));
      ok(await h.send(v21, [req.add2(uid, vendorAttr('flag', bool(AV, false)))]));
      ok(await h.send(v21, [req.adjust2(uid, refVendor('flag'), Enum.AdjustmentType.Negate)]));
      expect(await value('x-flag')).toEqual(bool(AV, true));
      expect(failure(await h.send(v21, [req.adjust2(uid, counter, Enum.AdjustmentType.Increment, int(AV, 2_147_483_647))]))).toBe('NumericRange');
      expect(failure(await h.send(v21, [req.adjust2(uid, refTag(Tag.State), Enum.AdjustmentType.Increment, int(AV, 1))]))).toBe('ReadOnlyAttribute');
    });
  });

  describe('tenant isolation', () => {
    it("another tenant's object looks exactly like a missing one, and stays unchanged", async () => {
      const uid = await newKey(v14, [attr1('x-owner', text(AV, 'alpha'))], 'alpha');
      const before = await stored(uid, 'alpha');
      const attempts14 = [
        req.getAttributes1(uid, []),
        req.getAttributeList(uid),
        req.add1(uid, attr1('x-intruder', text(AV, 'beta'))),
        req.modify1(uid, attr1('x-owner', text(AV, 'beta'))),
        req.delete1(uid, 'x-owner'),
      ];
      for (const r of attempts14) {
        const mine = await h.send(v14, [r], undefined, 'beta');
        const missing = await h.send(v14, [{ ...r, payload: r.payload.map((n) => (n.tag === Tag.UniqueIdentifier ? text(Tag.UniqueIdentifier, 'no-such-uid') : n)) }], undefined, 'beta');
        expect(failure(mine)).toBe('ItemNotFound');
        expect(mine.batchItems[0]?.resultMessage).toBe(missing.batchItems[0]?.resultMessage);
      }
      for (const r of [req.getAttributes2(uid, []), req.set2(uid, vendorAttr('owner', text(AV, 'beta'))), req.delete2(uid, { reference: refVendor('owner') })]) {
        expect(failure(await h.send(v21, [r], undefined, 'beta'))).toBe('ObjectNotFound');
      }
      expect(await stored(uid, 'alpha')).toEqual(before);
    });
  });
});
