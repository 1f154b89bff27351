/** Query payloads (KMIP 1.4 §4.25 Tables 222–223; 2.1 §6.1.37). */
import { Tag } from '../registry.js';
import { anyNode, boolean, enumeration, integer, many, optional, some, struct, textString } from '../schema.js';

export const queryRequest = struct({
  queryFunctions: some(Tag.QueryFunction, enumeration),
});

/** Capability Information (KMIP 1.4 §2.1.21; 2.1 §2.1.2). */
export const capabilityInformation = struct({
  streamingCapability: optional(Tag.StreamingCapability, boolean),
  asynchronousCapability: optional(Tag.AsynchronousCapability, boolean),
  attestationCapability: optional(Tag.AttestationCapability, boolean),
  batchUndoCapability: optional(Tag.BatchUndoCapability, boolean),
  batchContinueCapability: optional(Tag.BatchContinueCapability, boolean),
  unwrapMode: optional(Tag.UnwrapMode, enumeration),
  destroyAction: optional(Tag.DestroyAction, enumeration),
  shreddingAlgorithm: optional(Tag.ShreddingAlgorithm, enumeration),
  rngMode: optional(Tag.RNGMode, enumeration),
});

/** RNG Parameters (KMIP 1.4 §2.1.18). */
export const rngParameters = struct({
  rngAlgorithm: optional(Tag.RNGAlgorithm, enumeration),
});

/** Profile Information (KMIP 1.4 §2.1.19). */
export const profileInformation = struct({
  profileName: optional(Tag.ProfileName, enumeration),
  serverURI: optional(Tag.ServerURI, textString),
  serverPort: optional(Tag.ServerPort, integer),
});

export const queryResponse = struct({
  operations: many(Tag.Operation, enumeration),
  objectTypes: many(Tag.ObjectType, enumeration),
  vendorIdentification: optional(Tag.VendorIdentification, textString),
  serverInformation: optional(Tag.ServerInformation, anyNode),
  applicationNamespaces: many(Tag.ApplicationNamespace, textString),
  attestationTypes: many(Tag.AttestationType, enumeration),
  rngParameters: many(Tag.RNGParameters, rngParameters),
  profileInformation: many(Tag.ProfileInformation, profileInformation),
  capabilityInformation: many(Tag.CapabilityInformation, capabilityInformation),
  clientRegistrationMethods: many(Tag.ClientRegistrationMethod, enumeration),
});
