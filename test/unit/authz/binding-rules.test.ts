// Binding rules and the role table (K7): first match wins, each field matches what it names,
// fingerprints ignore colons and case, and the role table keeps Reader away from key material.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { firstMatch, ruleMatches } from '../../../src/authz/binding-rules.js';
import { certificateFacts, parseSubjectAltName } from '../../../src/authz/certificate-facts.js';
import { roleAllows, ROLES } from '../../../src/authz/roles.js';
import { Enum } from '../../../src/kmip/registry.js';
import type { RoleBinding } from '../../../src/store/access-types.js';
import { createCa, issueClientCert } from '../../../src/pki/dev-pki.js';

const ca = createCa({ cn: 'unit CA' });
const pem = issueClientCert({ ca, cn: 'array-01', ou: 'storage', o: 'acme', sanUri: 'urn:acme:array-01' }).cert;
const facts = certificateFacts(new X509Certificate(pem));

const rule = (id: number, field: RoleBinding['field'], value: string, role = 'Reader'): RoleBinding => ({ id, position: id, field, value, tenant: 't', role, note: null, createdAt: 0 });

describe('binding rules', () => {
  it('each field matches its part of the certificate, and only that', () => {
    expect(ruleMatches(rule(1, 'cn', 'array-01'), facts)).toBe(true);
    expect(ruleMatches(rule(1, 'ou', 'storage'), facts)).toBe(true);
    expect(ruleMatches(rule(1, 'o', 'acme'), facts)).toBe(true);
    expect(ruleMatches(rule(1, 'san-uri', 'urn:acme:array-01'), facts)).toBe(true);
    expect(ruleMatches(rule(1, 'issuer', 'O=kmipd,CN=unit CA'), facts)).toBe(true);
    expect(ruleMatches(rule(1, 'cn', 'storage'), facts)).toBe(false);
    expect(ruleMatches(rule(1, 'ou', 'array-01'), facts)).toBe(false);
    expect(ruleMatches(rule(1, 'san-dns', 'array-01'), facts)).toBe(false);
    const colons = facts.fingerprint.toUpperCase().match(/../g)!.join(':');
    expect(ruleMatches(rule(1, 'fingerprint', colons), facts)).toBe(true);
  });

  it('the first matching rule wins, in order', () => {
    const rules = [rule(1, 'cn', 'other'), rule(2, 'ou', 'storage', 'Writer'), rule(3, 'cn', 'array-01', 'Admin')];
    expect(firstMatch(rules, facts)?.id).toBe(2);
    expect(firstMatch([rule(1, 'cn', 'nobody')], facts)).toBeUndefined();
  });

  it('parses quoted subjectAltName entries', () => {
    expect(parseSubjectAltName('DNS:a.example, URI:"urn:x,y", email:e@f')).toEqual([
      ['DNS', 'a.example'],
      ['URI', 'urn:x,y'],
      ['email', 'e@f'],
    ]);
  });
});

describe('role table', () => {
  const O = Enum.Operation;
  it('Reader gets metadata only, never material', () => {
    for (const op of [O.Locate, O.GetAttributes, O.GetAttributeList, O.Check, O.Query, O.DiscoverVersions]) expect(roleAllows('Reader', op)).toBe(true);
    for (const op of [O.Get, O.Encrypt, O.Decrypt, O.MAC, O.Sign, O.Export, O.RNGRetrieve, O.Create, O.Register, O.Destroy]) expect(roleAllows('Reader', op)).toBe(false);
  });
  it('Writer uses keys but cannot destroy; Manager can; Admin spans tenants', () => {
    expect(roleAllows('Writer', O.Get)).toBe(true);
    expect(roleAllows('Writer', O.Encrypt)).toBe(true);
    expect(roleAllows('Writer', O.Destroy)).toBe(false);
    expect(roleAllows('Writer', O.DeleteAttribute)).toBe(false);
    expect(roleAllows('Manager', O.Destroy)).toBe(true);
    expect(roleAllows('Manager', O.Login)).toBe(false);
    expect(roleAllows('Admin', 0x7fff)).toBe(true);
    expect(ROLES.Admin.allTenants).toBe(true);
    expect(ROLES.Manager.allTenants).toBe(false);
  });
});
