/**
 * `kmipd serve --dir DIR`: runs a deployment. Loads DIR/kmipd.json, builds the executor through a
 * factory (the message layer, store and HSM are wired by whoever supplies it), starts the KMIP
 * listener and the admin listener, and on SIGTERM/SIGINT drains: stop accepting, finish in-flight
 * requests, close idle connections, exit 0 within limits.drainTimeoutMs plus a small margin.
 */
import type { Command } from 'commander';
import { loadConfig, parseHostPort, resolvePath } from '../config/config.js';
import type { KmipdConfig } from '../config/config.js';
import { HealthRegistry, startAdminServer } from '../admin/http.js';
import type { AdminServer } from '../admin/http.js';
import type { MessageExecutor } from '../dispatch/types.js';
import { createLogger } from '../observability/log.js';
import type { Logger } from '../observability/log.js';
import { MetricsRegistry, registerProcessMetrics } from '../observability/metrics.js';
import type { DestinationStream } from 'pino';
import { kmipServerOptionsFromConfig, startKmipServer } from '../server/listener.js';
import type { KmipServer } from '../server/listener.js';
import { readTlsMaterial, serverCertDaysLeft } from '../server/tls-options.js';

/** What an executor factory gets to build the message layer with. */
export interface ExecutorContext {
  config: KmipdConfig;
  /** The deployment directory; resolve config paths against it with `resolvePath`. */
  dir: string;
  log: Logger;
  /** Register `kmipd_requests_total`, `kmipd_request_duration_seconds` and friends here. */
  metrics: MetricsRegistry;
  /** Register store/HSM checks here; they show up in /healthz. */
  health: HealthRegistry;
}

/** An executor plus the clean-up of whatever it opened (store, HSM sessions). */
export interface ExecutorHandle extends MessageExecutor {
  close?(): Promise<void>;
}

export type ExecutorFactory = (ctx: ExecutorContext) => ExecutorHandle | Promise<ExecutorHandle>;

/**
 * PLACEHOLDER until the real message layer is wired in (the lead passes `executorFactory` to
 * `registerServeCommand`/`serveDeployment`): it answers no request, it closes the connection.
 * The server says so loudly at start-up and in /healthz.
 */
export const placeholderExecutorFactory: ExecutorFactory = ({ log, health }) => {
  log.warn('no KMIP executor wired in: every request will be answered by closing the connection');
  health.register('executor', () => ({ ok: false, detail: 'placeholder executor: KMIP requests are not served' }));
  return {
    execute: () => Promise.resolve({ kind: 'close' }),
  };
};

export interface ServeOptions {
  /** Overrides `config.listen`. */
  listen?: string;
  /** Overrides `config.admin.listen` (tests pass port 0, or null). */
  adminListen?: string | null;
  executorFactory?: ExecutorFactory;
  /** Log destination; stdout when absent. */
  logDestination?: DestinationStream;
}

export interface RunningDeployment {
  config: KmipdConfig;
  kmip: KmipServer;
  admin: AdminServer | undefined;
  log: Logger;
  metrics: MetricsRegistry;
  health: HealthRegistry;
  /** Drains the KMIP listener, then closes the admin listener and the executor. Idempotent. */
  shutdown(): Promise<void>;
}

/** Server certificates this close to expiry are reported at start-up and as degraded health. */
const CERT_WARN_DAYS = 30;

export async function serveDeployment(dir: string, options: ServeOptions = {}): Promise<RunningDeployment> {
  const config = loadConfig(dir);
  const log = createLogger({ level: config.log.level, destination: options.logDestination });
  const metrics = new MetricsRegistry();
  registerProcessMetrics(metrics);
  const health = new HealthRegistry();

  const material = readTlsMaterial(dir, config.tls);
  const daysLeft = serverCertDaysLeft(material);
  if (daysLeft < CERT_WARN_DAYS) {
    log.warn({ cert: resolvePath(dir, config.tls.cert), daysLeft }, 'server certificate expires soon');
  }

  const factory = options.executorFactory ?? placeholderExecutorFactory;
  const executor = await factory({ config, dir, log, metrics, health });

  let kmip: KmipServer;
  try {
    kmip = await startKmipServer(kmipServerOptionsFromConfig(config, dir, { executor, log, metrics, listen: options.listen }));
  } catch (err) {
    await executor.close?.();
    throw err;
  }
  health.register('kmip_listener', () => (kmip.draining ? { ok: false, detail: 'draining' } : { ok: true }));
  health.register('server_certificate', () => {
    const left = serverCertDaysLeft(material);
    return left < 0 ? { ok: false, detail: 'expired' } : left < CERT_WARN_DAYS ? { ok: false, detail: `expires in ${left} days` } : { ok: true };
  });

  const adminListen = options.adminListen !== undefined ? options.adminListen : config.admin.listen;
  let admin: AdminServer | undefined;
  if (adminListen !== null) {
    try {
      const { host, port } = parseHostPort(adminListen);
      admin = await startAdminServer({ host, port, metrics, health, log });
    } catch (err) {
      await kmip.close();
      await executor.close?.();
      throw err;
    }
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      await kmip.close();
      await admin?.close();
      await executor.close?.();
      log.info('kmipd stopped');
    })());

  return { config, kmip, admin, log, metrics, health, shutdown };
}

/** Margin on top of the drain deadline for closing the admin listener, executor and log. */
const EXIT_MARGIN_MS = 5_000;

export interface ServeCommandOptions {
  /** The real executor; the placeholder is used when absent. */
  executorFactory?: ExecutorFactory;
}

export function registerServeCommand(program: Command, commandOptions: ServeCommandOptions = {}): void {
  program
    .command('serve')
    .description('run the KMIP server of a deployment created with `kmipd init`')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--listen <host:port>', 'override the KMIP listen address of the config')
    .option('--admin-listen <host:port>', 'override the health/metrics listen address (a second node on the same machine)')
    .action(async (opts: { dir: string; listen?: string; adminListen?: string }) => {
      const running = await serveDeployment(opts.dir, {
        listen: opts.listen,
        ...(opts.adminListen !== undefined ? { adminListen: opts.adminListen } : {}),
        executorFactory: commandOptions.executorFactory,
      });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          running.log.warn({ signal }, 'second signal: exiting without waiting for the drain');
          process.exit(1);
        }
        running.log.info({ signal }, 'shutting down');
        // The drain is bounded by its own deadline; this backstop covers a hung executor close.
        const backstop = setTimeout(() => {
          running.log.error('shutdown did not finish in time; exiting');
          process.exit(1);
        }, running.config.limits.drainTimeoutMs + EXIT_MARGIN_MS);
        backstop.unref();
        // Exit only once the asynchronous log destination has written the last lines.
        const exit = (code: number): void => running.log.flush(() => process.exit(code));
        running.shutdown().then(
          () => exit(0),
          (err: unknown) => {
            running.log.error({ err }, 'shutdown failed');
            exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}
