// `kmipd ttlv decode | encode`, run in process through buildProgram() with commander's output and
// exit captured. Messages are the MSGENC-XML-M-1-10 request of KMIP Additional Message Encodings
// v1.0 §7.1.1, whose XML and hex the spec prints side by side.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CommanderError, type Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import { hex } from '../../support/hex.js';
import { QUERY_REQUEST_HEX_LINES, QUERY_REQUEST_XML } from '../../support/msgenc-examples.js';

const REQUEST_HEX = QUERY_REQUEST_HEX_LINES.join('');

const REQUEST_TEXT = `RequestMessage (Structure)
  RequestHeader (Structure)
    ProtocolVersion (Structure)
      ProtocolVersionMajor (Integer) 1
      ProtocolVersionMinor (Integer) 0
    MaximumResponseSize (Integer) 256
    BatchCount (Integer) 1
  BatchItem (Structure)
    Operation (Enumeration) Query
    RequestPayload (Structure)
      QueryFunction (Enumeration) QueryOperations
      QueryFunction (Enumeration) QueryObjects
`;

interface Run {
  out: string;
  err: string;
  exitCode: number;
}

async function run(args: string[], stdin?: string | Buffer): Promise<Run> {
  const result: Run = { out: '', err: '', exitCode: 0 };
  const program = buildProgram();
  const capture = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => void (result.out += s), writeErr: (s) => void (result.err += s) });
    c.commands.forEach(capture);
  };
  capture(program);
  if (stdin !== undefined) {
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from([Buffer.from(stdin)]) as unknown as typeof process.stdin);
  }
  try {
    await program.parseAsync(['node', 'kmipd', ...args]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    result.exitCode = err.exitCode;
  }
  return result;
}

const dir = mkdtempSync(path.join(tmpdir(), 'kmipd-ttlv-cli-'));
const file = (name: string, content: string | Uint8Array): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kmipd ttlv decode', () => {
  it('prints the tree of hex given on the command line, whitespace ignored', async () => {
    const r = await run(['ttlv', 'decode', QUERY_REQUEST_HEX_LINES.join(' \n ')]);
    expect(r).toEqual({ out: REQUEST_TEXT, err: '', exitCode: 0 });
  });

  it('prints XML and JSON', async () => {
    expect((await run(['ttlv', 'decode', '--format', 'xml', REQUEST_HEX])).out).toBe(`${QUERY_REQUEST_XML}\n`);
    const json = JSON.parse((await run(['ttlv', 'decode', '-f', 'json', REQUEST_HEX])).out) as { tag: string; value: unknown[] };
    expect(json.tag).toBe('RequestMessage');
    expect(json.value[1]).toEqual({
      tag: 'BatchItem',
      value: [
        { tag: 'Operation', type: 'Enumeration', value: 'Query' },
        {
          tag: 'RequestPayload',
          value: [
            { tag: 'QueryFunction', type: 'Enumeration', value: 'QueryOperations' },
            { tag: 'QueryFunction', type: 'Enumeration', value: 'QueryObjects' },
          ],
        },
      ],
    });
  });

  it('reads a file of hex, a file of raw binary, and stdin', async () => {
    expect((await run(['ttlv', 'decode', file('request.hex', QUERY_REQUEST_HEX_LINES.join('\n'))])).out).toBe(REQUEST_TEXT);
    expect((await run(['ttlv', 'decode', file('request.bin', hex(REQUEST_HEX))])).out).toBe(REQUEST_TEXT);
    expect((await run(['ttlv', 'decode', '-'], `${REQUEST_HEX}\n`)).out).toBe(REQUEST_TEXT);
    expect((await run(['ttlv', 'decode', '-'], Buffer.from(hex(REQUEST_HEX)))).out).toBe(REQUEST_TEXT);
  });

  it('elides byte strings on request', async () => {
    // KeyMaterial (0x420043) ByteString of 4 bytes.
    const r = await run(['ttlv', 'decode', '--elide-bytes', '420043 08 00000004 01020304 00000000']);
    expect(r.out).toBe('KeyMaterial (ByteString) ByteString[4 bytes]\n');
  });

  it('reports a TTLV error with its code and offset and exits 1', async () => {
    const r = await run(['ttlv', 'decode', REQUEST_HEX.slice(0, 40)]);
    expect(r.exitCode).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/TTLV decode failed: \w+ at offset \d+/);
    const padding = await run(['ttlv', 'decode', '42000d 02 00000004 00000001 000000ff']);
    expect(padding.exitCode).toBe(1);
    expect(padding.err).toContain('NonZeroPadding at offset');
  });

  it('rejects input that is neither a file nor hex, odd hex, and unknown formats', async () => {
    const missing = await run(['ttlv', 'decode', path.join(dir, 'no-such-file.bin')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain('is neither a file nor hex');
    const odd = await run(['ttlv', 'decode', '420']);
    expect(odd.exitCode).toBe(1);
    expect(odd.err).toContain('odd number of hex digits');
    const format = await run(['ttlv', 'decode', '--format', 'yaml', REQUEST_HEX]);
    expect(format.exitCode).toBe(1);
    expect(format.err).toContain('yaml');
  });
});

describe('kmipd ttlv encode', () => {
  it('encodes an XML message to the spec hex', async () => {
    const r = await run(['ttlv', 'encode', '--from', 'xml', file('request.xml', QUERY_REQUEST_XML)]);
    expect(r).toEqual({ out: `${REQUEST_HEX}\n`, err: '', exitCode: 0 });
  });

  it('prints one line per message of a <KMIP> vector document', async () => {
    const doc = `<KMIP>\n<!-- two requests -->\n${QUERY_REQUEST_XML}\n${QUERY_REQUEST_XML}\n</KMIP>\n`;
    expect((await run(['ttlv', 'encode', '--from', 'xml', file('doc.xml', doc)])).out).toBe(`${REQUEST_HEX}\n${REQUEST_HEX}\n`);
  });

  it('encodes JSON from stdin, one object or an array of them', async () => {
    const json = (await run(['ttlv', 'decode', '--format', 'json', REQUEST_HEX])).out;
    expect((await run(['ttlv', 'encode', '--from', 'json', '-'], json)).out).toBe(`${REQUEST_HEX}\n`);
    expect((await run(['ttlv', 'encode', '--from', 'json', '-'], `[${json},${json}]`)).out).toBe(`${REQUEST_HEX}\n${REQUEST_HEX}\n`);
  });

  it('reports conversion errors with the element path and exits 1', async () => {
    const bad = QUERY_REQUEST_XML.replace('value="Query"/>', 'value="Nope"/>');
    const r = await run(['ttlv', 'encode', '--from', 'xml', file('bad.xml', bad)]);
    expect(r.exitCode).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('/RequestMessage/BatchItem/Operation');
    const missing = await run(['ttlv', 'encode', '--from', 'xml', path.join(dir, 'absent.xml')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain('cannot read');
    const noFrom = await run(['ttlv', 'encode', file('x.xml', QUERY_REQUEST_XML)]);
    expect(noFrom.exitCode).toBe(1);
    expect(noFrom.err).toContain('--from');
  });
});
