/**
 * Request and response message shapes (KMIP 1.4 §7.1–7.2 Tables 280–285; KMIP 2.1 §8 Messages).
 * Written once as schema data; the executor decodes requests and encodes responses with them.
 */
import type { TtlvNode } from '../ttlv/types.js';
import { Tag } from './registry.js';
import {
  anyNode,
  boolean,
  byteString,
  dateTime,
  enumeration,
  integer,
  many,
  one,
  oneOf,
  optional,
  rawStructure,
  struct,
  textString,
} from './schema.js';

export const protocolVersion = struct(
  {
    major: one(Tag.ProtocolVersionMajor, integer),
    minor: one(Tag.ProtocolVersionMinor, integer),
  },
  { missing: 'InvalidMessage' },
);

export const messageExtension = struct(
  {
    vendorIdentification: one(Tag.VendorIdentification, textString),
    criticalityIndicator: one(Tag.CriticalityIndicator, boolean),
    vendorExtension: one(Tag.VendorExtension, anyNode),
  },
  { missing: 'InvalidMessage' },
);

export const requestHeader = struct(
  {
    protocolVersion: one(Tag.ProtocolVersion, protocolVersion),
    maximumResponseSize: optional(Tag.MaximumResponseSize, integer),
    clientCorrelationValue: optional(Tag.ClientCorrelationValue, textString),
    serverCorrelationValue: optional(Tag.ServerCorrelationValue, textString),
    // Boolean in 1.x, Enumeration (Asynchronous Indicator: Mandatory/Optional/Prohibited) in 2.x.
    asynchronousIndicator: optional(Tag.AsynchronousIndicator, oneOf(boolean, enumeration)),
    attestationCapableIndicator: optional(Tag.AttestationCapableIndicator, boolean),
    attestationType: many(Tag.AttestationType, enumeration),
    authentication: optional(Tag.Authentication, rawStructure),
    batchErrorContinuationOption: optional(Tag.BatchErrorContinuationOption, enumeration),
    batchOrderOption: optional(Tag.BatchOrderOption, boolean),
    timeStamp: optional(Tag.TimeStamp, dateTime),
    batchCount: one(Tag.BatchCount, integer),
  },
  { missing: 'InvalidMessage' },
);
export type RequestHeader = ReturnType<typeof requestHeader.decode>;

export const requestBatchItem = struct(
  {
    operation: one(Tag.Operation, enumeration),
    ephemeral: optional(Tag.Ephemeral, boolean),
    uniqueBatchItemId: optional(Tag.UniqueBatchItemID, byteString),
    requestPayload: optional(Tag.RequestPayload, rawStructure),
    messageExtension: optional(Tag.MessageExtension, messageExtension),
  },
  { missing: 'InvalidMessage' },
);
export type RequestBatchItem = ReturnType<typeof requestBatchItem.decode>;

export const responseHeader = struct({
  protocolVersion: one(Tag.ProtocolVersion, protocolVersion),
  timeStamp: one(Tag.TimeStamp, dateTime),
  clientCorrelationValue: optional(Tag.ClientCorrelationValue, textString),
  serverCorrelationValue: optional(Tag.ServerCorrelationValue, textString),
  batchCount: one(Tag.BatchCount, integer),
});
export type ResponseHeader = ReturnType<typeof responseHeader.decode>;

export const responseBatchItem = struct({
  operation: optional(Tag.Operation, enumeration),
  uniqueBatchItemId: optional(Tag.UniqueBatchItemID, byteString),
  resultStatus: one(Tag.ResultStatus, enumeration),
  resultReason: optional(Tag.ResultReason, enumeration),
  resultMessage: optional(Tag.ResultMessage, textString),
  asynchronousCorrelationValue: optional(Tag.AsynchronousCorrelationValue, byteString),
  responsePayload: optional(Tag.ResponsePayload, rawStructure),
  messageExtension: optional(Tag.MessageExtension, messageExtension),
});
export type ResponseBatchItem = ReturnType<typeof responseBatchItem.decode>;

export const responseMessage = struct({
  header: one(Tag.ResponseHeader, responseHeader),
  batchItems: many(Tag.BatchItem, responseBatchItem),
});
export type ResponseMessage = ReturnType<typeof responseMessage.decode>;

export const requestMessage = struct(
  {
    header: one(Tag.RequestHeader, requestHeader),
    batchItems: many(Tag.BatchItem, rawStructure),
  },
  { missing: 'InvalidMessage' },
);

export type PayloadChildren = TtlvNode[];
