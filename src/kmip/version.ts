/**
 * Version negotiation (KMIP 1.4 §6.1 Protocol Version, §11.1; 2.1 §8.1). The list of versions and
 * their ordering come from the registry; this module decides which version a request is processed in.
 */
import { compareVersions, formatVersion, isSupportedVersion, supportedVersions as oldestFirst, type KmipVersion } from './registry.js';

export type { KmipVersion };
export { compareVersions, formatVersion as versionString };

/** Newest first: the server's order of preference, as Discover Versions answers (KMIP 1.4 §4.26). */
export const supportedVersions: readonly KmipVersion[] = [...oldestFirst].reverse();

/**
 * The version a request is processed in. Same major, newer minor: processed as our newest minor
 * of that major, unknown fields ignored (KMIP 1.4 §11.1). Unknown major: undefined (Invalid Message).
 */
export function negotiate(v: KmipVersion): KmipVersion | undefined {
  if (isSupportedVersion(v)) return v;
  return supportedVersions.find((s) => s.major === v.major && s.minor < v.minor);
}

export function atLeast(v: KmipVersion, major: number, minor: number): boolean {
  return compareVersions(v, { major, minor }) >= 0;
}
