/**
 * Notices a burst of refused batch items (Permission Denied, Authentication Not Successful) from
 * one certificate and logs it once per window at warn: a misconfigured appliance or a probe,
 * either way something an operator should look at. Individual denials stay at info.
 */
import type { Logger } from 'pino';

export interface DenialMonitorOptions {
  log: Logger;
  /** Denials within `windowMs` that make a burst. Default 10. */
  threshold?: number;
  windowMs?: number;
  now?: () => number;
}

export interface DenialMonitor {
  denied(principal: { subject: string; fingerprint: string }, operation: string | null): void;
}

export function createDenialMonitor(options: DenialMonitorOptions): DenialMonitor {
  const threshold = options.threshold ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number; warned: boolean }>();
  return {
    denied(principal, operation) {
      const t = now();
      let w = windows.get(principal.fingerprint);
      if (w === undefined || t - w.start >= windowMs) {
        w = { start: t, count: 0, warned: false };
        windows.set(principal.fingerprint, w);
        // Bounded memory under a flood of distinct certificates: old windows are dropped.
        if (windows.size > 10_000) {
          for (const [k, v] of windows) if (t - v.start >= windowMs) windows.delete(k);
        }
      }
      w.count++;
      if (w.count >= threshold && !w.warned) {
        w.warned = true;
        options.log.warn(
          { subject: principal.subject, fingerprint: principal.fingerprint, denials: w.count, windowMs, lastOperation: operation },
          'burst of denied requests from one client certificate',
        );
      }
    },
  };
}
