// Starts the real KMIP listener (src/server/listener.ts) on 127.0.0.1 port 0 with a test PKI and
// a test executor, capturing its log lines so tests can assert on them.
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { defaultLimits } from '../../src/config/config.js';
import type { LimitsConfig } from '../../src/config/config.js';
import { connectKmip } from '../../src/client/connection.js';
import type { ConnectKmipOptions, KmipConnection } from '../../src/client/connection.js';
import type { MessageExecutor } from '../../src/dispatch/types.js';
import { createLogger } from '../../src/observability/log.js';
import type { Logger } from '../../src/observability/log.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { startKmipServer } from '../../src/server/listener.js';
import type { KmipServer } from '../../src/server/listener.js';
import type { PemPair } from '../../src/pki/dev-pki.js';
import type { TestPki } from './test-pki.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface TestServer {
  server: KmipServer;
  port: number;
  metrics: MetricsRegistry;
  log: Logger;
  logs: LogLine[];
  /** A connected client with the good client certificate (or another pair). */
  client(pair?: PemPair, extra?: Partial<ConnectKmipOptions>): Promise<KmipConnection>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  pki: TestPki;
  executor: MessageExecutor;
  limits?: Partial<LimitsConfig>;
  legacyCiphers?: boolean;
  requireClientAuthEku?: boolean;
  /** CA bundle PEM; the test CA alone by default. */
  caPem?: string;
  /** Shared TLS ticket keys (48 bytes), to resume a session of one server at another. */
  ticketKeys?: Buffer;
}

export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const logs: LogLine[] = [];
  const log = createLogger({
    level: 'info',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });
  const metrics = new MetricsRegistry();
  const server = await startKmipServer({
    host: '127.0.0.1',
    port: 0,
    tls: {
      ca: Buffer.from(opts.caPem ?? opts.pki.ca.cert),
      cert: Buffer.from(opts.pki.server.cert),
      key: Buffer.from(opts.pki.server.key),
      legacyCiphers: opts.legacyCiphers ?? false,
      requireClientAuthEku: opts.requireClientAuthEku ?? true,
      ticketKeys: opts.ticketKeys,
    },
    limits: { ...defaultLimits, ...opts.limits },
    executor: opts.executor,
    log,
    metrics,
  });
  const port = server.address.port;
  return {
    server,
    port,
    metrics,
    log,
    logs,
    client: (pair = opts.pki.client, extra = {}) =>
      connectKmip({ host: '127.0.0.1', port, servername: 'localhost', ca: opts.pki.ca.cert, cert: pair.cert, key: pair.key, timeoutMs: 5_000, ...extra }),
    close: () => server.close(),
  };
}

/** A raw TLS connection with arbitrary client options (protocol versions, ciphers, no certificate). */
export function rawTls(port: number, pki: TestPki, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.ca.cert, ...options });
    s.once('secureConnect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export type AttemptOutcome = { answered: true; reply: Buffer } | { answered: false; error: string };

/**
 * Connects with `options`, sends `message` and waits for an answer. Whatever goes wrong (handshake
 * refused, connection closed after the handshake as TLS 1.3 servers do) is an unanswered outcome.
 */
export function attempt(
  port: number,
  pki: TestPki,
  // localAddress reaches net.connect at run time; node's typings omit it from TLS options.
  options: ConnectionOptions & { localAddress?: string },
  message: Buffer,
  timeoutMs = 3_000,
): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: AttemptOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    };
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.ca.cert, ...options });
    const chunks: Buffer[] = [];
    s.on('secureConnect', () => s.write(message));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (all.length >= message.length) finish({ answered: true, reply: all });
    });
    s.on('error', (e: NodeJS.ErrnoException) => finish({ answered: false, error: e.code ?? e.message }));
    s.on('close', () => finish({ answered: false, error: 'closed' }));
    const timer = setTimeout(() => finish({ answered: false, error: 'timeout' }), timeoutMs);
  });
}

export async function waitFor(cond: () => boolean, timeoutMs = 5_000, stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
