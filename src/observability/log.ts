/**
 * The pino root logger (JSON lines on stdout). Everything else logs through children of it:
 * one per connection (server/session) and one per batch item (dispatch).
 *
 * Redaction is a safety net, not the policy: code must not put key material or PINs in log
 * fields in the first place. pino's redaction needs explicit paths, so the sensitive names
 * are listed once and expanded to the nesting depths our log objects reach.
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

export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const name of SENSITIVE_NAMES) {
    let prefix = '';
    for (let depth = 0; depth < REDACT_DEPTH; depth++) {
      paths.push(`${prefix}${name}`);
      prefix += '*.';
    }
  }
  return paths;
}

export interface LogOptions {
  level: LevelWithSilent;
  /** Where lines go; stdout when absent. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'kmipd', pid: process.pid },
      redact: { paths: redactPaths(), censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        // Level names are easier to grep and to filter in log shippers than pino's numbers.
        level: (label) => ({ level: label }),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
