/**
 * What the conformance runner prints and writes: one line per test-case file, the closing count
 * line, and the machine-readable JSON report (per file: verdict, first difference, duration).
 * The OASIS test-case ids (`SKLC-M-1-14`) name the files, as the KMIP Profiles documents do.
 */
import type { FileResult, RunReport } from './runner.js';

/** `PASS SKLC-M-1-14`, `FAIL SKLC-M-2-14: request 3 ...`, `SKIP TC-NP-1-14: ...`. */
export function formatFileLine(result: FileResult): string {
  switch (result.verdict) {
    case 'pass':
      return `PASS ${result.id}`;
    case 'fail':
      return `FAIL ${result.id}: ${result.message ?? 'failed'}`;
    case 'skip':
      return `SKIP ${result.id}: ${result.message ?? 'cannot be run'}`;
  }
}

/** `N passed, N failed`, plus `, N skipped` only when a file could not be run. */
export function formatSummary(report: Pick<RunReport, 'passed' | 'failed' | 'skipped'>): string {
  const line = `${report.passed} passed, ${report.failed} failed`;
  return report.skipped > 0 ? `${line}, ${report.skipped} skipped` : line;
}

export interface JsonReport {
  readonly format: 'kmipd-conformance-report';
  readonly version: 1;
  readonly server: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly files: readonly {
    readonly file: string;
    readonly id: string;
    readonly verdict: FileResult['verdict'];
    readonly durationMs: number;
    readonly requests: number;
    /** First difference for comparison failures: request number (1-based), path, both values. */
    readonly difference: FileResult['difference'] | null;
    /** The failure or skip reason as printed; null for a pass. */
    readonly message: string | null;
  }[];
}

export function toJsonReport(report: RunReport, server: string): JsonReport {
  return {
    format: 'kmipd-conformance-report',
    version: 1,
    server,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    passed: report.passed,
    failed: report.failed,
    skipped: report.skipped,
    files: report.files.map((f) => ({
      file: f.path,
      id: f.id,
      verdict: f.verdict,
      durationMs: f.durationMs,
      requests: f.requests,
      difference: f.difference ?? null,
      message: f.message ?? null,
    })),
  };
}

/**
 * A one-line progress bar for a terminal: `[#####.....] 12/182 SKLC-M-1-14`. Writes only when the
 * stream is a TTY, so redirected output and CI logs stay clean.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #shown = false;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    this.#enabled = stream.isTTY === true;
  }

  update(done: number, total: number, label: string): void {
    if (!this.#enabled) return;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const columns = this.#stream.columns ?? 80;
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`.slice(0, Math.max(columns - 1, 10));
    this.#stream.write(`\r\x1b[K${line}`);
    this.#shown = true;
  }

  /** Removes the bar so a result line can be printed in its place. */
  clear(): void {
    if (!this.#enabled || !this.#shown) return;
    this.#stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
