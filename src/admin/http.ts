/**
 * The operations HTTP listener: `/healthz` for load balancers and service managers, `/metrics` for
 * Prometheus (text exposition format 0.0.4). Loopback by default and unauthenticated, so it serves
 * nothing secret and accepts nothing: GET/HEAD on two paths, 404 elsewhere, 405 for other methods.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort } from '../config/config.js';
import type { Logger } from '../observability/log.js';
import { MetricsRegistry } from '../observability/metrics.js';

export interface HealthResult {
  ok: boolean;
  detail?: string;
}

export type HealthCheck = () => HealthResult | Promise<HealthResult>;

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, HealthResult>;
}

/** A check that does not answer within this is reported as failed rather than hanging /healthz. */
const CHECK_TIMEOUT_MS = 2_000;

export class HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();

  /** Names appear in the report; the lead's executor, store and HSM register their own. */
  register(name: string, check: HealthCheck): void {
    if (this.#checks.has(name)) throw new Error(`health check "${name}" is already registered`);
    this.#checks.set(name, check);
  }

  async run(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]): Promise<[string, HealthResult]> => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<HealthResult>((r) => {
          timer = setTimeout(() => r({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
        });
        try {
          const result = await Promise.race([Promise.resolve().then(check), timeout]);
          return [name, result];
        } catch (err) {
          return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { status: entries.every(([, r]) => r.ok) ? 'ok' : 'degraded', checks };
  }
}

export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: MetricsRegistry;
  health: HealthRegistry;
  log: Logger;
}

export interface AdminServer {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headOnly: boolean): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(headOnly ? undefined : body);
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { metrics, health, log } = options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const known = path === '/healthz' || path === '/metrics';
    if (!known) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', req.method === 'HEAD');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
    }
    const headOnly = req.method === 'HEAD';
    if (path === '/metrics') return send(res, 200, MetricsRegistry.contentType, metrics.render(), headOnly);
    const report = await health.run();
    return send(res, report.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`, headOnly);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  // Scrapers and probes send tiny requests; anything slow is not one of them.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  server.on('error', (err) => log.error({ err }, 'admin listener error'));
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  log.info({ listen: formatHostPort(address) }, 'admin listener started');

  return {
    address,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        // Keep-alive connections from a scraper would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
