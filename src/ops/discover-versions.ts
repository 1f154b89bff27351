/**
 * Discover Versions (KMIP 1.4 §4.26; 2.1 §6.1.20): the versions supported by both sides, in the
 * server's order of preference; all of ours when the client lists none.
 */
import { Enum } from '../kmip/registry.js';
import { discoverVersionsRequest, discoverVersionsResponse } from '../kmip/payloads/discover-versions.js';
import { supportedVersions } from '../kmip/version.js';
import { defineOperation } from './types.js';

export const discoverVersions = defineOperation({
  operation: Enum.Operation.DiscoverVersions,
  request: discoverVersionsRequest,
  response: discoverVersionsResponse,
  async handle(_ctx, req) {
    const offered = req.versions;
    const versions =
      offered.length === 0
        ? supportedVersions
        : supportedVersions.filter((s) => offered.some((o) => o.major === s.major && o.minor === s.minor));
    return { versions: versions.map((v) => ({ major: v.major, minor: v.minor })) };
  },
});
