// Graceful drain of the KMIP listener: close() stops accepting, lets every request already sent
// finish and its response flush, ends idle connections, and destroys what is left at the deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TLSSocket } from 'node:tls';
import { TtlvFramer } from '../../../src/ttlv/framer.js';
import type { MessageExecutor } from '../../../src/dispatch/types.js';
import { delayedEchoExecutor } from '../../support/test-executors.js';
import { attempt, rawTls, startTestServer, waitFor } from '../../support/kmip-test-server.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { numberOf, numberedMessage, testMessage } from '../../support/ttlv-messages.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());

interface Client {
  socket: TLSSocket;
  answers: number[];
  ended: boolean;
  closed: Promise<void>;
}

async function client(port: number): Promise<Client> {
  const socket = await rawTls(port, pki, { cert: pki.client.cert, key: pki.client.key });
  const framer = new TtlvFramer({ maxMessageSize: 1 << 20 });
  const c: Client = { socket, answers: [], ended: false, closed: Promise.resolve() };
  socket.on('data', (d: Buffer) => c.answers.push(...framer.push(d).map(numberOf)));
  socket.on('end', () => {
    c.ended = true;
  });
  socket.on('error', () => {});
  c.closed = new Promise((r) => socket.once('close', () => r()));
  return c;
}

describe('drain', () => {
  it('answers all 50 in-flight requests, then ends the connections', async () => {
    const executor = delayedEchoExecutor(200);
    const t = await startTestServer({ pki, executor });
    const clients = await Promise.all(Array.from({ length: 10 }, () => client(t.port)));
    // 10 connections x 5 pipelined requests; each connection answers one at a time (~1 s).
    await Promise.all(
      clients.map(
        (c, i) =>
          new Promise<void>((r) =>
            c.socket.write(Buffer.concat(Array.from({ length: 5 }, (_, k) => numberedMessage(i * 5 + k))), () => r()),
          ),
      ),
    );
    await waitFor(() => executor.inFlight === 10);
    await new Promise((r) => setTimeout(r, 50));
    expect(executor.inFlight).toBe(10); // one request at a time per connection, not 50 at once
    const started = Date.now();
    await t.close();
    const took = Date.now() - started;

    for (const [i, c] of clients.entries()) {
      expect(c.answers).toEqual([0, 1, 2, 3, 4].map((k) => i * 5 + k));
    }
    expect(executor.calls).toBe(50);
    await Promise.all(clients.map((c) => c.closed));
    expect(clients.every((c) => c.ended)).toBe(true); // ended by the server, not reset
    expect(took).toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(5_000);
    expect(t.server.connections).toBe(0);
    const closes = t.logs.filter((l) => l.msg === 'connection closed');
    expect(closes.map((l) => l.reason)).toEqual(Array(10).fill('shutdown'));
  });

  it('refuses new connections and ends idle ones promptly', async () => {
    const executor = delayedEchoExecutor(300);
    const t = await startTestServer({ pki, executor });
    const idle = await client(t.port);
    const busy = await client(t.port);
    busy.socket.write(numberedMessage(1));
    await waitFor(() => executor.inFlight === 1);
    const closing = t.close();
    await idle.closed;
    expect(busy.answers).toEqual([]); // the idle one went first, the busy one is still working
    const refused = await attempt(t.port, pki, { cert: pki.client.cert, key: pki.client.key }, testMessage(8), 1_000);
    expect(refused.answered).toBe(false);
    await closing;
    expect(busy.answers).toEqual([1]);
  });

  it('destroys what is still open at the deadline', async () => {
    const hung: MessageExecutor = { execute: () => new Promise(() => {}) };
    const t = await startTestServer({ pki, executor: hung, limits: { drainTimeoutMs: 500 } });
    const c = await client(t.port);
    c.socket.write(testMessage(8));
    await waitFor(() => t.server.sessions()[0]?.stats.readingPaused === true);
    const started = Date.now();
    await t.close();
    const took = Date.now() - started;
    await c.closed;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2_000);
    expect(t.logs.some((l) => l.msg === 'drain deadline reached; destroying remaining connections')).toBe(true);
    expect(t.logs.find((l) => l.msg === 'connection closed')?.reason).toBe('shutdown_deadline');
  });
});
