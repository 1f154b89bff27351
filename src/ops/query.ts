/**
 * Query (KMIP 1.4 §4.25; 2.1 §6.1.37). Everything reported is derived from what the server really
 * has: the operations are the handler table's keys, the object types those the operations serve.
 */
import type { TtlvNode } from '../ttlv/types.js';
import { Enum, Tag, definedIn, enumValueInfo } from '../kmip/registry.js';
import { queryRequest, queryResponse } from '../kmip/payloads/query.js';
import { atLeast } from '../kmip/version.js';
import { STREAMED_OPERATIONS } from './stream-operation.js';
import { defineOperation, type OperationHandler } from './types.js';

export interface ServerFacts {
  vendorIdentification: string;
  serverVersion: string;
  /** Operation values the server answers (the handler table's keys). */
  operations(): number[];
  /** Object Type values the server can store. */
  objectTypes(): number[];
}

const F = Enum.QueryFunction;

export function createQuery(facts: ServerFacts): OperationHandler {
  return defineOperation({
    operation: Enum.Operation.Query,
    request: queryRequest,
    response: queryResponse,
    async handle(ctx, req) {
      const asked = new Set(req.queryFunctions);
      const res: ReturnType<typeof queryResponse.decode> = {
        operations: [],
        objectTypes: [],
        vendorIdentification: undefined,
        serverInformation: undefined,
        applicationNamespaces: [],
        attestationTypes: [],
        rngParameters: [],
        profileInformation: [],
        capabilityInformation: [],
        clientRegistrationMethods: [],
      };
      if (asked.has(F.QueryOperations)) res.operations = facts.operations().sort((a, b) => a - b);
      if (asked.has(F.QueryObjects)) {
        // Only the object types the client's version defines (Template is gone in 2.x, PGP Key is 1.2+).
        res.objectTypes = facts
          .objectTypes()
          .filter((t) => {
            const info = enumValueInfo('ObjectType', t);
            return info !== undefined && definedIn(info, ctx.version);
          })
          .sort((a, b) => a - b);
      }
      if (asked.has(F.QueryServerInformation)) {
        res.vendorIdentification = facts.vendorIdentification;
        res.serverInformation = serverInformation(facts, atLeast(ctx.version, 2, 0));
      }
      if (asked.has(F.QueryRNGs)) {
        // The HSM's DRBG is not described by the PKCS#11 interface: Unspecified, as §4.25 requires.
        res.rngParameters = [{ rngAlgorithm: Enum.RNGAlgorithm.Unspecified }];
      }
      if (asked.has(F.QueryCapabilities)) {
        res.capabilityInformation = [
          {
            // Encrypt, Decrypt, MAC and MAC Verify stream (stream-operation.ts).
            streamingCapability: STREAMED_OPERATIONS.length > 0,
            asynchronousCapability: false,
            attestationCapability: false,
            batchUndoCapability: true,
            batchContinueCapability: true,
            // Keys registered wrapped are stored as registered (Get unwraps them on request, Key Wrap Type Not Wrapped).
            unwrapMode: Enum.UnwrapMode.NotProcessed,
            // Destroy removes the (HSM-wrapped) material and keeps the metadata.
            destroyAction: Enum.DestroyAction.KeyMaterialDeleted,
            shreddingAlgorithm: Enum.ShreddingAlgorithm.Unspecified,
            rngMode: Enum.RNGMode.Unspecified,
          },
        ];
      }
      return res;
    },
  });
}

/** Server Information: vendor-specific in 1.x; 2.x defines Server Name, Server Version and friends. */
function serverInformation(facts: ServerFacts, v2: boolean): TtlvNode {
  const children: TtlvNode[] = v2
    ? [
        { tag: Tag.ServerName, type: 'TextString', value: facts.vendorIdentification },
        { tag: Tag.ServerVersion, type: 'TextString', value: facts.serverVersion },
      ]
    : [];
  return { tag: Tag.ServerInformation, type: 'Structure', value: children };
}
