// Framing on the wire (KMIP 1.4 §9.1.1 TTLV, §10 transport): messages split into arbitrary
// pieces or packed several per write are answered in order; input that cannot be framed ends the
// connection cleanly without reaching the executor; nothing a client sends crashes the server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { TtlvFramer } from '../../../src/ttlv/framer.js';
import type { ExecutorResult, MessageExecutor } from '../../../src/dispatch/types.js';
import { echoExecutor } from '../../support/test-executors.js';
import { rawTls, sleep, startTestServer, waitFor } from '../../support/kmip-test-server.js';
import type { TestServer } from '../../support/kmip-test-server.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { numberOf, numberedMessage, structureHeader, testMessage } from '../../support/ttlv-messages.js';

let pki: TestPki;
let t: TestServer;
const executor = echoExecutor();

beforeAll(async () => {
  pki = makeTestPki();
  t = await startTestServer({ pki, executor });
});
afterAll(async () => {
  await t.close();
  pki.cleanup();
});

/** After every case, the server still serves a well-behaved client. */
afterEach(async () => {
  const c = await t.client();
  const m = testMessage(16);
  expect((await c.send(m)).equals(m)).toBe(true);
  await c.close();
});

interface Observed {
  messages: Buffer[];
  ended: boolean;
  error: string | undefined;
  closed: Promise<void>;
}

function observe(s: TLSSocket): Observed {
  const framer = new TtlvFramer({ maxMessageSize: 1 << 24 });
  const o: Observed = { messages: [], ended: false, error: undefined, closed: Promise.resolve() };
  s.on('data', (d: Buffer) => o.messages.push(...framer.push(d)));
  s.on('end', () => {
    o.ended = true;
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    o.error = e.code ?? e.message;
  });
  o.closed = new Promise((r) => s.once('close', () => r()));
  return o;
}

const connect = (): Promise<TLSSocket> => rawTls(t.port, pki, { cert: pki.client.cert, key: pki.client.key });

/** TLS over a TCP socket we hold, so the test can reset the TCP connection underneath. */
async function connectOverTcp(port: number): Promise<{ tcp: Socket; tls: TLSSocket }> {
  const tcp = netConnect(port, '127.0.0.1');
  tcp.on('error', () => {});
  await once(tcp, 'connect');
  const tls = tlsConnect({ socket: tcp, servername: 'localhost', ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key });
  tls.on('error', () => {});
  await once(tls, 'secureConnect');
  return { tcp, tls };
}

function write(s: TLSSocket, b: Buffer): Promise<void> {
  return new Promise((r, j) => s.write(b, (err) => (err ? j(err) : r())));
}

describe('framing', () => {
  it('answers a message that arrives one byte per write', async () => {
    const s = await connect();
    s.setNoDelay(true);
    const o = observe(s);
    const msg = testMessage(100, 0x5a);
    for (const byte of msg) await write(s, Buffer.of(byte));
    await waitFor(() => o.messages.length === 1);
    expect(o.messages[0]!.equals(msg)).toBe(true);
    s.destroy();
  });

  it('answers every message of one write, in order', async () => {
    const s = await connect();
    const o = observe(s);
    const batch = Buffer.concat(Array.from({ length: 50 }, (_, i) => numberedMessage(i)));
    await write(s, batch);
    await waitFor(() => o.messages.length === 50);
    expect(o.messages.map(numberOf)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    s.destroy();
  });

  it('answers messages split at every offset across writes', async () => {
    const s = await connect();
    const o = observe(s);
    const a = numberedMessage(1);
    const b = numberedMessage(2);
    const both = Buffer.concat([a, b]);
    for (let cut = 1; cut < both.length; cut += 3) {
      await write(s, both.subarray(0, cut));
      await sleep(1);
      await write(s, both.subarray(cut));
    }
    const expected = Math.ceil((both.length - 1) / 3) * 2;
    await waitFor(() => o.messages.length === expected);
    expect(o.messages.map(numberOf)).toEqual(Array.from({ length: expected }, (_, i) => (i % 2) + 1));
    s.destroy();
  });

  it('closes cleanly on a declared length over the limit, without waiting for the body', async () => {
    const calls = executor.calls;
    const s = await connect();
    const o = observe(s);
    await write(s, structureHeader(2 * 1024 * 1024)); // 2 MiB declared, 1 MiB allowed; no body follows
    await o.closed;
    expect(o.ended).toBe(true); // a FIN after TLS close_notify, not a reset
    expect(o.error).toBeUndefined();
    expect(o.messages).toHaveLength(0);
    expect(executor.calls).toBe(calls);
    expect(t.logs.some((l) => l.msg === 'framing error; closing connection' && l.code === 'TooLarge')).toBe(true);
  });

  it('closes cleanly on bytes that are not TTLV', async () => {
    const calls = executor.calls;
    const s = await connect();
    const o = observe(s);
    await write(s, Buffer.from('GET / HTTP/1.1\r\nHost: kmip\r\n\r\n'));
    await o.closed;
    expect(o.ended).toBe(true);
    expect(o.error).toBeUndefined();
    expect(executor.calls).toBe(calls);
    expect(t.logs.some((l) => l.msg === 'framing error; closing connection' && l.code === 'UnexpectedType')).toBe(true);
  });

  it('answers the messages before the bad bytes, then closes', async () => {
    const s = await connect();
    const o = observe(s);
    await write(s, Buffer.concat([numberedMessage(7), numberedMessage(8)]));
    await waitFor(() => o.messages.length === 2);
    await write(s, Buffer.alloc(16, 0xff));
    await o.closed;
    expect(o.messages.map(numberOf)).toEqual([7, 8]);
    expect(o.ended).toBe(true);
  });

  it('still answers requests sent before the client half-closed', async () => {
    const s = await connect();
    const o = observe(s);
    s.end(Buffer.concat([numberedMessage(1), numberedMessage(2), numberedMessage(3)]));
    await o.closed;
    expect(o.messages.map(numberOf)).toEqual([1, 2, 3]);
  });

  it('survives a client that resets in the middle of a message', async () => {
    const { tcp, tls } = await connectOverTcp(t.port);
    await write(tls, testMessage(64).subarray(0, 30));
    tcp.resetAndDestroy();
    await waitFor(() => t.server.connections === 0);
  });

  it('survives a client that resets while its request executes', async () => {
    let slowCalls = 0;
    const slow: MessageExecutor = {
      execute: (m) => {
        slowCalls++;
        return new Promise<ExecutorResult>((r) => setTimeout(() => r({ kind: 'reply', bytes: m }), 100));
      },
    };
    const t2 = await startTestServer({ pki, executor: slow });
    try {
      const { tcp, tls } = await connectOverTcp(t2.port);
      await write(tls, testMessage(64));
      await waitFor(() => slowCalls === 1);
      tcp.resetAndDestroy();
      await sleep(200); // the response is written to a reset socket
      expect(t2.server.connections).toBe(0);
      expect(t2.logs.find((l) => l.msg === 'connection closed')?.reason).toMatch(/socket_error|peer_closed/);
    } finally {
      await t2.close();
    }
  });

  it('writes the bytes of a close result, then ends the connection', async () => {
    const closing: MessageExecutor = { execute: async () => ({ kind: 'close', bytes: numberedMessage(99) }) };
    const t2 = await startTestServer({ pki, executor: closing });
    try {
      const s = await rawTls(t2.port, pki, { cert: pki.client.cert, key: pki.client.key });
      const o = observe(s);
      await write(s, Buffer.concat([numberedMessage(1), numberedMessage(2)]));
      await o.closed;
      expect(o.messages.map(numberOf)).toEqual([99]);
      expect(o.ended).toBe(true);
      await waitFor(() => t2.logs.some((l) => l.msg === 'connection closed'));
      expect(t2.logs.find((l) => l.msg === 'connection closed')?.reason).toBe('executor_close');
    } finally {
      await t2.close();
    }
  });

  it('closes the connection, and only it, when the executor breaks its contract and throws', async () => {
    const throwing: MessageExecutor = { execute: () => Promise.reject(new Error('bug')) };
    const t2 = await startTestServer({ pki, executor: throwing });
    try {
      const s = await rawTls(t2.port, pki, { cert: pki.client.cert, key: pki.client.key });
      const o = observe(s);
      await write(s, numberedMessage(1));
      await o.closed;
      expect(o.messages).toHaveLength(0);
      await waitFor(() => t2.logs.some((l) => l.msg === 'connection closed'));
      expect(t2.logs.find((l) => l.msg === 'connection closed')?.reason).toBe('executor_error');
      expect(t2.logs.some((l) => l.level === 'error' && l.msg === 'executor threw; closing connection')).toBe(true);
    } finally {
      await t2.close();
    }
  });

  it('never logs message bytes at info level', () => {
    const text = JSON.stringify(t.logs);
    expect(text).not.toContain('ZZZZ'); // 0x5a fill of the byte-by-byte message
    expect(t.logs.every((l) => !('message' in l) && !('bytes' in l))).toBe(true);
  });
});
