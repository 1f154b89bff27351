/**
 * Binding rules (K7): a certificate property (subject CN/OU/O, SAN URI/DNS/email, issuer DN, or
 * SHA-256 fingerprint) equal to a value maps the certificate to (tenant, role). Rules are tried
 * in ascending position; the first match wins; no match is Authentication Not Successful.
 *
 * Equality is exact, except that fingerprints ignore colons and case, and DNS names and email
 * addresses ignore case (RFC 5280 §7.2, §7.5 compare them case-insensitively).
 */
import type { MatchField, RoleBinding } from '../store/access-types.js';
import { normaliseFingerprint, type CertificateFacts } from './certificate-facts.js';

export const MATCH_FIELDS: readonly MatchField[] = ['cn', 'ou', 'o', 'san-uri', 'san-dns', 'san-email', 'issuer', 'fingerprint'];

export function isMatchField(s: string): s is MatchField {
  return (MATCH_FIELDS as readonly string[]).includes(s);
}

/** The stored form of a rule value (what `role bind` writes). */
export function normaliseValue(field: MatchField, value: string): string {
  switch (field) {
    case 'fingerprint':
      return normaliseFingerprint(value);
    case 'san-dns':
    case 'san-email':
      return value.toLowerCase();
    default:
      return value;
  }
}

function candidates(field: MatchField, f: CertificateFacts): string[] {
  switch (field) {
    case 'cn':
      return f.cn;
    case 'ou':
      return f.ou;
    case 'o':
      return f.o;
    case 'san-uri':
      return f.sanUri;
    case 'san-dns':
      return f.sanDns.map((v) => v.toLowerCase());
    case 'san-email':
      return f.sanEmail.map((v) => v.toLowerCase());
    case 'issuer':
      return [f.issuer];
    case 'fingerprint':
      return [f.fingerprint];
  }
}

export function ruleMatches(rule: Pick<RoleBinding, 'field' | 'value'>, facts: CertificateFacts): boolean {
  const want = normaliseValue(rule.field, rule.value);
  return candidates(rule.field, facts).includes(want);
}

/** The first matching rule, in evaluation order. */
export function firstMatch(rules: readonly RoleBinding[], facts: CertificateFacts): RoleBinding | undefined {
  return rules.find((r) => ruleMatches(r, facts));
}

/** How a rule is named in logs and the audit trail: `binding #3 (ou=storage → t1/Writer)`. */
export function describeRule(r: Pick<RoleBinding, 'id' | 'field' | 'value' | 'tenant' | 'role'>): string {
  return `binding #${r.id} (${r.field}=${r.value} -> ${r.tenant}/${r.role})`;
}
