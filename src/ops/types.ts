/**
 * What an operation handler sees: decoded request values and a context. Never bytes, sockets,
 * certificates or PKCS#11 handles (STYLE.md, "The path of one request").
 */
import type { Logger } from 'pino';
import type { TtlvNode } from '../ttlv/types.js';
import type { StructCodec } from '../kmip/schema.js';
import type { KmipVersion } from '../kmip/version.js';
import type { Principal } from '../dispatch/types.js';

/** The per-batch unit of work (one transaction per batch; Undo rolls it back). */
export interface BatchUnit {
  commit(): Promise<void>;
  rollback(): void;
}

export interface OperationContext {
  /** Version the request is processed in; the response is written in it. */
  readonly version: KmipVersion;
  readonly lenientUnknown: boolean;
  readonly principal: Principal;
  readonly log: Logger;
  now(): Date;
  /** The ID Placeholder of the batch (KMIP 1.4 §2.1.1 / 2.1 §2.1.1): the last identifier an item produced. */
  idPlaceholder: string | undefined;
}

export interface OperationHandler<Req = any, Res = any> {
  /** Enumeration value of the Operation (KMIP 1.4 §9.1.3.2.27). */
  readonly operation: number;
  readonly request: StructCodec<Req>;
  readonly response: StructCodec<Res>;
  handle(ctx: OperationContext, request: Req): Promise<Res>;
}

/** The handler table: Operation value → handler. */
export type HandlerTable = ReadonlyMap<number, OperationHandler>;

export function defineOperation<Req, Res>(handler: OperationHandler<Req, Res>): OperationHandler<Req, Res> {
  return handler;
}

export type PayloadChildren = TtlvNode[];
