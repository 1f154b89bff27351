/**
 * The message layer: one request message in, one response message out (KMIP 1.4 §6–7, 2.1 §8–9).
 * Header checks, version negotiation, the batch loop with Batch Error Continuation (Stop, Continue,
 * Undo), the ID Placeholder, Maximum Response Size and the response in the client's version.
 * Handlers come from a table; every failure goes through toFailure().
 */
import type { Logger } from 'pino';
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import { TtlvError } from '../ttlv/errors.js';
import type { TtlvNode } from '../ttlv/types.js';
import { Enum, Tag, enumValueName } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { protocolVersion, requestBatchItem, requestHeader, responseBatchItem, responseHeader, type RequestHeader, type ResponseBatchItem } from '../kmip/messages.js';
import type { SchemaContext } from '../kmip/schema.js';
import { negotiate, supportedVersions, versionString, type KmipVersion } from '../kmip/version.js';
import type { AccessControl, Decision, HandlerTable, Identity, OperationContext, OperationServices } from '../ops/types.js';
import type { UnitOfWork } from '../store/types.js';
import { CryptoStreams } from '../ops/crypto-streams.js';
import { toFailure, type Failure } from './to-failure.js';
import type { ConnectionInfo, ExecutorResult, MessageExecutor } from './types.js';

export interface ExecutorLimits {
  maxMessageBytes: number;
  maxDepth: number;
  maxBatchCount: number;
  /** The server's own ceiling on a response; a client's Maximum Response Size can only lower it. */
  maxResponseBytes?: number;
}

/** One finished batch item, for metrics and the audit trail. */
export interface ItemEvent {
  conn: ConnectionInfo;
  version: KmipVersion;
  /** Undefined when the certificate matched no binding. */
  identity: Identity | undefined;
  /** The authorization decision; undefined when the item never reached authorization. */
  decision: Decision | undefined;
  operation: number | undefined;
  /** Unique Identifiers named in the request payload or returned in the response payload. */
  uids: string[];
  status: number;
  reason: number | undefined;
  durationMs: number;
  batchIndex: number;
}

/** Without access control every principal acts in this tenant, with full rights (tests, message-layer only). */
const OPEN_IDENTITY: Identity = { tenant: 'default', scope: 'default', role: 'none', rule: 'no access control configured' };

export interface ExecutorOptions {
  handlers: HandlerTable;
  limits: ExecutorLimits;
  log: Logger;
  clock?: () => Date;
  /** Storage and HSM for the handlers; absent when the server runs without a store (message layer only). */
  services?: OperationServices;
  /** Authentication and authorization; absent: everyone acts in tenant "default" with every right. */
  access?: AccessControl;
  /** Called once per batch item after the response is settled (metrics, logs). */
  onItem?: (ev: ItemEvent) => void;
  /**
   * The audit trail: one call per message with one event per batch item, awaited before the
   * response is sent, so every answered item has a durable record.
   */
  audit?: (events: ItemEvent[]) => Promise<void>;
}

const Status = Enum.ResultStatus;
/** Attempts of one batch whose commit keeps losing optimistic races before its items fail. */
const MAX_BATCH_ATTEMPTS = 3;
const Continuation = Enum.BatchErrorContinuationOption;

interface ItemOutcome {
  item: ResponseBatchItem;
  failed: boolean;
  operation: number | undefined;
  started: number;
  decision?: Decision;
  requestUids?: string[];
}

/**
 * The context the handlers of one batch attempt share. A class rather than an object literal:
 * a literal with getters defines its accessors at run time, which left every batch's context a
 * dictionary-mode object (a profile of Get showed the accessor definitions and map
 * normalisation under runBatch); here the getters sit on the prototype.
 */
class BatchContext implements OperationContext {
  readonly version: KmipVersion;
  readonly lenientUnknown: boolean;
  idPlaceholder: string | undefined = undefined;
  #unit: UnitOfWork | undefined = undefined;

  constructor(
    schema: SchemaContext,
    readonly principal: ConnectionInfo['principal'],
    readonly log: Logger,
    readonly now: () => Date,
    readonly tenant: string,
    readonly streams: CryptoStreams,
    private readonly services: OperationServices | undefined,
    private readonly scope: string | null,
  ) {
    this.version = schema.version;
    this.lenientUnknown = schema.lenientUnknown ?? false;
  }

  get unit(): UnitOfWork {
    if (this.services === undefined) throw new Error('no object store is configured');
    return (this.#unit ??= this.services.openUnit(this.scope));
  }

  get keys(): OperationContext['keys'] {
    if (this.services === undefined) throw new Error('no key protector is configured');
    return this.services.keys;
  }

  /** The unit of work, if a handler opened one. */
  get openedUnit(): UnitOfWork | undefined {
    return this.#unit;
  }
}

export function createExecutor(options: ExecutorOptions): MessageExecutor {
  const { handlers, limits, log } = options;
  const clock = options.clock ?? (() => new Date());
  // One table of streamed cipher contexts for the server's life, shared by its connections.
  const streams = options.services?.streams ?? new CryptoStreams({}, () => clock().getTime());

  function responseTimeStamp(): bigint {
    return BigInt(Math.floor(clock().getTime() / 1000));
  }

  /** A whole-message failure: header + one batch item without Operation (KMIP 1.4 §11.1). */
  function messageFailure(version: KmipVersion, failure: Failure, header?: RequestHeader): Buffer {
    const ctx: SchemaContext = { version };
    const item = failureItem(undefined, undefined, failure);
    return encodeResponse(ctx, header, [responseBatchItem.encode(Tag.BatchItem, item, ctx)]);
  }

  function encodeResponse(ctx: SchemaContext, header: RequestHeader | undefined, items: TtlvNode[]): Buffer {
    const head = responseHeader.encode(
      Tag.ResponseHeader,
      {
        protocolVersion: { major: ctx.version.major, minor: ctx.version.minor },
        timeStamp: responseTimeStamp(),
        clientCorrelationValue: header?.clientCorrelationValue,
        serverCorrelationValue: undefined,
        batchCount: items.length,
      },
      ctx,
    );
    return encodeTtlv({ tag: Tag.ResponseMessage, type: 'Structure', value: [head, ...items] });
  }

  /**
   * One child logger per connection (the transport keeps one ConnectionInfo per connection), made
   * on its first message. A child per message cost ~4 % of the main thread under Discover Versions
   * on 16 connections: pino serialises the bindings through its redaction on every child().
   */
  const connLogs = new WeakMap<ConnectionInfo, Logger>();
  function connLog(conn: ConnectionInfo): Logger {
    let clog = connLogs.get(conn);
    if (clog === undefined) {
      clog = log.child({ conn: conn.id });
      connLogs.set(conn, clog);
    }
    return clog;
  }

  async function execute(message: Buffer, conn: ConnectionInfo): Promise<ExecutorResult> {
    const clog = connLog(conn);
    let root: TtlvNode;
    try {
      root = decodeTtlv(message, { maxSize: limits.maxMessageBytes, maxDepth: limits.maxDepth });
    } catch (err) {
      const version = salvageVersion(message);
      clog.info({ err: err instanceof TtlvError ? { code: err.code, offset: err.offset } : String(err) }, 'malformed TTLV message');
      if (version === undefined) return { kind: 'close' };
      return { kind: 'reply', bytes: messageFailure(version, toFailure(err)) };
    }
    if (root.tag !== Tag.RequestMessage || root.type !== 'Structure') {
      clog.info({ tag: root.tag }, 'top-level item is not a Request Message');
      return { kind: 'close' };
    }
    return executeRequest(root.value, conn, clog);
  }

  async function executeRequest(children: TtlvNode[], conn: ConnectionInfo, clog: Logger): Promise<ExecutorResult> {
    // The header first: its version decides how everything else is read and answered.
    const headerNode = children[0];
    const announced = headerNode && headerNode.tag === Tag.RequestHeader ? readAnnouncedVersion(headerNode) : undefined;
    if (announced === undefined) {
      clog.info('request without a readable Request Header');
      return { kind: 'reply', bytes: messageFailure(fallbackVersion(undefined), { reason: Enum.ResultReason.InvalidMessage, message: 'Request Header missing or unreadable', level: 'info' }) };
    }
    const version = negotiate(announced);
    if (version === undefined) {
      clog.info({ version: versionString(announced) }, 'unsupported protocol major version');
      return {
        kind: 'reply',
        bytes: messageFailure(fallbackVersion(announced), {
          reason: Enum.ResultReason.InvalidMessage,
          message: `Protocol version ${versionString(announced)} is not supported`,
          level: 'info',
        }),
      };
    }
    // Secret material the handlers' encoders copy into the response (every batch attempt's): zeroed
    // once the message is encoded, and the message itself once the transport has written it.
    const secrets: Uint8Array[] = [];
    const ctx: SchemaContext = { version, lenientUnknown: version.minor !== announced.minor, secrets };

    let header: RequestHeader;
    try {
      header = requestHeader.decode(headerNode!, ctx);
      checkHeader(header);
      if (header.authentication !== undefined) recordCredentials(header.authentication, clog);
    } catch (err) {
      const failure = toFailure(err);
      clog.info({ reason: failure.reason, detail: failure.detail ?? failure.message }, 'request header rejected');
      return { kind: 'reply', bytes: messageFailure(version, failure) };
    }

    const itemNodes = children.slice(1);
    const headerProblem = batchProblem(header, itemNodes);
    if (headerProblem !== undefined) {
      clog.info({ detail: headerProblem.message }, 'batch rejected');
      return { kind: 'reply', bytes: messageFailure(version, headerProblem, header) };
    }

    const outcomes = await runBatch(header, itemNodes, ctx, conn, clog);
    try {
      const bytes = encodeWithinLimit(ctx, header, outcomes);
      return secrets.length > 0 ? { kind: 'reply', bytes, sensitive: true } : { kind: 'reply', bytes };
    } finally {
      for (const s of secrets) s.fill(0);
    }
  }

  function checkHeader(header: RequestHeader): void {
    if (header.batchErrorContinuationOption !== undefined && !Object.values(Continuation).includes(header.batchErrorContinuationOption as never)) {
      throw new KmipError('InvalidField', 'Batch Error Continuation Option has an unknown value');
    }
    if (header.maximumResponseSize !== undefined && header.maximumResponseSize <= 0) {
      throw new KmipError('InvalidField', 'Maximum Response Size must be positive');
    }
  }

  function batchProblem(header: RequestHeader, items: TtlvNode[]): Failure | undefined {
    const bad = (message: string): Failure => ({ reason: Enum.ResultReason.InvalidMessage, message, level: 'info' });
    if (items.some((n) => n.tag !== Tag.BatchItem)) return bad('Request Message may only hold a Request Header and Batch Items');
    if (items.length === 0) return bad('Request Message has no Batch Item');
    if (header.batchCount !== items.length) return bad(`Batch Count is ${header.batchCount} but the message holds ${items.length} Batch Items`);
    if (items.length > limits.maxBatchCount) return bad(`Batch of ${items.length} items exceeds this server's limit of ${limits.maxBatchCount}`);
    return undefined;
  }

  async function runBatch(header: RequestHeader, itemNodes: TtlvNode[], schema: SchemaContext, conn: ConnectionInfo, clog: Logger): Promise<ItemOutcome[]> {
    const continuation = header.batchErrorContinuationOption ?? Continuation.Stop;
    const services = options.services;
    const access = options.access;
    const identity = access === undefined ? OPEN_IDENTITY : access.identify(conn.principal);
    const tenant = identity?.tenant ?? '';
    // A batch whose commit lost an optimistic race (another batch, or a KEK re-wrap, changed an
    // object it read) committed nothing, so it is run again from the start, a bounded number of times.
    let outcomes: ItemOutcome[] = [];
    for (let attempt = 1; ; attempt++) {
      let retry = false;
      // The unit of work is opened by the first handler that touches the store, so Query and
      // Discover Versions never start a transaction.
      // scope null (operators) must reach the store as null: `??` would turn it into the tenant.
      const opCtx = new BatchContext(schema, conn.principal, clog, clock, tenant, streams, services, identity === undefined ? tenant : identity.scope);

      // A critical extension we do not understand rejects the entire message (KMIP 1.4 §6.16, §11.1).
      const parsed = itemNodes.map((node) => {
        try {
          return { ok: true as const, item: requestBatchItem.decode(node, schema) };
        } catch (err) {
          return { ok: false as const, err, operation: peekOperation(node), id: peekBatchItemId(node) };
        }
      });
      const critical = parsed.some((p) => p.ok && p.item.messageExtension?.criticalityIndicator === true);

      outcomes = [];
      let stopped = false;
      for (const p of parsed) {
        const started = performance.now();
        if (stopped) break;
        if (!p.ok) {
          outcomes.push({ item: failureItem(p.operation, p.id, toFailure(p.err)), failed: true, operation: p.operation, started });
        } else if (identity === undefined) {
          const failure: Failure = { reason: Enum.ResultReason.AuthenticationNotSuccessful, message: 'The client certificate is not bound to any role', level: 'warn' };
          outcomes.push({ item: failureItem(p.item.operation, p.item.uniqueBatchItemId, failure), failed: true, operation: p.item.operation, started });
        } else if (critical) {
          const failure: Failure = { reason: Enum.ResultReason.FeatureNotSupported, message: 'Critical Message Extension not supported', level: 'info' };
          outcomes.push({ item: failureItem(p.item.operation, p.item.uniqueBatchItemId, failure), failed: true, operation: p.item.operation, started });
        } else {
          const decision = access?.authorize(identity, p.item.operation);
          if (decision !== undefined && !decision.allowed) {
            const failure: Failure = { reason: Enum.ResultReason.PermissionDenied, message: 'Permission denied', level: 'info', detail: decision.rule };
            clog.info({ op: p.item.operation, role: identity.role, rule: decision.rule }, 'operation denied');
            outcomes.push({ item: failureItem(p.item.operation, p.item.uniqueBatchItemId, failure), failed: true, operation: p.item.operation, started, decision, requestUids: uidsIn(p.item.requestPayload) });
          } else {
            const outcome = await runItem(p.item, opCtx, started, schema);
            outcome.decision = decision;
            outcome.requestUids = uidsIn(p.item.requestPayload);
            outcomes.push(outcome);
          }
        }
        const last = outcomes[outcomes.length - 1]!;
        if (last.failed && continuation !== Continuation.Continue) stopped = true;
      }

      const anyFailed = outcomes.some((o) => o.failed);
      if (anyFailed && continuation === Continuation.Undo) {
        opCtx.openedUnit?.rollback();
        for (const o of outcomes) {
          if (!o.failed) {
            o.item = { ...o.item, resultStatus: Status.OperationUndone, responsePayload: undefined };
          }
        }
      } else if (opCtx.openedUnit !== undefined) {
        try {
          await opCtx.openedUnit.commit();
        } catch (err) {
          if (err instanceof Error && err.name === 'StoreConflict' && attempt < MAX_BATCH_ATTEMPTS) {
            clog.info({ attempt }, 'batch lost a concurrent change; running it again');
            retry = true;
          } else {
            // Nothing the batch did is durable: no item may claim success.
            const failure = toFailure(err);
            logFailure(clog, failure, 'batch commit failed');
            for (const o of outcomes) if (!o.failed) o.item = failureItem(o.operation, o.item.uniqueBatchItemId, failure);
          }
        }
      }
      if (!retry) break;
    }

    const events: ItemEvent[] = outcomes.map((o, i) => ({
      conn,
      version: schema.version,
      identity,
      decision: o.decision,
      uids: [...new Set([...(o.requestUids ?? []), ...uidsIn(o.item.responsePayload)])],
      operation: o.operation,
      status: o.item.resultStatus,
      reason: o.item.resultReason,
      durationMs: performance.now() - o.started,
      batchIndex: i,
    }));
    for (const ev of events) options.onItem?.(ev);
    if (options.audit !== undefined) {
      try {
        await options.audit(events);
      } catch (err) {
        // The items already happened (and may be committed); the failure must be loud, not silent.
        clog.error({ err: err instanceof Error ? err.message : String(err) }, 'audit record could not be written');
      }
    }
    return outcomes;
  }

  async function runItem(item: ReturnType<typeof requestBatchItem.decode>, ctx: OperationContext, started: number, schema: SchemaContext): Promise<ItemOutcome> {
    const handler = handlers.get(item.operation);
    const ilog = ctx.log;
    if (handler === undefined) {
      const failure: Failure = { reason: Enum.ResultReason.OperationNotSupported, message: 'Operation not supported', level: 'info' };
      ilog.info({ op: item.operation }, 'operation not supported');
      return { item: failureItem(item.operation, item.uniqueBatchItemId, failure), failed: true, operation: item.operation, started };
    }
    try {
      const request = handler.request.decodeChildren(item.requestPayload ?? [], schema, Tag.RequestPayload);
      const result = await handler.handle(ctx, request);
      const payload = handler.response.encodeChildren(result, schema);
      return {
        item: {
          operation: item.operation,
          uniqueBatchItemId: item.uniqueBatchItemId,
          resultStatus: Status.Success,
          resultReason: undefined,
          resultMessage: undefined,
          asynchronousCorrelationValue: undefined,
          responsePayload: payload,
          messageExtension: undefined,
        },
        failed: false,
        operation: item.operation,
        started,
      };
    } catch (err) {
      const failure = toFailure(err);
      logFailure(ilog, failure, 'batch item failed', item.operation);
      return { item: failureItem(item.operation, item.uniqueBatchItemId, failure), failed: true, operation: item.operation, started };
    }
  }

  /** Encodes the response, failing items whose payload would push it past Maximum Response Size. */
  function encodeWithinLimit(ctx: SchemaContext, header: RequestHeader, outcomes: ItemOutcome[]): Buffer {
    const nodes = outcomes.map((o) => responseBatchItem.encode(Tag.BatchItem, o.item, ctx));
    const full = encodeResponse(ctx, header, nodes);
    const clientMax = header.maximumResponseSize;
    const max = clientMax === undefined ? limits.maxResponseBytes : Math.min(clientMax, limits.maxResponseBytes ?? clientMax);
    if (max === undefined || full.length <= max) return full;
    const tooLarge: Failure = { reason: Enum.ResultReason.ResponseTooLarge, message: `Response exceeds Maximum Response Size of ${max} bytes`, level: 'info' };
    const shrunk = outcomes.map((o) =>
      o.item.responsePayload !== undefined && o.item.responsePayload.length > 0
        ? responseBatchItem.encode(Tag.BatchItem, failureItem(o.operation, o.item.uniqueBatchItemId, tooLarge), ctx)
        : responseBatchItem.encode(Tag.BatchItem, o.item, ctx),
    );
    return encodeResponse(ctx, header, shrunk);
  }

  return { execute };
}

function logFailure(log: Logger, failure: Failure, msg: string, op?: number): void {
  log[failure.level]({ op, reason: failure.reason, detail: failure.detail ?? failure.message }, msg);
}

function failureItem(operation: number | undefined, id: Uint8Array | undefined, failure: Failure): ResponseBatchItem {
  return {
    operation,
    uniqueBatchItemId: id,
    resultStatus: Status.OperationFailed,
    resultReason: failure.reason,
    resultMessage: failure.message,
    asynchronousCorrelationValue: undefined,
    responsePayload: undefined,
    messageExtension: undefined,
  };
}

/** The Protocol Version inside a Request Header node, if it is well-formed. */
function readAnnouncedVersion(header: TtlvNode): KmipVersion | undefined {
  if (header.type !== 'Structure') return undefined;
  const pv = header.value.find((n) => n.tag === Tag.ProtocolVersion);
  if (pv === undefined) return undefined;
  try {
    const v = protocolVersion.decode(pv, { version: supportedVersions[0]! });
    return { major: v.major, minor: v.minor };
  } catch {
    return undefined;
  }
}

/** For a version we cannot speak, answer in the nearest one we can (the header stays readable). */
function fallbackVersion(v: KmipVersion | undefined): KmipVersion {
  if (v !== undefined && v.major < 1) return { major: 1, minor: 0 };
  if (v !== undefined && v.major === 1) return { major: 1, minor: 4 };
  return supportedVersions[0]!;
}

/**
 * Credentials in the request header (KMIP 1.4 §2.1.2, §6.6) are recorded, never trusted: the
 * verified client certificate alone is the principal. Only the credential types and a username
 * are logged; passwords, device secrets and attestation data never are.
 */
function recordCredentials(authentication: TtlvNode[], log: Logger): void {
  const credentials = authentication.filter((n): n is Extract<TtlvNode, { type: 'Structure' }> => n.tag === Tag.Credential && n.type === 'Structure');
  const types: (string | number)[] = [];
  let username: string | undefined;
  for (const c of credentials) {
    const type = c.value.find((n) => n.tag === Tag.CredentialType);
    if (type?.type === 'Enumeration') types.push(enumValueName('CredentialType', type.value) ?? type.value);
    const value = c.value.find((n) => n.tag === Tag.CredentialValue);
    const user = value?.type === 'Structure' ? value.value.find((n) => n.tag === Tag.Username) : undefined;
    if (user?.type === 'TextString') username ??= user.value.slice(0, 256);
  }
  log.info({ credentialTypes: types, username }, 'request header credentials recorded (the certificate remains the identity)');
}

/** Tags that name an object directly in a payload (Create Key Pair and Re-key Key Pair name two). */
const UID_TAGS: ReadonlySet<number> = new Set([Tag.UniqueIdentifier, Tag.PrivateKeyUniqueIdentifier, Tag.PublicKeyUniqueIdentifier]);

/** Unique Identifiers directly inside a payload (the objects an item names or returns). */
function uidsIn(payload: TtlvNode[] | undefined): string[] {
  const out: string[] = [];
  for (const n of payload ?? []) if (UID_TAGS.has(n.tag) && n.type === 'TextString') out.push(n.value);
  return out;
}

function peekOperation(node: TtlvNode): number | undefined {
  if (node.type !== 'Structure') return undefined;
  const op = node.value.find((n) => n.tag === Tag.Operation);
  return op?.type === 'Enumeration' ? op.value : undefined;
}

function peekBatchItemId(node: TtlvNode): Uint8Array | undefined {
  if (node.type !== 'Structure') return undefined;
  const id = node.value.find((n) => n.tag === Tag.UniqueBatchItemID);
  return id?.type === 'ByteString' ? id.value : undefined;
}

/**
 * When a message does not decode as a whole, its Request Header may still be readable: then the
 * client gets an Invalid Message response in its version instead of a dropped connection.
 */
function salvageVersion(message: Buffer): KmipVersion | undefined {
  try {
    if (message.length < 16 || message.readUIntBE(0, 3) !== Tag.RequestMessage || message[3] !== 0x01) return undefined;
    if (message.readUIntBE(8, 3) !== Tag.RequestHeader || message[11] !== 0x01) return undefined;
    const len = message.readUInt32BE(12);
    const end = 16 + len;
    if (end > message.length) return undefined;
    const header = decodeTtlv(message.subarray(8, end), { maxDepth: 4, maxSize: end });
    const v = readAnnouncedVersion(header);
    return v === undefined ? undefined : (negotiate(v) ?? fallbackVersion(v));
  } catch {
    return undefined;
  }
}
