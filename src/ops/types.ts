/**
 * What an operation handler sees: decoded request values and a context. Never bytes, sockets,
 * certificates or PKCS#11 handles (STYLE.md, "The path of one request").
 */
import type { Logger } from 'pino';
import type { TtlvNode } from '../ttlv/types.js';
import type { StructCodec } from '../kmip/schema.js';
import type { KmipVersion } from '../kmip/version.js';
import type { Principal } from '../dispatch/types.js';
import type { UnitOfWork } from '../store/types.js';
import type { KeyProtector } from '../hsm/key-protector.js';
import type { CryptoStreams } from './crypto-streams.js';

export interface OperationContext {
  /** Version the request is processed in; the response is written in it. */
  readonly version: KmipVersion;
  readonly lenientUnknown: boolean;
  readonly principal: Principal;
  readonly log: Logger;
  now(): Date;
  /** The ID Placeholder of the batch (KMIP 1.4 §2.1.1 / 2.1 §2.1.1): the last identifier an item produced. */
  idPlaceholder: string | undefined;
  /** The tenant the principal acts in; every object it creates belongs to it. */
  readonly tenant: string;
  /** The batch's unit of work (one transaction per batch), opened on first use. */
  readonly unit: UnitOfWork;
  /** Key material goes through the HSM only. */
  readonly keys: KeyProtector;
  /** Streamed Encrypt/Decrypt in progress (Correlation Value → cipher context), one table per server. */
  readonly streams: CryptoStreams;
}

/** Who a principal is for authorization: its tenant and what it may see. */
export interface Identity {
  /** Tenant that owns the objects this principal creates or registers. */
  tenant: string;
  /** Tenant whose objects it may see; null: every tenant (operators). */
  scope: string | null;
  /** Role name, for logs and the audit trail. */
  role: string;
  /** The binding rule that matched, for the audit trail. */
  rule: string;
}

/** The outcome of an authorization check, recorded with the batch item. */
export interface Decision {
  allowed: boolean;
  /** Which rule allowed or denied it. */
  rule: string;
}

/** Authentication of the principal and authorization of each operation (src/authz implements it). */
export interface AccessControl {
  /** The identity bound to a certificate, or undefined: Authentication Not Successful. */
  identify(principal: Principal): Identity | undefined;
  authorize(identity: Identity, operation: number): Decision;
}

/** What the wiring gives the executor so handlers reach storage and the HSM. */
export interface OperationServices {
  /** Opens the unit of work for one batch; `scope` null sees every tenant. */
  openUnit(scope: string | null): UnitOfWork;
  keys: KeyProtector;
  /** Streamed cipher contexts; absent: the executor keeps its own table with the default limits. */
  streams?: CryptoStreams;
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

/** Every principal acts in one tenant with every right: benchmarks and single-tenant tools. */
export function singleTenantAccess(tenant: string, rule = 'single tenant'): AccessControl {
  const identity: Identity = { tenant, scope: tenant, role: 'all', rule };
  return { identify: () => identity, authorize: () => ({ allowed: true, rule }) };
}
