/**
 * The pino root logger (JSON lines on stdout). Everything else logs through children of it:
 * one per connection (server/session) and one per batch item (dispatch).
 *
 * Redaction is a safety net, not the policy: code must not put key material or PINs in log
 * fields in the first place. The sensitive names are listed once; every log object (and every
 * child logger's bindings) is scanned for them down to the nesting depth our log objects reach,
 * and a field with such a name is censored wherever it sits at those depths.
 *
 * The scan is ours rather than pino's `redact` option on purpose: pino compiles wildcard paths
 * (`*.key`, `*.*.key`) into a redactor that it runs on every top-level field of every line, the
 * plain strings and numbers included, which cost ~70 µs per line (a profile of 16 connections
 * opening and closing: ~11 % of the connect path). One pass over the object's keys, copying only
 * what must change, censors the same fields for ~1 µs.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger, LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Field names whose values must never reach a log line. */
const SENSITIVE_NAMES = [
  'key',
  'keys',
  'privateKey',
  'keyMaterial',
  'material',
  'pin',
  'soPin',
  'userPin',
  'password',
  'passphrase',
  'secret',
] as const;

/** Log objects are shallow (a connection child adds one level, an error object another). */
const REDACT_DEPTH = 3;

const SENSITIVE = new Set<string>(SENSITIVE_NAMES);
export const CENSOR = '[Redacted]';

/** A copy of an Error that still serialises as one (pino's `err` serializer keeps type and stack). */
function errorCopy(err: Error): Record<string, unknown> {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Record<string, unknown>, err);
  copy.message = err.message;
  copy.stack = err.stack;
  return copy;
}

/**
 * `value` with every field named in SENSITIVE_NAMES censored, at nesting depths 0 to
 * REDACT_DEPTH - 1 (array elements count as one level, as a path segment would). The caller's
 * object is never modified: the objects on the way to a censored field are copied, the rest is
 * returned as is, so a line with nothing to censor costs no allocation.
 */
export function censorSensitive<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth >= REDACT_DEPTH || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = censorSensitive(v, depth + 1);
      if (c !== v) (copy ??= value.slice())[i] = c;
    }
    return (copy ?? value) as T;
  }
  const obj = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    const c = SENSITIVE.has(k) && v !== undefined ? CENSOR : censorSensitive(v, depth + 1);
    if (c !== v) (copy ??= value instanceof Error ? errorCopy(value) : { ...obj })[k] = c;
  }
  return (copy ?? value) as T;
}

/**
 * stdout is written asynchronously (a slow reader must not stall the event loop), but not one
 * write per line: each asynchronous write is a round trip through the libuv thread pool, which a
 * profile of 16 clients opening and closing connections showed at ~60 µs of CPU per line (two
 * lines per connection). Lines are collected up to LOG_BUFFER_BYTES and written together, and
 * whatever is buffered goes out at least every LOG_FLUSH_MS; pino flushes synchronously when the
 * process exits, so a line is lost only if the process is killed outright (SIGKILL), and then
 * at most LOG_FLUSH_MS of lines.
 */
export const LOG_FLUSH_MS = 100;
const LOG_BUFFER_BYTES = 8 * 1024;

export function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
}

export interface LogOptions {
  level: LevelWithSilent;
  /** Where lines go; stdout when absent. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  const root = pino(
    {
      level: options.level,
      base: { service: 'kmipd', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        // Level names are easier to grep and to filter in log shippers than pino's numbers.
        level: (label) => ({ level: label }),
        log: (object) => censorSensitive(object),
        bindings: (bindings) => censorSensitive(bindings),
      },
    },
    options.destination ?? stdoutDestination(),
  );
  // pino applies `formatters.bindings` to the root's bindings only; children (and theirs, which
  // inherit this property) have their bindings censored here before pino serialises them.
  const child = root.child;
  root.child = function censoredChild(this: Logger, bindings, childOptions) {
    return child.call(this, censorSensitive(bindings), childOptions);
  } as typeof root.child;
  return root;
}
