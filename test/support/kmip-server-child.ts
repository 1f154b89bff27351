// The KMIP listener in a child process (started with node's IPC channel), so a test can measure
// the server's own memory without the test runner's in it. Messages from the parent:
//   { cmd: 'stats' } -> { connections, sessions, rss, heapUsed, arrayBuffers }   (after a full GC when exposed)
//   { cmd: 'close' } -> drains, replies { closed: true }, exits
// Environment: KMIPD_CHILD_PKI (JSON of PEMs: ca, cert, key).
import { defaultLimits } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/log.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { startKmipServer } from '../../src/server/listener.js';
import { echoExecutor } from './test-executors.js';

interface Pems {
  ca: string;
  cert: string;
  key: string;
}

const pems = JSON.parse(process.env['KMIPD_CHILD_PKI'] ?? '{}') as Pems;
const gc = (globalThis as { gc?: () => void }).gc;

const server = await startKmipServer({
  host: '127.0.0.1',
  port: 0,
  tls: { ca: Buffer.from(pems.ca), cert: Buffer.from(pems.cert), key: Buffer.from(pems.key), legacyCiphers: false, requireClientAuthEku: true },
  limits: { ...defaultLimits, maxConnections: 10_000, maxConnectionsPerAddress: 10_000 },
  executor: echoExecutor(),
  log: createLogger({ level: 'warn' }),
  metrics: new MetricsRegistry(),
});

function stats(): Record<string, number> {
  gc?.();
  const m = process.memoryUsage();
  return { connections: server.connections, sessions: server.sessions().length, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'stats') process.send?.(stats());
  if (msg.cmd === 'close') {
    void server.close().then(() => {
      process.send?.({ closed: true });
      process.exit(0);
    });
  }
});
process.send?.({ port: server.address.port, ...stats() });
