/**
 * A forked load-generator process (`kmipd bench --workers K`). Protocol over the IPC channel:
 * parent → {plan}; worker → {ready}; parent → {go}; worker → {progress} …; worker → {result} or
 * {error}; then the worker exits.
 */
import { runLoad, type LoadPlan, type LoadResult } from './runner.js';

export type ParentMessage = { type: 'plan'; plan: LoadPlan } | { type: 'go' };
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; done: number }
  | { type: 'result'; result: LoadResult }
  | { type: 'error'; message: string };

function post(message: WorkerMessage): void {
  process.send?.(message);
}

let go: (() => void) | undefined;
const started = new Promise<void>((resolve) => (go = resolve));

process.on('message', (message: ParentMessage) => {
  if (message.type === 'go') {
    go?.();
    return;
  }
  runLoad(message.plan, {
    ready: async () => {
      post({ type: 'ready' });
      await started;
    },
    progress: (done) => post({ type: 'progress', done }),
  }).then(
    (result) => {
      post({ type: 'result', result });
      process.disconnect?.();
    },
    (err: unknown) => {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      process.disconnect?.();
    },
  );
});
