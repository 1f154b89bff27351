// The compiled `kmipd serve` in a child process (dist/, so run `npx tsc -p tsconfig.json` first;
// starting from sources through the TS hooks takes far too long on a loaded machine), on ephemeral
// loopback ports read back from its log lines. Used by the K3 suites and the two-node HA suites.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const kmipdBin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ServeChild {
  port: number;
  /** The admin HTTP port, when started with `admin: true`. */
  adminPort: number | undefined;
  proc: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServeChildOptions {
  /** Also listen for /healthz and /metrics on an ephemeral port. */
  admin?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Names the process in errors. */
  label?: string;
}

export function serveChild(dir: string, options: ServeChildOptions = {}): Promise<ServeChild> {
  if (!existsSync(kmipdBin)) throw new Error(`${kmipdBin} is missing: run 'npx tsc -p tsconfig.json' first`);
  const label = options.label ?? 'kmipd serve';
  const args = [kmipdBin, 'serve', '--dir', dir, '--listen', '127.0.0.1:0', ...(options.admin ? ['--admin-listen', '127.0.0.1:0'] : [])];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let out = '';
    let started = false;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${label} did not start in time:\n${out}`));
    }, 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const kmip = /"listen":"127\.0\.0\.1:(\d+)","msg":"KMIP listener started"/.exec(out);
      const admin = /"listen":"127\.0\.0\.1:(\d+)","msg":"admin listener started"/.exec(out);
      if (kmip && (admin || !options.admin) && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          port: Number(kmip[1]),
          adminPort: admin && options.admin ? Number(admin[1]) : undefined,
          proc,
          output: () => out,
          async kill9() {
            proc.kill('SIGKILL');
            await exited;
          },
          async stop() {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`${label} exited with ${code}:\n${out}`));
      }
    });
  });
}
