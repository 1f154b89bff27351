// The conformance engine against an in-memory server: substitution of placeholders, $NOW offsets,
// capture and replay, tracking of generated keys, clean-up and hand-over (src/conformance/runner.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConformanceRunner, groupOf, type RunnerOptions } from '../../../src/conformance/runner.js';
import { parseVectorFile } from '../../../src/conformance/vector-file.js';
import { formatDateTime } from '../../../src/kmip/encodings/lexical.js';
import { Tag } from '../../../src/kmip/registry.js';
import {
  FakeKmip,
  tempDir,
  attr,
  bytes,
  date,
  en,
  failed,
  findDeep,
  ok,
  operationOf,
  req,
  reqItem,
  resp,
  symmetricKey,
  text,
  uid,
  vector,
} from './fake-kmip.js';
import type { StructureNode } from '../../../src/ttlv/index.js';

const T = Date.UTC(2024, 4, 1, 12, 0, 0);
const clock = (): number => T;

function runner(server: FakeKmip, extra: Partial<RunnerOptions> = {}): ConformanceRunner {
  return new ConformanceRunner({ connect: server.connect, now: clock, ...extra });
}

const name = (n: string): string => attr('Name', `<AttributeValue><NameValue type="TextString" value="${n}"/>${en('NameType', 'UninterpretedTextString')}</AttributeValue>`);
const createReq = (n = 'k'): string => req(reqItem('Create', en('ObjectType', 'SymmetricKey') + `<TemplateAttribute>${name(n)}</TemplateAttribute>`));
const createResp = (ph = '$UNIQUE_IDENTIFIER_0'): string => resp([ok('Create', en('ObjectType', 'SymmetricKey') + uid(ph))]);
const registerReq = (material: string, n = 'r'): string => req(reqItem('Register', en('ObjectType', 'SymmetricKey') + `<TemplateAttribute>${name(n)}</TemplateAttribute>` + symmetricKey(material)));
const registerResp = (ph = '$UNIQUE_IDENTIFIER_0'): string => resp([ok('Register', uid(ph))]);
const destroyReq = (ph = '$UNIQUE_IDENTIFIER_0'): string => req(reqItem('Destroy', uid(ph)));
const destroyResp = (ph = '$UNIQUE_IDENTIFIER_0'): string => resp([ok('Destroy', uid(ph))]);

function file(id: string, ...messages: string[]): ReturnType<typeof parseVectorFile> {
  return parseVectorFile(vector(...messages), `/v/${id}.xml`);
}

describe('placeholders in requests', () => {
  it('sends the identifier the server returned', async () => {
    const server = new FakeKmip({ now: clock });
    const r = await runner(server).runFile(file('SKLC-M-1-14', createReq(), createResp(), destroyReq(), destroyResp()));
    expect(r).toMatchObject({ verdict: 'pass', requests: 2 });
    expect(findDeep(server.requests[1], Tag.UniqueIdentifier)).toMatchObject({ value: 'fake-1' });
  });

  it('fails a request that uses an identifier no response bound', async () => {
    const r = await runner(new FakeKmip({ now: clock })).runFile(file('X-M-1-14', destroyReq('$UNIQUE_IDENTIFIER_3'), destroyResp('$UNIQUE_IDENTIFIER_3')));
    expect(r).toMatchObject({ verdict: 'fail', message: expect.stringMatching(/^request 1: .*\$UNIQUE_IDENTIFIER_3 is used before any response bound it/) });
  });

  it('writes $NOW with its offset', async () => {
    const server = new FakeKmip({ now: clock });
    const activate = req(reqItem('AddAttribute', uid('$UNIQUE_IDENTIFIER_0') + attr('Activation Date', date('AttributeValue', '$NOW-3600'))));
    await runner(server).runFile(file('X-M-1-14', createReq(), createResp(), activate, resp([failed('AddAttribute', 'OperationNotSupported')])));
    expect(findDeep(server.requests[1], Tag.AttributeValue)).toEqual({ tag: Tag.AttributeValue, type: 'DateTime', value: BigInt(T / 1000 - 3600) });
  });
});

describe('capture and replay', () => {
  // CS-BC-M-13-14 in small: Encrypt without an IV, the vector shows the IV and ciphertext it
  // recorded; Decrypt replays the ciphertext as a literal, then as $DATA_0 with $IV_COUNTER_NONCE.
  const encrypt = req(reqItem('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '0102')));
  const encrypted = resp([ok('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'e768203b') + bytes('IVCounterNonce', 'FF020304'))]);
  const decryptLiteral = req(reqItem('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'e768203b')));
  const decryptPlaceholders = req(reqItem('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '$DATA_0') + bytes('IVCounterNonce', '$IV_COUNTER_NONCE')));
  const decrypted = resp([ok('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '0102'))]);

  it('replays what the server actually sent in place of the recorded literal', async () => {
    const server = new FakeKmip({ now: clock });
    const r = await runner(server).runFile(file('CS-BC-M-13-14', registerReq('00112233445566778899aabbccddeeff'), registerResp(), encrypt, encrypted, decryptLiteral, decrypted));
    expect(r).toMatchObject({ verdict: 'pass' });
    const sent = findDeep(server.requests[2], Tag.Data);
    expect(sent?.type === 'ByteString' && server.ciphertexts.has(Buffer.from(sent.value).toString('hex'))).toBe(true);
  });

  it('resolves unbound $NAME placeholders from the latest response carrying that tag', async () => {
    const server = new FakeKmip({ now: clock });
    const r = await runner(server).runFile(file('CS-BC-M-13-14', registerReq('00112233445566778899aabbccddeeff'), registerResp(), encrypt, encrypted, decryptPlaceholders, decrypted));
    expect(r).toMatchObject({ verdict: 'pass' });
    // The IV the server chose in its Encrypt response is the one the Decrypt request carries.
    const chosen = findDeep(server.responses[1], Tag.IVCounterNonce);
    expect(chosen).toBeDefined();
    expect(findDeep(server.requests[2], Tag.IVCounterNonce)).toEqual(chosen);
  });

  it('without the server-chosen-IV leniency the random ciphertext is a difference', async () => {
    const withIv = req(reqItem('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '0102') + bytes('IVCounterNonce', '00000000')));
    const r = await runner(new FakeKmip({ now: clock })).runFile(file('X-M-1-14', registerReq('00112233'), registerResp(), withIv, resp([ok('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'e768203b'))])));
    expect(r).toMatchObject({ verdict: 'fail', difference: { request: 2, path: 'BatchItem/ResponsePayload/Data' } });
  });
});

describe('generated keys', () => {
  const get = req(reqItem('Get', uid('$UNIQUE_IDENTIFIER_0')));
  const got = resp([ok('Get', en('ObjectType', 'SymmetricKey') + uid('$UNIQUE_IDENTIFIER_0') + symmetricKey('00000000000000000000000000000000'))]);

  it('accepts any key material for a key the server created', async () => {
    const r = await runner(new FakeKmip({ now: clock })).runFile(file('X-M-1-14', createReq(), createResp(), get, got, destroyReq(), destroyResp()));
    expect(r.verdict).toBe('pass');
  });

  it('compares key material of a registered key', async () => {
    const r = await runner(new FakeKmip({ now: clock })).runFile(file('X-M-1-14', registerReq('11111111111111111111111111111111'), registerResp(), get, got));
    expect(r).toMatchObject({ verdict: 'fail', difference: { path: 'BatchItem/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/KeyMaterial' } });
  });

  it('remembers generated keys across files', async () => {
    const server = new FakeKmip({ now: clock });
    const run = runner(server);
    await run.runFile(file('SASED-M-2-14', createReq('kept'), createResp()), true);
    const locate = req(reqItem('Locate', name('kept')));
    const r = await run.runFile(file('SASED-M-3-14', locate, resp([ok('Locate', uid('$UNIQUE_IDENTIFIER_0'))]), get, got, destroyReq(), destroyResp()));
    expect(r.verdict).toBe('pass');
  });
});

describe('Decrypt under a generated key (CS-BC-M-2)', () => {
  const activate = req(reqItem('Activate', uid('$UNIQUE_IDENTIFIER_0')));
  const activated = resp([ok('Activate', uid('$UNIQUE_IDENTIFIER_0'))]);
  const decrypted = resp([ok('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '01020304'))]);
  /** A server whose Decrypt answers `plain` for any ciphertext it did not produce itself. */
  const server = (plain: string) =>
    new FakeKmip({ now: clock, handle: (op, payload, s) => {
      if (op !== 'Decrypt') return undefined;
      const data = findDeep(payload, Tag.Data);
      const hex = data?.type === 'ByteString' ? Buffer.from(data.value).toString('hex') : '';
      const id = findDeep(payload, Tag.UniqueIdentifier);
      return ok('Decrypt', uid(id?.type === 'TextString' ? id.value : '') + bytes('Data', s.ciphertexts.get(hex) ?? plain));
    } });

  it('accepts any plaintext for the vendor’s literal ciphertext', async () => {
    const decrypt = req(reqItem('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'fd912d10')));
    const r = await runner(server('99999999')).runFile(file('CS-BC-M-2-14', createReq(), createResp(), activate, activated, decrypt, decrypted));
    expect(r.verdict).toBe('pass');
  });

  it('still compares the plaintext of a ciphertext replayed from this run’s Encrypt', async () => {
    const encrypt = req(reqItem('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '01020304') + bytes('IVCounterNonce', '00000000')));
    const encrypted = resp([ok('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'e768203b'))]);
    const decrypt = req(reqItem('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'e768203b')));
    const honest = await runner(server('99999999')).runFile(file('X-M-1-14', createReq(), createResp(), activate, activated, encrypt, encrypted, decrypt, decrypted));
    expect(honest.verdict).toBe('pass');
    // A server that decrypts its own ciphertext wrongly is caught.
    const liar = server('99999999');
    liar.ciphertexts.set = function (k: string) {
      return Map.prototype.set.call(this, k, '99999999') as Map<string, string>;
    };
    const r = await runner(liar).runFile(file('X-M-1-14', createReq(), createResp(), activate, activated, encrypt, encrypted, decrypt, decrypted));
    expect(r).toMatchObject({ verdict: 'fail', difference: { request: 4, path: 'BatchItem/ResponsePayload/Data' } });
  });
});

describe('clean-up', () => {
  it('destroys what a file created and left, and only that', async () => {
    const server = new FakeKmip({ now: clock });
    server.objects.set('other', { material: '', state: 'PreActive' });
    const r = await runner(server).runFile(
      file('X-M-1-14', createReq('a'), createResp('$UNIQUE_IDENTIFIER_0'), createReq('b'), createResp('$UNIQUE_IDENTIFIER_1'), destroyReq('$UNIQUE_IDENTIFIER_1'), destroyResp('$UNIQUE_IDENTIFIER_1')),
    );
    expect(r.verdict).toBe('pass');
    expect([...server.objects.keys()]).toEqual(['other']);
    const ops = server.requests.map((q) => operationOf((q as StructureNode).value[1] as StructureNode));
    expect(ops).toEqual(['Create', 'Create', 'Destroy', 'Destroy']);
  });

  it('revokes first when Destroy is refused, and ignores errors', async () => {
    const server = new FakeKmip({ now: clock });
    const activate = req(reqItem('Activate', uid('$UNIQUE_IDENTIFIER_0')));
    const r = await runner(server).runFile(file('X-M-1-14', createReq(), createResp(), activate, resp([ok('Activate', uid('$UNIQUE_IDENTIFIER_0'))])));
    expect(r.verdict).toBe('pass');
    expect(server.objects.size).toBe(0);
    const ops = server.requests.map((q) => operationOf((q as StructureNode).value[1] as StructureNode));
    expect(ops.slice(2)).toEqual(['Destroy', 'Revoke', 'Destroy']);
  });

  it('cleans up after a failing file too, including objects it never bound', async () => {
    const server = new FakeKmip({ now: clock });
    const r = await runner(server).runFile(file('X-M-1-14', createReq(), resp([failed('Create', 'PermissionDenied')])));
    expect(r.verdict).toBe('fail');
    expect(server.objects.size).toBe(0);
  });

  it('hands objects to the next file of the same group, and cleans up when the group ends', async () => {
    const dir = tempDir('kmipd-k4-');
    const write = (id: string, ...m: string[]): string => {
      const p = path.join(dir, `${id}.xml`);
      writeFileSync(p, vector(...m));
      return p;
    };
    const locate = req(reqItem('Locate', name('tape')));
    const files = [
      write('TL-M-2-14', createReq('tape'), createResp()),
      write('TL-M-3-14', locate, resp([ok('Locate', uid('$UNIQUE_IDENTIFIER_0'))])),
      write('SKLC-M-1-14', locate, resp([ok('Locate', '')])),
    ];
    const server = new FakeKmip({ now: clock });
    const report = await runner(server).runFiles(files);
    expect(report.files.map((f) => f.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(server.objects.size).toBe(0);
    expect(groupOf(files[0]!)).toBe(groupOf(files[1]!));
  });
});

describe('verdicts', () => {
  it('skips what cannot be run and fails on connection errors', async () => {
    const put = file('TC-NP-1-14', createReq(), createResp(), req(reqItem('Put', uid('$UNIQUE_IDENTIFIER_0'))), resp([ok('Put', '')]));
    expect((await runner(new FakeKmip()).runFile(put)).verdict).toBe('skip');
    const broken = new ConformanceRunner({ connect: () => Promise.reject(new Error('ECONNREFUSED')), now: clock });
    expect(await broken.runFile(file('X-M-1-14', createReq(), createResp()))).toMatchObject({ verdict: 'fail', message: 'cannot connect to the server: ECONNREFUSED' });
  });

  it('fails on a response that is not TTLV', async () => {
    const r = new ConformanceRunner({ connect: async () => ({ send: async () => Buffer.from('not ttlv'), close: () => undefined }), now: clock });
    expect(await r.runFile(file('X-M-1-14', createReq(), createResp()))).toMatchObject({ verdict: 'fail', message: expect.stringMatching(/^request 1: the response is not valid TTLV/) });
  });

  it('stops at the first difference and formats it', async () => {
    const server = new FakeKmip({ now: clock });
    const wrong = resp([ok('Create', en('ObjectType', 'SecretData') + uid('$UNIQUE_IDENTIFIER_0'))]);
    const r = await runner(server).runFile(file('X-M-1-14', createReq(), wrong, destroyReq(), destroyResp()));
    expect(r.message).toBe('request 1 BatchItem/ResponsePayload/ObjectType: expected SecretData got SymmetricKey');
    expect(server.requests.length).toBe(2); // the Create, then clean-up's Destroy
  });

  it('gives identical verdicts on a second run (no state leaks between runs)', async () => {
    const server = new FakeKmip({ now: clock });
    const messages = [createReq(), createResp(), req(reqItem('Get', uid('$UNIQUE_IDENTIFIER_0'))), resp([ok('Get', en('ObjectType', 'SymmetricKey') + uid('$UNIQUE_IDENTIFIER_0') + symmetricKey('00'))])];
    const first = await runner(server).runFile(file('X-M-1-14', ...messages));
    const second = await runner(server).runFile(file('X-M-1-14', ...messages));
    expect(second).toEqual({ ...first, durationMs: second.durationMs });
    expect(server.objects.size).toBe(0);
  });

  it('ignores the response time stamp only within the run window', async () => {
    const late = new FakeKmip({ now: () => T + 3_600_000 });
    const r = await runner(late).runFile(file('X-M-1-14', createReq(), createResp()));
    expect(r).toMatchObject({ verdict: 'fail', difference: { path: 'ResponseHeader/TimeStamp', actual: formatDateTime(BigInt(T / 1000 + 3600)) } });
  });

  it('accepts a server correlation value it was not told about', async () => {
    const r = await runner(new FakeKmip({ now: clock, header: text('ServerCorrelationValue', 'srv-42') })).runFile(file('X-M-1-14', createReq(), createResp()));
    expect(r.verdict).toBe('pass');
  });
});
