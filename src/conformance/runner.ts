/**
 * The conformance engine: runs OASIS KMIP test-case files (KMIP Profiles v1.4 / v2.1 test cases,
 * KMIP Test Cases v1.4) against a live server and decides PASS / FAIL / SKIP per file.
 *
 * Per file: one connection; each request is built from its XML with placeholders and captures
 * substituted (placeholders.ts, vector-file.ts), sent as binary TTLV, and the response decoded and
 * compared with the expected one (compare.ts, rules.ts). The first difference ends the file.
 *
 * State that outlives a file:
 *  - which objects hold server-generated (random) material, by actual identifier: a key created
 *    in SASED-M-2 and read in SASED-M-3 is still random there (rules.ts uses this);
 *  - objects a passing file leaves for the next file of the same test case group. The vectors
 *    chain within a group (SASED-M-3 and TL-M-3 use what SASED-M-2 and TL-M-2 left), so clean-up
 *    of a file's leftovers waits until its group ends or a file of the group fails; otherwise
 *    every file is followed by Destroy (after Revoke when Destroy is refused) of each object it
 *    created or bound and did not destroy itself, errors ignored.
 */
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import type { StructureNode, TtlvNode } from '../ttlv/types.js';
import { Enum, Tag, tagLabel } from '../kmip/registry.js';
import { xmlToTtlv, type XmlValueSite } from '../kmip/encodings/xml.js';
import { buildRequest, parseResponse } from '../client/request.js';
import { compareResponse, type Difference } from './compare.js';
import { Bindings, leafText, literalKey, nowText, parsePlaceholder, sameLeaf, type LeafNode } from './placeholders.js';
import { DERIVING_OPERATIONS, GENERATING_OPERATIONS, IDENTIFIER_TAGS, operationName, type ItemContext } from './rules.js';
import { convertExpected, loadVectorFile, type VectorFile } from './vector-file.js';

export type Verdict = 'pass' | 'fail' | 'skip';

export interface FileResult {
  readonly path: string;
  readonly id: string;
  readonly verdict: Verdict;
  /** Requests sent (the failing one included). */
  readonly requests: number;
  readonly durationMs: number;
  /**
   * First difference, for failures found by comparison, with the request number and the
   * operation of the batch item it is in.
   */
  readonly difference?: Difference & { readonly request: number; readonly operation?: string };
  /** Why the file failed (every failure) or was skipped, as one line. */
  readonly message?: string;
}

export interface RunReport {
  readonly files: readonly FileResult[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly startedAt: string;
  readonly durationMs: number;
}

/**
 * What the runner needs of a connection: src/client/connection.ts provides it over mutual TLS
 * (KMIP 1.4 §10: whole TTLV messages, one response per request, in order); tests use fakes.
 */
export interface KmipConnection {
  /** Sends one whole request message; resolves with the next whole response message. */
  send(message: Buffer): Promise<Buffer>;
  close(): unknown;
}

export interface RunnerOptions {
  /** Opens a fresh connection to the server under test. */
  connect: () => Promise<KmipConnection>;
  /** How far a `$NOW` in a response may stray outside the run, for clock skew. Default 300 s. */
  clockSkewSeconds?: number;
  /** Clock, in milliseconds since the epoch (tests fix it). */
  now?: () => number;
  onFileStart?: (file: string, index: number, total: number) => void;
  onFileDone?: (result: FileResult, index: number, total: number) => void;
}

/** Operations that bring a new object into being; the runner cleans up after them. */
const CREATING_OPERATIONS: ReadonlySet<string> = new Set([
  'Create',
  'CreateKeyPair',
  'Register',
  'ReKey',
  'ReKeyKeyPair',
  'DeriveKey',
  'CreateSplitKey',
  'JoinSplitKey',
  'Certify',
  'ReCertify',
  'Import',
]);

/** The test-case group of a file: `SASED-M-2-14` → `SASED-M`, within its directory. */
export function groupOf(file: string): string {
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  const base = file.slice(slash + 1).replace(/\.xml$/i, '');
  return `${file.slice(0, slash + 1)}${base.replace(/-\d+-\d+$/, '')}`;
}

/** Thrown while building a request from its XML; the message becomes the failure line. */
class RequestBuildError extends Error {}

export class ConformanceRunner {
  readonly #options: RunnerOptions;
  readonly #now: () => number;
  readonly #skew: bigint;
  /** Actual identifiers of objects whose material the server generated. */
  readonly #random = new Set<string>();
  /** Objects a passing file left for the next file of its group, with that file's version. */
  #carried = new Set<string>();
  #carriedVersion = { major: 1, minor: 4 };
  #runStartMs = 0;

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#skew = BigInt(options.clockSkewSeconds ?? 300);
  }

  async runFiles(files: readonly string[]): Promise<RunReport> {
    this.#runStartMs = this.#now();
    const results: FileResult[] = [];
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      this.#options.onFileStart?.(file, i, files.length);
      const next = files[i + 1];
      const result = await this.runFile(loadVectorFile(file), next !== undefined && groupOf(next) === groupOf(file));
      results.push(result);
      this.#options.onFileDone?.(result, i, files.length);
    }
    return {
      files: results,
      passed: results.filter((r) => r.verdict === 'pass').length,
      failed: results.filter((r) => r.verdict === 'fail').length,
      skipped: results.filter((r) => r.verdict === 'skip').length,
      startedAt: new Date(this.#runStartMs).toISOString(),
      durationMs: this.#now() - this.#runStartMs,
    };
  }

  /**
   * Runs one analysed file. `handOver`: the next file belongs to the same group, so objects this
   * file leaves (when it passes) are kept for it instead of being destroyed now.
   */
  async runFile(vf: VectorFile, handOver = false): Promise<FileResult> {
    if (this.#runStartMs === 0) this.#runStartMs = this.#now();
    const started = this.#now();
    const owned = new Set(this.#carried);
    const destroyed = new Set<string>();
    const version = vf.skip === undefined ? vf.version : this.#carriedVersion;
    let conn: KmipConnection | undefined;
    let result: Omit<FileResult, 'durationMs'>;

    if (vf.skip !== undefined) {
      result = { path: vf.path, id: vf.id, verdict: 'skip', requests: 0, message: vf.skip };
    } else {
      let connectError = '';
      try {
        conn = await this.#options.connect();
      } catch (err) {
        connectError = messageOf(err);
      }
      if (conn === undefined) {
        result = { path: vf.path, id: vf.id, verdict: 'fail', requests: 0, message: `cannot connect to the server: ${connectError}` };
      } else {
        const outcome = await this.#steps(vf, conn, owned, destroyed);
        if (outcome.broken) {
          conn.close();
          conn = undefined;
        }
        result = { path: vf.path, id: vf.id, ...outcome.result };
      }
    }

    const leftovers = [...owned].filter((uid) => !destroyed.has(uid));
    if (handOver && result.verdict !== 'fail') {
      this.#carried = new Set(leftovers);
      this.#carriedVersion = version;
    } else {
      this.#carried = new Set();
      if (leftovers.length > 0) await this.#cleanUp(conn, leftovers, version);
    }
    conn?.close();
    return { ...result, durationMs: this.#now() - started };
  }

  async #steps(
    vf: VectorFile,
    conn: KmipConnection,
    owned: Set<string>,
    destroyed: Set<string>,
  ): Promise<{ result: Pick<FileResult, 'verdict' | 'requests' | 'difference' | 'message'>; broken: boolean }> {
    const bindings = new Bindings();
    const fail = (request: number, message: string, broken = false) => ({
      result: { verdict: 'fail' as const, requests: request, message: `request ${request}: ${message}` },
      broken,
    });

    for (const step of vf.steps) {
      let request: TtlvNode;
      const replayed: LeafNode[] = [];
      try {
        request = xmlToTtlv(step.request, { mapValue: (text, site) => this.#substitute(text, site, bindings, replayed) });
      } catch (err) {
        return fail(step.index, err instanceof RequestBuildError ? err.message : `cannot build the request: ${messageOf(err)}`);
      }
      let responseBytes: Buffer;
      try {
        responseBytes = await conn.send(encodeTtlv(request));
      } catch (err) {
        return fail(step.index, `no response: ${messageOf(err)}`, true);
      }
      let actual: TtlvNode;
      try {
        actual = decodeTtlv(responseBytes);
      } catch (err) {
        return fail(step.index, `the response is not valid TTLV: ${messageOf(err)}`, true);
      }

      const contexts = this.#itemContexts(request, actual, owned, destroyed, replayed);
      rememberLatest(actual, bindings);
      const nowSeconds = BigInt(Math.floor(this.#now() / 1000));
      const window = { fromSeconds: BigInt(Math.floor(this.#runStartMs / 1000)) - this.#skew, toSeconds: nowSeconds + this.#skew };
      const difference = compareResponse(convertExpected(step.response, vf.captures), actual, bindings, window, contexts);
      for (const id of bindings.identifiers.values()) if (id.type === 'TextString') owned.add(id.value);
      if (difference) {
        const operation = operationAt(request, difference.path);
        return {
          result: {
            verdict: 'fail',
            requests: step.index,
            difference: { request: step.index, ...(operation !== undefined && { operation }), ...difference },
            message: formatDifference(step.index, difference),
          },
          broken: false,
        };
      }
    }
    return { result: { verdict: 'pass', requests: vf.steps.length }, broken: false };
  }

  /**
   * The XML value hook for requests: placeholders and captured literals. Values that came from an
   * earlier response (captures, server-value placeholders) are added to `replayed`.
   */
  #substitute(text: string, site: XmlValueSite, bindings: Bindings, replayed: LeafNode[]): string {
    const p = parsePlaceholder(text);
    if (p === undefined) {
      const key = literalKey(site.type, text);
      const captured = key === undefined ? undefined : bindings.captures.get(key);
      if (captured === undefined || captured.type !== site.type) return text;
      replayed.push(captured);
      return leafText(captured);
    }
    if (p.kind === 'now') {
      const value = nowText(site.type, p.offsetSeconds, this.#now());
      if (value === undefined) throw new RequestBuildError(`${site.path}: ${text} on a ${site.type}`);
      return value;
    }
    let bound: LeafNode | undefined;
    if (p.kind === 'identifier') {
      bound = bindings.identifiers.get(p.text);
      if (bound === undefined) throw new RequestBuildError(`${site.path}: ${p.text} is used before any response bound it`);
    } else {
      bound = bindings.serverValues.get(p.text);
      if (bound === undefined) {
        // Never bound by a placeholder: the value of this tag in the latest response that had one.
        bound = bindings.latestByTag.get(site.tag);
        if (bound === undefined) throw new RequestBuildError(`${site.path}: ${p.text} has no value: no earlier response carries ${tagLabel(site.tag)}`);
        bindings.serverValues.set(p.text, bound);
      }
    }
    if (bound.type !== site.type) throw new RequestBuildError(`${site.path}: ${p.text} holds a ${bound.type}, used as a ${site.type}`);
    if (p.kind === 'server-value') replayed.push(bound);
    return leafText(bound);
  }

  /**
   * Per actual batch item: the context the rules need, and the run's bookkeeping (objects
   * created, destroyed, holding random material). Items are processed in order, so an item that
   * uses the ID placeholder sees what the previous item of the batch produced.
   */
  #itemContexts(request: TtlvNode, actual: TtlvNode, owned: Set<string>, destroyed: Set<string>, replayed: readonly LeafNode[]): ItemContext[] {
    const requestItems = childrenOf(request, Tag.BatchItem);
    const responseItems = childrenOf(actual, Tag.BatchItem);
    const contexts: ItemContext[] = [];
    let previousResult: string[] = [];
    responseItems.forEach((responseItem, k) => {
      const requestItem = matchRequestItem(requestItems, responseItem, k);
      const opNode = (requestItem && child(requestItem, Tag.Operation)) ?? child(responseItem, Tag.Operation);
      const operation = opNode?.type === 'Enumeration' ? operationName(opNode.value) : undefined;
      const requestPayload = requestItem && structureChild(requestItem, Tag.RequestPayload);
      const responsePayload = structureChild(responseItem, Tag.ResponsePayload);
      let requestIds = identifiersIn(requestPayload, true);
      // No identifier in the request: the ID Placeholder, i.e. the previous item's result (1.4 §4).
      if (requestIds.length === 0) requestIds = previousResult;
      const resultIds = identifiersIn(responsePayload, false);
      const status = child(responseItem, Tag.ResultStatus);
      const succeeded = status?.type === 'Enumeration' && status.value === Enum.ResultStatus.Success;

      contexts.push({
        operation,
        randomMaterial: [...requestIds, ...resultIds].some((id) => this.#random.has(id)),
        serverChoseIv:
          operation === 'Encrypt' && child(requestPayload, Tag.IVCounterNonce) === undefined && child(responsePayload, Tag.IVCounterNonce) !== undefined,
        requestData: requestDataOrigin(child(requestPayload, Tag.Data), replayed),
        requestPayload,
      });

      if (succeeded && operation !== undefined) {
        const derivedFromRandom = DERIVING_OPERATIONS.has(operation) && requestIds.some((id) => this.#random.has(id));
        if (GENERATING_OPERATIONS.has(operation) || derivedFromRandom) for (const id of resultIds) this.#random.add(id);
        if (CREATING_OPERATIONS.has(operation)) for (const id of resultIds) owned.add(id);
        if (operation === 'Destroy') for (const id of [...resultIds, ...requestIds]) destroyed.add(id);
      }
      previousResult = resultIds;
    });
    return contexts;
  }

  /** Destroys the objects, revoking first where Destroy is refused. Errors are ignored. */
  async #cleanUp(conn: KmipConnection | undefined, uids: readonly string[], version: { major: number; minor: number }): Promise<void> {
    let c = conn;
    try {
      c ??= await this.#options.connect();
    } catch {
      return;
    }
    const send = async (operation: number, payload: TtlvNode[]): Promise<boolean> => {
      const bytes = encodeTtlv(buildRequest(version, [{ operation, payload }]));
      const response = parseResponse(await c.send(bytes));
      return response.batchItems[0]?.resultStatus === Enum.ResultStatus.Success;
    };
    for (const uid of uids) {
      const id: TtlvNode = { tag: Tag.UniqueIdentifier, type: 'TextString', value: uid };
      try {
        if (await send(Enum.Operation.Destroy, [id])) continue;
        const reason: TtlvNode = {
          tag: Tag.RevocationReason,
          type: 'Structure',
          value: [{ tag: Tag.RevocationReasonCode, type: 'Enumeration', value: Enum.RevocationReasonCode.CessationOfOperation }],
        };
        await send(Enum.Operation.Revoke, [id, reason]);
        await send(Enum.Operation.Destroy, [id]);
      } catch {
        // Clean-up is best effort: a broken connection or an odd response ends nothing but itself.
      }
    }
    if (c !== conn) c.close();
  }
}

export function formatDifference(request: number, d: Difference): string {
  const where = d.path === '' ? '' : ` ${d.path}`;
  return `request ${request}${where}: expected ${d.expected} got ${d.actual}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function child(node: TtlvNode | undefined, tag: number): TtlvNode | undefined {
  return node?.type === 'Structure' ? node.value.find((c) => c.tag === tag) : undefined;
}

function structureChild(node: TtlvNode, tag: number): StructureNode | undefined {
  const c = child(node, tag);
  return c?.type === 'Structure' ? c : undefined;
}

function childrenOf(node: TtlvNode, tag: number): StructureNode[] {
  return node.type === 'Structure' ? node.value.filter((c): c is StructureNode => c.tag === tag && c.type === 'Structure') : [];
}

/** The request item a response item answers: same Unique Batch Item ID, else same position. */
function matchRequestItem(requestItems: readonly StructureNode[], responseItem: StructureNode, k: number): StructureNode | undefined {
  const id = child(responseItem, Tag.UniqueBatchItemID);
  if (id?.type === 'ByteString') {
    const hex = Buffer.from(id.value).toString('hex');
    const found = requestItems.find((r) => {
      const rid = child(r, Tag.UniqueBatchItemID);
      return rid?.type === 'ByteString' && Buffer.from(rid.value).toString('hex') === hex;
    });
    if (found) return found;
  }
  return requestItems[k];
}

/** Text identifiers under a payload: its direct children, or (deep) every nested one. */
function identifiersIn(payload: StructureNode | undefined, deep: boolean): string[] {
  const out: string[] = [];
  const visit = (n: TtlvNode): void => {
    if (n.type === 'TextString' && IDENTIFIER_TAGS.has(n.tag)) out.push(n.value);
    else if (n.type === 'Structure' && deep) n.value.forEach(visit);
  };
  payload?.value.forEach(visit);
  return out;
}

/** The operation of the request batch item a difference path points into (`BatchItem[2]/...`). */
function operationAt(request: TtlvNode, diffPath: string): string | undefined {
  const m = /^BatchItem(?:\[(\d+)\])?(?:\/|$)/.exec(diffPath);
  if (!m) return undefined;
  const item = childrenOf(request, Tag.BatchItem)[Number(m[1] ?? '1') - 1];
  const op = item && child(item, Tag.Operation);
  return op?.type === 'Enumeration' ? operationName(op.value) : undefined;
}

/** Records every leaf of every response payload by tag, latest last. */
function rememberLatest(actual: TtlvNode, bindings: Bindings): void {
  const visit = (n: TtlvNode): void => {
    if (n.type === 'Structure') n.value.forEach(visit);
    else bindings.latestByTag.set(n.tag, n);
  };
  for (const item of childrenOf(actual, Tag.BatchItem)) {
    const payload = structureChild(item, Tag.ResponsePayload);
    if (payload) visit(payload);
  }
}

/** Whether a request's Data is a literal of the file or a value replayed from an earlier response. */
function requestDataOrigin(data: TtlvNode | undefined, replayed: readonly LeafNode[]): ItemContext['requestData'] {
  if (data === undefined || data.type === 'Structure') return 'none';
  return replayed.some((r) => sameLeaf(r, data)) ? 'replayed' : 'literal';
}
