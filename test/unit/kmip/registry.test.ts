// The KMIP registry (KMIP 1.4 §9.1.3, KMIP 2.1 §11–12): the committed generated module is current,
// and spot values match the spec tables (values quoted from kmip-spec-v1.4-os / v2.1-os).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { generate } from '../../../bin/gen-registry.mjs';
import {
  Enum,
  Mask,
  Tag,
  allTags,
  compareVersions,
  definedIn,
  enumForTag,
  enumInfo,
  enumValueInfo,
  enumValueName,
  enumValueOf,
  formatMask,
  maskForTag,
  maskInfo,
  parseMask,
  parseVersion,
  supportedVersions,
  tagDefinedIn,
  tagInfo,
  tagLabel,
  tagName,
  tagTypesIn,
  tagValue,
} from '../../../src/kmip/registry.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('generated registry', () => {
  it('equals the output of bin/gen-registry.mjs for the committed registry.json', () => {
    const json = readFileSync(`${root}src/kmip/spec/registry.json`, 'utf8');
    const committed = readFileSync(`${root}src/kmip/generated/registry.ts`, 'utf8');
    expect((generate as (j: string) => string)(json)).toBe(committed);
  });

  it('has every tag, enumeration and mask of the registry', () => {
    expect(Object.keys(Tag)).toHaveLength(371);
    expect(allTags()).toHaveLength(371);
    // 61 spec enumerations plus PKCS_11Function and PKCS_11ReturnCode.
    expect(Object.keys(Enum)).toHaveLength(63);
    expect(Object.keys(Mask)).toEqual(['CryptographicUsageMask', 'ProtectionStorageMask', 'StorageStatusMask']);
    const values = Object.values(Enum).reduce((n: number, e: object) => n + Object.keys(e).length, 0);
    expect(values).toBe(810 + 92 + 98);
  });
});

describe('tags (1.4 §9.1.3.1 Table 289, 2.1 §11.56 Table 487)', () => {
  it('has the spec tag values', () => {
    expect(Tag.ActivationDate).toBe(0x420001);
    expect(Tag.UniqueIdentifier).toBe(0x420094);
    expect(Tag.AttributeName).toBe(0x42000a);
    expect(Tag.AttributeValue).toBe(0x42000b);
    expect(Tag.Template).toBe(0x420090);
    expect(Tag.Sensitive).toBe(0x420120);
    expect(Tag.AttributeReference).toBe(0x42013b);
    expect(Tag.RequestMessage).toBe(0x420078);
    expect(Tag.ResponseMessage).toBe(0x42007b);
  });

  it('maps names both ways: xml name, spec name (whitespace-insensitive), unknown', () => {
    expect(tagName(0x420094)).toBe('UniqueIdentifier');
    expect(tagName(0x540001)).toBeUndefined();
    expect(tagValue('UniqueIdentifier')).toBe(0x420094);
    expect(tagValue('Unique Identifier')).toBe(0x420094);
    expect(tagValue('Cryptographic   Algorithm')).toBe(Tag.CryptographicAlgorithm);
    expect(tagValue('PKCS#11 Function')).toBe(Tag.PKCS_11Function);
    expect(tagValue('x-custom')).toBeUndefined();
    expect(tagLabel(0x420094)).toBe('UniqueIdentifier');
    expect(tagLabel(0x540001)).toBe('0x540001');
  });

  it('carries type, since and removed', () => {
    expect(tagInfo(Tag.ActivationDate)).toMatchObject({ xml: 'ActivationDate', name: 'Activation Date', type: 'DateTime', since: '1.0', removed: null });
    // 2.1 Table 487 lists 420009 as (Reserved): Attribute Index is gone in 2.x.
    expect(tagInfo(Tag.AttributeIndex)).toMatchObject({ since: '1.0', removed: '2.0' });
    expect(tagDefinedIn(Tag.AttributeIndex, '1.4')).toBe(true);
    expect(tagDefinedIn(Tag.AttributeIndex, { major: 2, minor: 0 })).toBe(false);
    expect(tagInfo(Tag.Sensitive)?.since).toBe('1.4');
    expect(tagInfo(Tag.AttributeReference)?.since).toBe('2.0');
    expect(tagDefinedIn(Tag.AttributeReference, '1.4')).toBe(false);
    expect(tagDefinedIn(0x540001, '2.1')).toBe(false);
    expect(tagInfo(Tag.AttributeValue)?.type).toBeNull();
  });

  it('knows item types that changed between versions', () => {
    // Asynchronous Indicator: Boolean in 1.x, Enumeration in 2.x.
    expect(tagTypesIn(Tag.AsynchronousIndicator, '1.4')).toEqual(['Boolean']);
    expect(tagTypesIn(Tag.AsynchronousIndicator, '2.1')).toEqual(['Enumeration']);
    expect(tagTypesIn(Tag.ActivationDate, '1.0')).toEqual(['DateTime']);
  });
});

describe('enumerations (1.4 §9.1.3.2, 2.1 §11)', () => {
  it('has the spec values', () => {
    expect(Enum.Operation.Create).toBe(1);
    expect(Enum.Operation.ReKey).toBe(4);
    expect(Enum.ResultReason.ItemNotFound).toBe(1);
    expect(Enum.ResultReason.PermissionDenied).toBe(0x0c);
    expect(Enum.ResultReason.Sensitive).toBe(0x16);
    expect(Enum.State.DestroyedCompromised).toBe(6);
    expect(Enum.ObjectType.Template).toBe(6);
    expect(Enum.ObjectType.SymmetricKey).toBe(2);
    expect(Enum.CryptographicAlgorithm.AES).toBe(3);
    expect(Enum.PKCS_11Function.C_Initialize).toBe(1);
    expect(Enum.PKCS_11ReturnCode.OK).toBe(0);
  });

  it('looks values up both ways, accepting spec names and earlier spellings', () => {
    expect(enumValueName('Operation', 4)).toBe('ReKey');
    expect(enumValueName('Operation', 0x80000001)).toBeUndefined();
    expect(enumValueOf('Operation', 'ReKey')).toBe(4);
    expect(enumValueOf('Operation', 'Re-key')).toBe(4);
    expect(enumValueOf('ResultReason', 'Item Not Found')).toBe(1);
    // KMIP 1.4 spelled SHA3-224 "SHA-3-224" (registry alias), 2.x "SHA3-224".
    expect(enumValueOf('HashingAlgorithm', 'SHA_3_224')).toBe(Enum.HashingAlgorithm.SHA3_224);
    expect(enumValueOf('Operation', 'NoSuchOperation')).toBeUndefined();
    expect(enumValueOf('NoSuchEnum', 'Create')).toBeUndefined();
  });

  it('links enumerations to tags, including the Tag Enumeration of AttributeReference', () => {
    expect(enumForTag(Tag.Operation)?.xml).toBe('Operation');
    expect(enumForTag(Tag.MaskGeneratorHashingAlgorithm)?.xml).toBe('HashingAlgorithm');
    expect(enumForTag(Tag.PKCS_11Function)?.xml).toBe('PKCS_11Function');
    expect(enumForTag(Tag.ActivationDate)).toBeUndefined();
    const tagEnum = enumForTag(Tag.AttributeReference);
    expect(tagEnum?.xml).toBe('Tag');
    expect(enumValueName('Tag', 0x420028)).toBe('CryptographicAlgorithm');
    expect(enumValueOf('Tag', 'CryptographicAlgorithm')).toBe(0x420028);
    expect(enumInfo('Operation')?.tags).toEqual([Tag.Operation]);
  });

  it('dates values: since, deprecated, removed', () => {
    // 1.4 Result Reason table: Sensitive 0x16 is new in 1.4; 2.1 marks 0x0B (Illegal Operation) Reserved.
    const sensitive = enumValueInfo('ResultReason', 0x16)!;
    expect(sensitive).toMatchObject({ xml: 'Sensitive', since: '1.4', removed: null });
    expect(definedIn(sensitive, '1.3')).toBe(false);
    expect(definedIn(sensitive, '1.4')).toBe(true);
    const illegal = enumValueInfo('ResultReason', Enum.ResultReason.IllegalOperation)!;
    expect(illegal).toMatchObject({ since: '1.0', removed: '2.0' });
    expect(definedIn(illegal, '1.4')).toBe(true);
    expect(definedIn(illegal, '2.0')).toBe(false);
    // 1.4 Object Type table: "Template 00000006 (deprecated)".
    expect(enumValueInfo('ObjectType', 6)).toMatchObject({ deprecated: '1.3', removed: '2.0' });
    expect(enumInfo('AttestationType')?.since).toBe('1.2');
  });
});

describe('masks (1.4 §9.1.3.3, 2.1 §12)', () => {
  it('has the spec bits', () => {
    expect(Mask.CryptographicUsageMask.Sign).toBe(1);
    expect(Mask.CryptographicUsageMask.Encrypt).toBe(4);
    expect(Mask.CryptographicUsageMask.Decrypt).toBe(8);
    expect(Mask.CryptographicUsageMask.CertificateSign).toBe(0x1000);
    expect(Mask.CryptographicUsageMask.Authenticate).toBe(0x100000);
    expect(Mask.StorageStatusMask.OnLineStorage).toBe(1);
    expect(Mask.ProtectionStorageMask.Software).toBe(1);
    expect(maskForTag(Tag.CryptographicUsageMask)?.xml).toBe('CryptographicUsageMask');
    expect(maskInfo('CryptographicUsageMask')?.values.find((v) => v.xml === 'Authenticate')?.since).toBe('2.0');
  });

  it('formats and parses symbolic masks (Additional Message Encodings §6.1.6.4 examples)', () => {
    expect(formatMask('CryptographicUsageMask', 0x100c)).toBe('Encrypt Decrypt CertificateSign');
    expect(formatMask('CryptographicUsageMask', 0x100c, '|')).toBe('Encrypt|Decrypt|CertificateSign');
    expect(formatMask('CryptographicUsageMask', 0x80000004)).toBe('Encrypt 0x80000000');
    expect(formatMask('CryptographicUsageMask', 0)).toBe('0x00000000');
    expect(parseMask('CryptographicUsageMask', 'Encrypt Decrypt CertificateSign')).toBe(0x100c);
    expect(parseMask('CryptographicUsageMask', 'CertificateSign 0x00000004 0x0000008')).toBe(0x100c);
    expect(parseMask('CryptographicUsageMask', 'CertificateSign 0x0000000c')).toBe(0x100c);
    expect(parseMask('CryptographicUsageMask', '0x0000100c')).toBe(0x100c);
    expect(parseMask('CryptographicUsageMask', 'Encrypt|Decrypt', '|')).toBe(12);
    expect(parseMask('CryptographicUsageMask', '0x80000000')).toBe(-0x80000000);
    expect(parseMask('CryptographicUsageMask', 'Encrypt Bogus')).toBeUndefined();
    expect(parseMask('CryptographicUsageMask', '')).toBeUndefined();
  });
});

describe('versions', () => {
  it('lists 1.0–1.4, 2.0, 2.1 oldest first', () => {
    expect(supportedVersions.map((v) => `${v.major}.${v.minor}`)).toEqual(['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1']);
  });

  it('parses and compares', () => {
    expect(parseVersion('1.4')).toEqual({ major: 1, minor: 4 });
    expect(() => parseVersion('1')).toThrow(RangeError);
    expect(compareVersions('1.4', { major: 2, minor: 0 })).toBeLessThan(0);
    expect(compareVersions('1.10', '1.4')).toBeGreaterThan(0);
    expect(definedIn({ since: '1.2', removed: null }, '3.0')).toBe(true);
    expect(definedIn({ since: '1.2', removed: '2.0' }, '1.1')).toBe(false);
  });
});

describe('version lookups on the hot path', () => {
  it('tagDefinedIn answers from the spec dates for every tag and version, asked once and again, in both version forms', () => {
    for (const pass of [1, 2]) {
      for (const v of supportedVersions) {
        for (const t of allTags()) {
          // Independent of the cache: the dates compared as numbers.
          const [sm, sn] = t.since.split('.').map(Number) as [number, number];
          const after = v.major > sm || (v.major === sm && v.minor >= sn);
          const [rm, rn] = (t.removed ?? '99.0').split('.').map(Number) as [number, number];
          const before = v.major < rm || (v.major === rm && v.minor < rn);
          expect(tagDefinedIn(t.value, v), `${t.xml} in ${v.major}.${v.minor} (pass ${pass})`).toBe(after && before);
          expect(tagDefinedIn(t.value, `${v.major}.${v.minor}`)).toBe(after && before);
        }
      }
    }
    // A version the registry does not list is answered too (2.2 knows every 2.1 tag), and unknown tags are never defined.
    expect(tagDefinedIn(Tag.UniqueIdentifier, { major: 2, minor: 2 })).toBe(true);
    expect(tagDefinedIn(Tag.AttributeIndex, { major: 2, minor: 2 })).toBe(false);
    expect(tagDefinedIn(0x54ffff, { major: 2, minor: 1 })).toBe(false);
  });

  it('parseVersion returns the same pair for registry strings and still rejects text that is no version', () => {
    expect(parseVersion('1.4')).toEqual({ major: 1, minor: 4 });
    expect(parseVersion('1.4')).toBe(parseVersion('1.4'));
    expect(parseVersion(' 2.1 ')).toEqual({ major: 2, minor: 1 });
    expect(parseVersion('3.7')).toEqual({ major: 3, minor: 7 });
    expect(() => parseVersion('1.4.1')).toThrow(RangeError);
  });
});
