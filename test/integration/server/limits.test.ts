// Resource limits of the listener: handshake deadline, idle and per-message read deadlines,
// connection caps (global and per address), and back-pressure against clients that do not read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { TtlvFramer } from '../../../src/ttlv/framer.js';
import { bigReplyExecutor, echoExecutor } from '../../support/test-executors.js';
import { attempt, rawTls, sleep, startTestServer, waitFor } from '../../support/kmip-test-server.js';
import type { TestServer } from '../../support/kmip-test-server.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { testMessage } from '../../support/ttlv-messages.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());

function metric(t: TestServer, series: string): number {
  const line = t.metrics.render().split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const clientOpts = (): { cert: string; key: string } => ({ cert: pki.client.cert, key: pki.client.key });

function closedAfter(s: TLSSocket): Promise<number> {
  const start = Date.now();
  return new Promise((r) => s.once('close', () => r(Date.now() - start)));
}

describe('time limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      pki,
      executor: echoExecutor(),
      limits: { idleTimeoutMs: 500, readTimeoutMs: 500, handshakeTimeoutMs: 400 },
    });
  });
  afterAll(() => t.close());

  it('drops a client trickling bytes at the read timeout, however steady the trickle', async () => {
    const s = await rawTls(t.port, pki, clientOpts());
    s.setNoDelay(true);
    s.on('error', () => {});
    const closed = closedAfter(s);
    const msg = testMessage(200);
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < msg.length && !s.destroyed) s.write(msg.subarray(sent, ++sent));
    }, 100);
    const ms = await closed;
    clearInterval(trickle);
    // Bytes kept coming every 100 ms, yet the whole-message timer fired at ~500 ms.
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(1_500);
    expect(sent).toBeLessThan(msg.length);
    await waitFor(() => t.logs.some((l) => l.msg === 'connection closed' && l.reason === 'read_timeout'));
  });

  it('drops a client sending one byte per second', async () => {
    const s = await rawTls(t.port, pki, clientOpts());
    s.on('error', () => {});
    const closed = closedAfter(s);
    const msg = testMessage(16);
    let sent = 0;
    s.write(msg.subarray(0, ++sent));
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write(msg.subarray(sent, ++sent));
    }, 1_000);
    const ms = await closed;
    clearInterval(trickle);
    expect(ms).toBeLessThan(1_500);
    expect(sent).toBe(1);
  });

  it('drops a silent authenticated client at the idle timeout', async () => {
    const s = await rawTls(t.port, pki, clientOpts());
    s.on('error', () => {});
    const ms = await closedAfter(s);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(1_500);
    await waitFor(() => t.logs.some((l) => l.msg === 'connection closed' && l.reason === 'idle_timeout'));
  });

  it('keeps a client that sends whole messages more often than the idle timeout', async () => {
    const c = await t.client();
    for (let i = 0; i < 7; i++) {
      await c.send(testMessage(8));
      await sleep(300);
    }
    expect(c.closed).toBe(false); // 2.1 s connected with a 500 ms idle timeout
    await c.close();
  });

  it('closes a TCP connection that never starts the TLS handshake', async () => {
    const before = metric(t, 'kmipd_tls_handshake_failures_total{reason="timeout"}');
    const sock = netConnect(t.port, '127.0.0.1');
    sock.on('error', () => {});
    await once(sock, 'connect');
    const start = Date.now();
    await once(sock, 'close');
    const ms = Date.now() - start;
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(1_500);
    await waitFor(() => metric(t, 'kmipd_tls_handshake_failures_total{reason="timeout"}') === before + 1);
  });
});

describe('connection caps', () => {
  it('refuses connections over the per-address cap, counting each address separately', async () => {
    const t = await startTestServer({ pki, executor: echoExecutor(), limits: { maxConnectionsPerAddress: 3, maxConnections: 100 } });
    try {
      const held = await Promise.all([t.client(), t.client(), t.client()]);
      const refused = await attempt(t.port, pki, clientOpts(), testMessage(8));
      expect(refused.answered).toBe(false);
      expect(metric(t, 'kmipd_connections_rejected_total{reason="max_per_address"}')).toBe(1);
      // Another loopback address has its own budget.
      const other = await attempt(t.port, pki, { ...clientOpts(), localAddress: '127.0.0.2' }, testMessage(8));
      expect(other.answered).toBe(true);
      // A freed slot is usable again.
      await held[0]!.close();
      await waitFor(() => t.server.connections === 2);
      expect((await attempt(t.port, pki, clientOpts(), testMessage(8))).answered).toBe(true);
      for (const c of held.slice(1)) await c.close();
    } finally {
      await t.close();
    }
  });

  it('refuses connections over the global cap, before any TLS work', async () => {
    const t = await startTestServer({ pki, executor: echoExecutor(), limits: { maxConnections: 4, maxConnectionsPerAddress: 100 } });
    try {
      const held = await Promise.all(Array.from({ length: 4 }, () => t.client()));
      expect(t.server.connections).toBe(4);
      const tcp = netConnect(t.port, '127.0.0.1');
      tcp.on('error', () => {});
      const bytes: Buffer[] = [];
      tcp.on('data', (d: Buffer) => bytes.push(d));
      tcp.write(Buffer.from('160301', 'hex')); // the start of a ClientHello
      await once(tcp, 'close');
      expect(Buffer.concat(bytes)).toHaveLength(0); // not even a TLS alert: refused at accept
      expect(metric(t, 'kmipd_connections_rejected_total{reason="max_connections"}')).toBe(1);
      expect(metric(t, 'kmipd_tls_handshake_failures_total{reason="peer_closed"}')).toBe(0);
      for (const c of held) await c.close();
    } finally {
      await t.close();
    }
  });
});

describe('back-pressure', () => {
  it('stops reading from a client that sends requests but never reads responses', async () => {
    const replyBytes = 64 * 1024;
    const executor = bigReplyExecutor(replyBytes);
    const t = await startTestServer({ pki, executor });
    try {
      const s = await rawTls(t.port, pki, clientOpts());
      s.pause(); // never read
      const requests = 2_000; // 2000 x 64 KiB = 125 MiB of responses if the server buffered them
      const rssBefore = process.memoryUsage.rss();
      s.write(Buffer.concat(Array.from({ length: requests }, () => testMessage(8))));

      // Wait until the server has stalled: the executor call count stops moving.
      let last = -1;
      await waitFor(() => {
        const stalled = executor.calls === last && executor.calls > 0;
        last = executor.calls;
        return stalled;
      }, 15_000, 300);
      const [session] = t.server.sessions();
      expect(session).toBeDefined();
      const st = session!.stats;
      expect(st.waitingForDrain).toBe(true);
      expect(st.readingPaused).toBe(true);
      expect(st.writeBackpressureWaits).toBeGreaterThan(0);
      // Only what fits in the kernel socket buffers was produced, and node's own write buffer
      // never held more than one response beyond its high-water mark.
      expect(executor.calls).toBeLessThan(requests / 4);
      expect(st.maxWritableLength).toBeLessThan(replyBytes + 64 * 1024);
      expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(64 * 1024 * 1024);
      console.log(
        `back-pressure: stalled after ${executor.calls}/${requests} requests; max node write buffer ${st.maxWritableLength} B; ` +
          `RSS delta ${((process.memoryUsage.rss() - rssBefore) / 1048576).toFixed(1)} MiB`,
      );

      // Liveness: once the client reads, every response arrives.
      const framer = new TtlvFramer({ maxMessageSize: 1 << 20 });
      let received = 0;
      s.on('data', (d: Buffer) => {
        received += framer.push(d).length;
      });
      s.resume();
      await waitFor(() => received === requests, 30_000);
      expect(executor.calls).toBe(requests);
      s.destroy();
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('socket errors', () => {
  it('a TLS client that connects and vanishes mid-handshake is counted, not fatal', async () => {
    const t = await startTestServer({ pki, executor: echoExecutor() });
    try {
      const s = tlsConnect({ host: '127.0.0.1', port: t.port, servername: 'localhost', ca: pki.ca.cert, ...clientOpts() });
      s.on('error', () => {});
      s.once('connect', () => s.destroy()); // TCP up, ClientHello maybe sent, then gone
      await waitFor(() => metric(t, 'kmipd_tls_handshake_failures_total{reason="peer_closed"}') === 1);
      expect(t.server.connections).toBe(0);
      expect((await attempt(t.port, pki, clientOpts(), testMessage(8))).answered).toBe(true);
    } finally {
      await t.close();
    }
  });
});
