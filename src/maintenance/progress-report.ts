/**
 * Progress output for long maintenance commands (KEK rotation, backup): a redrawn bar when the
 * stream is a terminal, plain lines (at most one per second, plus the last) otherwise, so that
 * logs of a run under systemd or CI stay readable.
 */
export interface ProgressReporter {
  update(done: number, total: number, note?: string): void;
  finish(summary: string): void;
}

const BAR_WIDTH = 30;
const LINE_INTERVAL_MS = 1000;

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = stream.isTTY === true;
  let lastLine = 0;
  let drawn = false;
  return {
    update(done, total, note) {
      const pct = total > 0 ? Math.min(1, done / total) : 1;
      const text = `${label} ${done}/${total}${note ? ` ${note}` : ''}`;
      if (tty) {
        const filled = Math.round(pct * BAR_WIDTH);
        const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.floor(pct * 100)
          .toString()
          .padStart(3)}%`;
        stream.write(`\r\x1b[2K${bar} ${text}`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (now - lastLine >= LINE_INTERVAL_MS) {
        lastLine = now;
        stream.write(`${text}\n`);
      }
    },
    finish(summary) {
      if (tty && drawn) stream.write('\r\x1b[2K');
      stream.write(`${summary}\n`);
    },
  };
}
