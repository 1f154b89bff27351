// Capacity: 1,000 concurrent idle mutual-TLS connections are accepted and held by one server
// process, whose memory is measured from outside the test runner (the server runs in a child).
// Also reports full and resumed handshake rates (client and server share this machine's cores).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connectKmip } from '../../../src/client/connection.js';
import type { KmipConnection } from '../../../src/client/connection.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { testMessage } from '../../support/ttlv-messages.js';

interface ChildStats {
  connections: number;
  sessions: number;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  port?: number;
}

let pki: TestPki;
let child: ChildProcess;
let first: ChildStats;
const replies: Array<(m: ChildStats) => void> = [];

function ask(cmd: string): Promise<ChildStats> {
  return new Promise((r) => {
    replies.push(r);
    child.send({ cmd });
  });
}

beforeAll(async () => {
  pki = makeTestPki();
  child = fork('test/support/kmip-server-child.ts', [], {
    execArgv: ['--import', './test/support/ts-register.mjs', '--expose-gc'],
    env: { ...process.env, KMIPD_CHILD_PKI: JSON.stringify({ ca: pki.ca.cert, cert: pki.server.cert, key: pki.server.key }) },
  });
  first = await new Promise<ChildStats>((resolve) => {
    child.once('message', (m) => resolve(m as ChildStats));
  });
  child.on('message', (m) => replies.shift()?.(m as ChildStats));
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    await ask('close');
  }
  pki.cleanup();
});

async function openMany(n: number, concurrency: number, session?: Buffer): Promise<{ conns: KmipConnection[]; ms: number }> {
  const conns: KmipConnection[] = [];
  const start = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const c = await connectKmip({
          host: '127.0.0.1',
          port: first.port!,
          servername: 'localhost',
          ca: pki.ca.cert,
          cert: pki.client.cert,
          key: pki.client.key,
          timeoutMs: 20_000,
          session,
        });
        conns.push(c);
      }
    }),
  );
  return { conns, ms: Date.now() - start };
}

describe('capacity', () => {
  it('accepts and holds 1,000 concurrent idle mTLS connections', async () => {
    // Warm up code paths so the baseline is not mostly lazy initialisation.
    const warm = await openMany(5, 5);
    for (const c of warm.conns) await c.send(testMessage(8));
    for (const c of warm.conns) await c.close();
    const base = await ask('stats');

    const n = 1_000;
    const { conns, ms } = await openMany(n, 32);
    // One round trip each proves the server accepted the client certificate (TLS 1.3 clients
    // finish their handshake before the server has checked theirs).
    await Promise.all(conns.map((c) => c.send(testMessage(8))));
    const held = await ask('stats');
    expect(held.connections).toBe(n);
    expect(held.sessions).toBe(n);

    // Idle for a while: nothing is dropped (the idle timeout is minutes).
    await new Promise((r) => setTimeout(r, 1_000));
    expect(conns.every((c) => !c.closed)).toBe(true);
    expect((await ask('stats')).connections).toBe(n);

    const perConn = (held.rss - base.rss) / n;
    const resumeFrom = conns[0]!.session;
    for (const c of conns) await c.close();
    await new Promise((r) => setTimeout(r, 300));
    expect((await ask('stats')).connections).toBe(0);

    const resumed = await openMany(200, 32, resumeFrom);
    const reused = resumed.conns.filter((c) => c.sessionReused).length;
    for (const c of resumed.conns) await c.close();

    const mib = (b: number): string => (b / 1048576).toFixed(1);
    console.log(
      `capacity: ${n} idle mTLS connections; server RSS ${mib(base.rss)} MiB -> ${mib(held.rss)} MiB ` +
        `(${(perConn / 1024).toFixed(1)} KiB per connection; JS heap ${mib(base.heapUsed)} -> ${mib(held.heapUsed)} MiB, ` +
        `buffers ${mib(base.arrayBuffers)} -> ${mib(held.arrayBuffers)} MiB); ` +
        `full handshakes ${((n / ms) * 1000).toFixed(0)}/s; resumed ${((200 / resumed.ms) * 1000).toFixed(0)}/s (${reused}/200 reused)`,
    );
    // RSS includes OpenSSL's per-connection state and allocator slack, so its ceiling is loose;
    // what JavaScript holds per idle connection (objects plus Buffers) is bounded tightly, which
    // catches a per-connection buffer kept after a request (a framer chunk, a response).
    expect(perConn).toBeLessThan(128 * 1024);
    const jsPerConn = (held.heapUsed + held.arrayBuffers - base.heapUsed - base.arrayBuffers) / n;
    expect(jsPerConn).toBeLessThan(16 * 1024);
    expect(reused).toBe(200);
  }, 120_000);
});
