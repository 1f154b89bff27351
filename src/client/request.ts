/**
 * Request building and response parsing for kmipd's own client (tests, CLI, benchmark,
 * conformance runner), on the same message schema the server uses (KMIP 1.4 §7, 2.1 §8).
 */
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import { Tag } from '../kmip/registry.js';
import { requestBatchItem, requestHeader, responseMessage, type RequestHeader, type ResponseMessage } from '../kmip/messages.js';
import type { KmipVersion } from '../kmip/version.js';

export interface BatchItemRequest {
  operation: number;
  payload: TtlvNode[];
  uniqueBatchItemId?: Uint8Array;
  messageExtension?: { vendorIdentification: string; criticalityIndicator: boolean; vendorExtension: TtlvNode };
}

export type HeaderOptions = Partial<Omit<RequestHeader, 'protocolVersion' | 'batchCount' | 'attestationType'>> & {
  attestationType?: number[];
  /** Overrides the Batch Count written (to test servers with a wrong count). */
  batchCount?: number;
};

export function buildRequest(version: KmipVersion, items: BatchItemRequest[], header: HeaderOptions = {}): TtlvNode {
  const ctx = { version };
  const head = requestHeader.encode(
    Tag.RequestHeader,
    {
      protocolVersion: { major: version.major, minor: version.minor },
      maximumResponseSize: header.maximumResponseSize,
      clientCorrelationValue: header.clientCorrelationValue,
      serverCorrelationValue: header.serverCorrelationValue,
      asynchronousIndicator: header.asynchronousIndicator,
      attestationCapableIndicator: header.attestationCapableIndicator,
      attestationType: header.attestationType ?? [],
      authentication: header.authentication,
      batchErrorContinuationOption: header.batchErrorContinuationOption,
      batchOrderOption: header.batchOrderOption,
      timeStamp: header.timeStamp,
      batchCount: header.batchCount ?? items.length,
    },
    ctx,
  );
  const batch = items.map((it) =>
    requestBatchItem.encode(
      Tag.BatchItem,
      {
        operation: it.operation,
        ephemeral: undefined,
        uniqueBatchItemId: it.uniqueBatchItemId,
        requestPayload: it.payload,
        messageExtension: it.messageExtension,
      },
      ctx,
    ),
  );
  return { tag: Tag.RequestMessage, type: 'Structure', value: [head, ...batch] };
}

export function encodeRequest(version: KmipVersion, items: BatchItemRequest[], header?: HeaderOptions): Buffer {
  return encodeTtlv(buildRequest(version, items, header));
}

/** Parses a response leniently: a client must read what any server version sends. */
export function parseResponse(bytes: Uint8Array): ResponseMessage {
  const root = decodeTtlv(bytes);
  if (root.tag !== Tag.ResponseMessage) throw new Error('not a Response Message');
  const pv = { major: 2, minor: 1 };
  return responseMessage.decode(root, { version: pv, lenientUnknown: true });
}
