// The message layer: header checks, versions, batches (KMIP 1.4 §6–7, §11.1), with test handlers.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { X509Certificate } from 'node:crypto';
import { createExecutor, type ExecutorOptions } from '../../../src/dispatch/executor.js';
import { createHandlerTable } from '../../../src/ops/index.js';
import { defineOperation, type OperationHandler, type OperationServices } from '../../../src/ops/types.js';
import type { UnitOfWork } from '../../../src/store/types.js';
import type { KeyProtector } from '../../../src/hsm/key-protector.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { KmipError } from '../../../src/kmip/errors.js';
import { struct, optional, textString } from '../../../src/kmip/schema.js';
import { encodeRequest, parseResponse, type BatchItemRequest } from '../../../src/client/request.js';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import type { ConnectionInfo } from '../../../src/dispatch/types.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';

const conn: ConnectionInfo = {
  id: 'c1',
  remoteAddress: '127.0.0.1',
  principal: { subject: 'CN=test', fingerprint: 'ab', certificate: {} as X509Certificate },
};
const log = pino({ level: 'silent' });
const v14 = { major: 1, minor: 4 };
const v21 = { major: 2, minor: 1 };
const limits = { maxMessageBytes: 1 << 20, maxDepth: 32, maxBatchCount: 64 };

// Test operations: "Create" succeeds and sets the ID placeholder to its Name; "Get" fails when asked,
// else echoes the placeholder. They stand for any handler; the executor must not care which.
const uidPayload = struct({ uid: optional(Tag.UniqueIdentifier, textString) });
function testTable(log: string[]) {
  const create: OperationHandler = defineOperation({
    operation: Enum.Operation.Create,
    request: uidPayload,
    response: uidPayload,
    async handle(ctx, req) {
      log.push(`create ${req.uid}`);
      void ctx.unit; // a writing operation opens the batch's unit of work
      ctx.idPlaceholder = req.uid;
      return { uid: req.uid };
    },
  });
  const get: OperationHandler = defineOperation({
    operation: Enum.Operation.Get,
    request: uidPayload,
    response: uidPayload,
    async handle(ctx, req) {
      const uid = req.uid ?? ctx.idPlaceholder;
      log.push(`get ${uid}`);
      if (uid === 'fail') throw new KmipError('ItemNotFound', 'no such object');
      if (uid === 'crash') throw new Error('internal detail /secret/path');
      return { uid };
    },
  });
  return createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 't' }, [create, get]);
}

// Only commit/rollback matter to the executor; the rest of the unit belongs to the store tests.
function fakeServices(commit: () => Promise<void>, rollback: () => void): OperationServices {
  return {
    openUnit: () => ({ commit, rollback }) as unknown as UnitOfWork,
    keys: {} as KeyProtector,
  };
}

function unitRecorder(events: string[]): OperationServices {
  return fakeServices(
    async () => {
      events.push('commit');
    },
    () => events.push('rollback'),
  );
}

const uidArg = (uid?: string): TtlvNode[] => (uid === undefined ? [] : [{ tag: Tag.UniqueIdentifier, type: 'TextString', value: uid }]);
const create = (uid: string): BatchItemRequest => ({ operation: Enum.Operation.Create, payload: uidArg(uid) });
const get = (uid?: string): BatchItemRequest => ({ operation: Enum.Operation.Get, payload: uidArg(uid) });

function makeExecutor(calls: string[] = [], extra: Partial<ExecutorOptions> = {}) {
  return createExecutor({ handlers: testTable(calls), limits, log, services: unitRecorder(calls), ...extra });
}

async function roundTrip(exec: ReturnType<typeof makeExecutor>, bytes: Buffer) {
  const res = await exec.execute(bytes, conn);
  expect(res.kind).toBe('reply');
  return parseResponse(res.bytes!);
}

const payloadUid = (p: TtlvNode[] | undefined) => p?.find((n) => n.tag === Tag.UniqueIdentifier)?.value;

describe('Discover Versions and Query', () => {
  it('lists every supported version, newest first, when the client offers none', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, [{ operation: Enum.Operation.DiscoverVersions, payload: [] }]));
    expect(res.header.protocolVersion).toEqual({ major: 1, minor: 4 });
    const item = res.batchItems[0]!;
    expect(item.resultStatus).toBe(Enum.ResultStatus.Success);
    const versions = item.responsePayload!.map((pv) => (pv as { value: TtlvNode[] }).value.map((n) => n.value).join('.'));
    expect(versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
  });

  it('answers only the versions both sides support', async () => {
    const pv = (major: number, minor: number): TtlvNode => ({
      tag: Tag.ProtocolVersion,
      type: 'Structure',
      value: [
        { tag: Tag.ProtocolVersionMajor, type: 'Integer', value: major },
        { tag: Tag.ProtocolVersionMinor, type: 'Integer', value: minor },
      ],
    });
    const res = await roundTrip(makeExecutor(), encodeRequest(v21, [{ operation: Enum.Operation.DiscoverVersions, payload: [pv(3, 0), pv(1, 2), pv(1, 1)] }]));
    expect(res.batchItems[0]!.responsePayload).toHaveLength(2);
  });

  it('Query Operations lists exactly the handler table', async () => {
    const table = testTable([]);
    const exec = createExecutor({ handlers: table, limits, log, services: unitRecorder([]) });
    const q = { operation: Enum.Operation.Query, payload: [{ tag: Tag.QueryFunction, type: 'Enumeration', value: Enum.QueryFunction.QueryOperations } as TtlvNode] };
    const res = await roundTrip(exec, encodeRequest(v14, [q]));
    const ops = res.batchItems[0]!.responsePayload!.filter((n) => n.tag === Tag.Operation).map((n) => Number(n.value));
    const byValue = (a: number, b: number) => a - b;
    expect(ops).toEqual([...table.keys()].sort(byValue));
    expect(ops).toEqual(expect.arrayContaining([Enum.Operation.Create, Enum.Operation.Get, Enum.Operation.Query, Enum.Operation.DiscoverVersions]));
  });
});

describe('Interop and Log (KMIP 2.1 §6.1.26, §6.1.29)', () => {
  const interopItem = (fn: number): BatchItemRequest => ({
    operation: Enum.Operation.Interop,
    payload: [
      { tag: Tag.InteropFunction, type: 'Enumeration', value: fn },
      { tag: Tag.InteropIdentifier, type: 'TextString', value: 'BL-M-1-21' },
    ],
  });

  it('Interop is not offered unless the deployment enables it', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest(v21, [interopItem(Enum.InteropFunction.Begin)]));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.OperationNotSupported);
    const on = createExecutor({ handlers: createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 't', interop: true }), limits, log });
    const ok = await roundTrip(on, encodeRequest(v21, [interopItem(Enum.InteropFunction.Begin), interopItem(Enum.InteropFunction.End)]));
    expect(ok.batchItems.map((i) => i.resultStatus)).toEqual([Enum.ResultStatus.Success, Enum.ResultStatus.Success]);
    const bad = await roundTrip(on, encodeRequest(v21, [interopItem(77)]));
    expect(bad.batchItems[0]!.resultReason).toBe(Enum.ResultReason.InvalidField);
  });

  it('Log answers an empty payload and requires the message', async () => {
    const ok = await roundTrip(makeExecutor(), encodeRequest(v21, [{ operation: Enum.Operation.Log, payload: [{ tag: Tag.LogMessage, type: 'TextString', value: 'hello' }] }]));
    expect(ok.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.Success);
    expect(ok.batchItems[0]!.responsePayload).toEqual([]);
    const missing = await roundTrip(makeExecutor(), encodeRequest(v21, [{ operation: Enum.Operation.Log, payload: [] }]));
    expect(missing.batchItems[0]!.resultReason).toBe(Enum.ResultReason.MissingData);
  });
});

describe('request header and versions', () => {
  it('rejects an unknown major version with Invalid Message and no Operation', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest({ major: 3, minor: 0 }, [get('a')]));
    expect(res.header.protocolVersion).toEqual({ major: 2, minor: 1 });
    const item = res.batchItems[0]!;
    expect(item.operation).toBeUndefined();
    expect(item.resultStatus).toBe(Enum.ResultStatus.OperationFailed);
    expect(item.resultReason).toBe(Enum.ResultReason.InvalidMessage);
  });

  it('processes a newer minor of a known major in our newest minor', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest({ major: 1, minor: 9 }, [get('a')]));
    expect(res.header.protocolVersion).toEqual({ major: 1, minor: 4 });
    expect(res.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.Success);
  });

  it('rejects a Batch Count that does not match the items', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, [get('a'), get('b')], { batchCount: 3 }));
    expect(res.batchItems).toHaveLength(1);
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.InvalidMessage);
  });

  it('rejects batches over the configured limit', async () => {
    const exec = makeExecutor([], { limits: { ...limits, maxBatchCount: 2 } });
    const res = await roundTrip(exec, encodeRequest(v14, [get('a'), get('b'), get('c')]));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.InvalidMessage);
  });

  it('echoes the Client Correlation Value in 1.4 and leaves it out for 1.3', async () => {
    const r14 = await roundTrip(makeExecutor(), encodeRequest(v14, [get('a')], { clientCorrelationValue: 'corr-1' }));
    expect(r14.header.clientCorrelationValue).toBe('corr-1');
    const r13 = await roundTrip(makeExecutor(), encodeRequest({ major: 1, minor: 3 }, [get('a')]));
    expect(r13.header.clientCorrelationValue).toBeUndefined();
  });

  it('answers an unknown field in the exact version with Invalid Field', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, [{ operation: Enum.Operation.Get, payload: [{ tag: Tag.ObjectGroup, type: 'TextString', value: 'x' }] }]));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.InvalidField);
  });

  it('rejects every item when one carries a critical Message Extension', async () => {
    const ext = { vendorIdentification: 'acme', criticalityIndicator: true, vendorExtension: { tag: Tag.VendorExtension, type: 'Structure', value: [] } as TtlvNode };
    const calls: string[] = [];
    const res = await roundTrip(makeExecutor(calls), encodeRequest(v14, [create('a'), { ...get('a'), messageExtension: ext }], { batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Continue }));
    expect(res.batchItems.map((i) => i.resultReason)).toEqual([Enum.ResultReason.FeatureNotSupported, Enum.ResultReason.FeatureNotSupported]);
    expect(calls.filter((c) => c.startsWith('create') || c.startsWith('get'))).toEqual([]);
  });
});

describe('batches', () => {
  it('echoes Unique Batch Item IDs and carries the ID Placeholder', async () => {
    const items = [
      { ...create('k1'), uniqueBatchItemId: Buffer.from([1]) },
      { ...get(), uniqueBatchItemId: Buffer.from([2]) },
    ];
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, items));
    expect(res.batchItems.map((i) => Buffer.from(i.uniqueBatchItemId!).toString('hex'))).toEqual(['01', '02']);
    expect(payloadUid(res.batchItems[1]!.responsePayload)).toBe('k1');
  });

  it('Stop (the default): nothing after the failure runs, completed items stay committed', async () => {
    const calls: string[] = [];
    const res = await roundTrip(makeExecutor(calls), encodeRequest(v14, [create('a'), get('fail'), create('b')]));
    expect(res.header.batchCount).toBe(2);
    expect(res.batchItems.map((i) => i.resultStatus)).toEqual([Enum.ResultStatus.Success, Enum.ResultStatus.OperationFailed]);
    expect(res.batchItems[1]!.resultReason).toBe(Enum.ResultReason.ItemNotFound);
    expect(calls).toEqual(['create a', 'get fail', 'commit']);
  });

  it('Continue: later items run after a failure', async () => {
    const calls: string[] = [];
    const res = await roundTrip(makeExecutor(calls), encodeRequest(v14, [get('fail'), create('b')], { batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Continue }));
    expect(res.batchItems.map((i) => i.resultStatus)).toEqual([Enum.ResultStatus.OperationFailed, Enum.ResultStatus.Success]);
    expect(calls).toEqual(['get fail', 'create b', 'commit']);
  });

  it('a batch that never touches the store opens no unit of work', async () => {
    const calls: string[] = [];
    await roundTrip(makeExecutor(calls), encodeRequest(v14, [get('a')]));
    expect(calls).toEqual(['get a']);
  });

  it('Undo: earlier items are rolled back and reported as Operation Undone', async () => {
    const calls: string[] = [];
    const res = await roundTrip(makeExecutor(calls), encodeRequest(v14, [create('a'), get('fail')], { batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Undo }));
    expect(res.batchItems.map((i) => i.resultStatus)).toEqual([Enum.ResultStatus.OperationUndone, Enum.ResultStatus.OperationFailed]);
    expect(res.batchItems[0]!.responsePayload).toBeUndefined();
    expect(calls).toEqual(['create a', 'get fail', 'rollback']);
  });

  it('a failed commit turns every successful item into a failure', async () => {
    const exec = createExecutor({
      handlers: testTable([]),
      limits,
      log,
      services: fakeServices(
        async () => {
          throw new Error('disk full');
        },
        () => {},
      ),
    });
    const res = await roundTrip(exec, encodeRequest(v14, [create('a')]));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.GeneralFailure);
    expect(res.batchItems[0]!.resultMessage).not.toContain('disk');
  });

  it('a batch that loses an optimistic race is run again, and succeeds', async () => {
    const calls: string[] = [];
    let commits = 0;
    const conflictOnce = fakeServices(
      async () => {
        commits++;
        calls.push('commit');
        if (commits === 1) throw Object.assign(new Error('version moved'), { name: 'StoreConflict' });
      },
      () => calls.push('rollback'),
    );
    const exec = createExecutor({ handlers: testTable(calls), limits, log, services: conflictOnce });
    const res = await roundTrip(exec, encodeRequest(v14, [create('a')]));
    expect(res.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.Success);
    expect(calls).toEqual(['create a', 'commit', 'create a', 'commit']);
  });

  it('a batch that keeps losing the race fails after a bounded number of attempts', async () => {
    let commits = 0;
    const alwaysConflict = fakeServices(
      async () => {
        commits++;
        throw Object.assign(new Error('version moved'), { name: 'StoreConflict' });
      },
      () => {},
    );
    const exec = createExecutor({ handlers: testTable([]), limits, log, services: alwaysConflict });
    const res = await roundTrip(exec, encodeRequest(v14, [create('a')]));
    expect(res.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.OperationFailed);
    expect(commits).toBe(3);
  });

  it('unknown operations answer Operation Not Supported', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, [{ operation: Enum.Operation.Poll, payload: [] }]));
    expect(res.batchItems[0]!.operation).toBe(Enum.Operation.Poll);
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.OperationNotSupported);
  });

  it('an internal error reaches the client as General Failure without its text', async () => {
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, [get('crash')]));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.GeneralFailure);
    expect(res.batchItems[0]!.resultMessage).not.toContain('secret');
  });

  it('Maximum Response Size: items that would not fit fail with Response Too Large', async () => {
    const big = 'x'.repeat(500);
    const res = await roundTrip(makeExecutor(), encodeRequest(v14, [create(big)], { maximumResponseSize: 200 }));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.ResponseTooLarge);
    const ok = await roundTrip(makeExecutor(), encodeRequest(v14, [create(big)], { maximumResponseSize: 4096 }));
    expect(ok.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.Success);
  });

  it('the server ceiling applies even when the client sets none, and a client cannot raise it', async () => {
    const capped = makeExecutor([], { limits: { ...limits, maxResponseBytes: 300 } });
    const big = 'x'.repeat(500);
    const none = await roundTrip(capped, encodeRequest(v14, [create(big)]));
    expect(none.batchItems[0]!.resultReason).toBe(Enum.ResultReason.ResponseTooLarge);
    const raised = await roundTrip(capped, encodeRequest(v14, [create(big)], { maximumResponseSize: 1 << 20 }));
    expect(raised.batchItems[0]!.resultReason).toBe(Enum.ResultReason.ResponseTooLarge);
  });
});

describe('malformed input', () => {
  it('a message that is not TTLV at all closes the connection', async () => {
    const res = await makeExecutor().execute(Buffer.from('GET / HTTP/1.1\r\n\r\n'), conn);
    expect(res.kind).toBe('close');
  });

  it('a broken payload behind a readable header gets Invalid Message in the client version', async () => {
    const good = encodeRequest({ major: 1, minor: 2 }, [get('abc')]);
    const bad = Buffer.from(good);
    bad[bad.length - 1] = 0x41; // non-zero padding in the last Text String
    const res = await makeExecutor().execute(bad, conn);
    expect(res.kind).toBe('reply');
    const parsed = parseResponse(res.bytes!);
    expect(parsed.header.protocolVersion).toEqual({ major: 1, minor: 2 });
    expect(parsed.batchItems[0]!.resultReason).toBe(Enum.ResultReason.InvalidMessage);
  });

  it('a structure that is not a Request Message closes the connection', async () => {
    const res = await makeExecutor().execute(encodeTtlv({ tag: Tag.ResponseMessage, type: 'Structure', value: [] }), conn);
    expect(res.kind).toBe('close');
  });

  it('a wrong item type in the header answers Invalid Message', async () => {
    const tree = decodeTtlv(encodeRequest(v14, [get('a')]));
    const header = (tree as { value: TtlvNode[] }).value[0] as { value: TtlvNode[] };
    header.value = header.value.map((n) => (n.tag === Tag.BatchCount ? ({ tag: n.tag, type: 'TextString', value: '1' } as TtlvNode) : n));
    const res = await roundTrip(makeExecutor(), encodeTtlv(tree));
    expect(res.batchItems[0]!.resultReason).toBe(Enum.ResultReason.InvalidMessage);
  });
});

describe('Query Objects by version', () => {
  it('lists Template in 1.4 but not in 2.1 (removed in 2.0)', async () => {
    const q = { operation: Enum.Operation.Query, payload: [{ tag: Tag.QueryFunction, type: 'Enumeration', value: Enum.QueryFunction.QueryObjects } as TtlvNode] };
    const types = async (v: { major: number; minor: number }) =>
      (await roundTrip(makeExecutor(), encodeRequest(v, [q]))).batchItems[0]!.responsePayload!.filter((n) => n.tag === Tag.ObjectType).map((n) => n.value);
    expect(await types(v14)).toContain(Enum.ObjectType.Template);
    const v2 = await types(v21);
    expect(v2).toContain(Enum.ObjectType.SymmetricKey);
    expect(v2).not.toContain(Enum.ObjectType.Template);
  });
});

describe('header credentials (KMIP 1.4 §6.6)', () => {
  it('are accepted and recorded by username, never with the password, and never replace the certificate', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const credential: TtlvNode = {
      tag: Tag.Credential,
      type: 'Structure',
      value: [
        { tag: Tag.CredentialType, type: 'Enumeration', value: Enum.CredentialType.UsernameAndPassword },
        {
          tag: Tag.CredentialValue,
          type: 'Structure',
          value: [
            { tag: Tag.Username, type: 'TextString', value: 'tape-operator' },
            { tag: Tag.Password, type: 'TextString', value: 'hunter2-secret' },
          ],
        },
      ],
    };
    const seen: string[] = [];
    const whoAmI = defineOperation({
      operation: Enum.Operation.Get,
      request: uidPayload,
      response: uidPayload,
      async handle(ctx) {
        seen.push(ctx.principal.subject);
        return { uid: 'x' };
      },
    });
    const exec = createExecutor({ handlers: createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 't' }, [whoAmI]), limits, log: capture });
    const res = await roundTrip(exec, encodeRequest(v14, [get('a')], { authentication: [credential] }));
    expect(res.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.Success);
    expect(seen).toEqual(['CN=test']);
    const log = lines.join('');
    expect(log).toContain('tape-operator');
    expect(log).toContain('UsernameAndPassword');
    expect(log).not.toContain('hunter2-secret');
  });
});

describe('logging per connection', () => {
  it('makes one child logger per connection, not one per message, and its lines carry the connection id', async () => {
    const lines: string[] = [];
    const root = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const children: unknown[] = [];
    const counting = new Proxy(root, {
      get(target, prop, receiver) {
        if (prop === 'child') return (bindings: object) => (children.push(bindings), target.child(bindings));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const exec = makeExecutor([], { log: counting });
    const other: ConnectionInfo = { ...conn, id: 'c2' };
    const failing = encodeRequest(v14, [get('fail')]);
    for (const c of [conn, conn, other, conn, other]) await exec.execute(failing, c);
    expect(children).toEqual([{ conn: 'c1' }, { conn: 'c2' }]);
    const failed = lines.map((l) => JSON.parse(l) as { conn?: string; msg: string }).filter((l) => l.msg === 'batch item failed');
    expect(failed.map((l) => l.conn)).toEqual(['c1', 'c1', 'c2', 'c1', 'c2']);
  });
});

describe('secret material in responses', () => {
  // A Get whose response encoder puts a secret into the response and lists it in ctx.secrets, as
  // zeroAfterEncode does with the copies of key material it encodes.
  function secretTable(secret: Uint8Array) {
    const codec = struct({ uid: optional(Tag.UniqueIdentifier, textString) });
    const get: OperationHandler = defineOperation({
      operation: Enum.Operation.Get,
      request: codec,
      response: {
        ...codec,
        encodeChildren(value, ctx) {
          ctx.secrets?.push(secret);
          return [...codec.encodeChildren(value, ctx), { tag: Tag.KeyMaterial, type: 'ByteString', value: secret }];
        },
      },
      async handle(_ctx, req) {
        return { uid: req.uid };
      },
    });
    return createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 't' }, [get]);
  }

  it('zeroes what the encoders listed once the message is encoded, and marks the reply sensitive', async () => {
    const secret = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]);
    const ex = createExecutor({ handlers: secretTable(secret), limits, log });
    const res = await ex.execute(encodeRequest(v14, [get('k')]), conn);
    if (res.kind !== 'reply') throw new Error('expected a reply');
    expect(res.sensitive).toBe(true);
    expect(res.bytes.includes(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]))).toBe(true);
    expect([...secret].every((b) => b === 0)).toBe(true);
  });

  it('a reply without secrets is not marked', async () => {
    const res = await makeExecutor().execute(encodeRequest(v14, [get('k')]), conn);
    if (res.kind !== 'reply') throw new Error('expected a reply');
    expect(res.sensitive).toBeUndefined();
  });
});
