/**
 * `kmipd ttlv decode | encode`: read and write binary TTLV (KMIP 1.4 §9.1, 2.1 §9.1) through the
 * text, JSON and XML forms of KMIP Additional Message Encodings v1.0 (§4.1 JSON, §6.1 XML).
 *
 *   kmipd ttlv decode [--format text|json|xml] [--elide-bytes] <hex | file | ->
 *   kmipd ttlv encode --from xml|json <file | ->
 *
 * Decode input is hex on the command line (whitespace ignored), a file holding hex or raw binary,
 * or `-` for stdin; hex is recognised by content (raw TTLV always starts with a 0x42 tag byte
 * followed by non-hex bytes). Encode prints one hex line per message, so an OASIS vector file
 * (`<KMIP>` with several messages) gives one line per request and response.
 * Output and errors go through each command's commander output configuration (exitOverride and
 * configureOutput), so tests run the commands in process.
 */
import { Command, Option } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { decodeTtlv, encodeTtlv, TtlvError, type TtlvNode } from '../ttlv/index.js';
import { jsonTextToTtlv, jsonToTtlv, ttlvToJsonText } from '../kmip/encodings/json.js';
import { ttlvToText } from '../kmip/encodings/text.js';
import { ttlvToXml, xmlDocumentElements, xmlToTtlv } from '../kmip/encodings/xml.js';

const DECODE_FORMATS = ['text', 'json', 'xml'] as const;
const ENCODE_FORMATS = ['xml', 'json'] as const;
type DecodeFormat = (typeof DECODE_FORMATS)[number];
type EncodeFormat = (typeof ENCODE_FORMATS)[number];

function print(cmd: Command, text: string): void {
  const out = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
  out(`${text}\n`);
}

/**
 * Reports a failure on stderr and exits 1 (or throws CommanderError under exitOverride). The
 * commands turn off help-after-error: a bad message is not a usage mistake.
 */
function fail(cmd: Command, message: string, code: string): never {
  cmd.error(`error: ${message}`, { exitCode: 1, code });
  throw new Error(message); // unreachable: error() exits or throws
}

function describeError(err: unknown): string {
  if (err instanceof TtlvError) {
    // The code and offset are what the user needs; TtlvError's message normally starts with them.
    const where = `${err.code} at offset ${err.offset}`;
    return err.message.startsWith(where) ? err.message : `${where}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function readSource(input: string): Promise<Buffer | undefined> {
  if (input === '-') return readStdin();
  if (existsSync(input) && statSync(input).isFile()) return readFileSync(input);
  return undefined;
}

const HEX_TEXT = /^[\s0-9a-fA-F]*$/;

/** TTLV bytes from hex text (whitespace ignored) or raw binary; a string if the hex is malformed. */
function ttlvBytes(data: Buffer): Uint8Array | string {
  const text = data.toString('latin1');
  if (!HEX_TEXT.test(text)) return data;
  const digits = text.replace(/\s+/g, '');
  if (digits.length === 0) return 'no input';
  if (digits.length % 2 !== 0) return `odd number of hex digits (${digits.length})`;
  return Buffer.from(digits, 'hex');
}

function render(node: TtlvNode, format: DecodeFormat, elideBytes: boolean): string {
  switch (format) {
    case 'text':
      return ttlvToText(node, { elideBytes });
    case 'json':
      return ttlvToJsonText(node);
    case 'xml':
      return ttlvToXml(node);
  }
}

function parseMessages(text: string, from: EncodeFormat): TtlvNode[] {
  if (from === 'xml') return xmlDocumentElements(text).map((el) => xmlToTtlv(el));
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const list: unknown = JSON.parse(trimmed);
    return (list as unknown[]).map((item) => jsonToTtlv(item));
  }
  return [jsonTextToTtlv(text)];
}

export function registerTtlvCommands(program: Command): void {
  const ttlv = program.command('ttlv').description('decode and encode binary TTLV messages');

  ttlv
    .command('decode')
    .description('print a binary TTLV message as a tree, JSON or XML')
    .showHelpAfterError(false)
    .addOption(new Option('-f, --format <format>', 'output form').choices(DECODE_FORMATS).default('text'))
    .option('--elide-bytes', 'print byte strings and big integers as their length (text form)', false)
    .argument('<input>', 'hex digits, a file holding hex or raw binary, or - for stdin')
    .action(async (input: string, opts: { format: DecodeFormat; elideBytes: boolean }, cmd: Command) => {
      const data = (await readSource(input)) ?? (HEX_TEXT.test(input) ? Buffer.from(input, 'latin1') : undefined);
      if (data === undefined) fail(cmd, `${JSON.stringify(input)} is neither a file nor hex`, 'kmipd.ttlv.input');
      const bytes = ttlvBytes(data);
      if (typeof bytes === 'string') fail(cmd, `bad hex input: ${bytes}`, 'kmipd.ttlv.input');
      let node: TtlvNode;
      try {
        node = decodeTtlv(bytes);
      } catch (err) {
        fail(cmd, `TTLV decode failed: ${describeError(err)}`, 'kmipd.ttlv.decode');
      }
      let text: string;
      try {
        text = render(node, opts.format, opts.elideBytes);
      } catch (err) {
        fail(cmd, describeError(err), 'kmipd.ttlv.render');
      }
      print(cmd, text);
    });

  ttlv
    .command('encode')
    .description('encode KMIP XML or JSON messages as binary TTLV, one hex line per message')
    .showHelpAfterError(false)
    .addOption(new Option('--from <format>', 'input form').choices(ENCODE_FORMATS).makeOptionMandatory())
    .argument('<input>', 'a file, or - for stdin')
    .action(async (input: string, opts: { from: EncodeFormat }, cmd: Command) => {
      const data = await readSource(input);
      if (data === undefined) fail(cmd, `cannot read ${JSON.stringify(input)}`, 'kmipd.ttlv.input');
      let lines: string[];
      try {
        lines = parseMessages(data.toString('utf8'), opts.from).map((m) => encodeTtlv(m).toString('hex'));
      } catch (err) {
        fail(cmd, `${opts.from.toUpperCase()} encode failed: ${describeError(err)}`, 'kmipd.ttlv.encode');
      }
      if (lines.length === 0) fail(cmd, 'no messages in the input', 'kmipd.ttlv.input');
      print(cmd, lines.join('\n'));
    });
}
