// Tiny MessageExecutors for transport tests. The real executor (src/dispatch) is plugged in by
// the CLI; the transport only needs something that answers, slowly or hugely, and counts.
import type { ConnectionInfo, ExecutorResult, MessageExecutor } from '../../src/dispatch/types.js';
import { testMessage } from './ttlv-messages.js';

export interface RecordingExecutor extends MessageExecutor {
  calls: number;
  /** Requests whose execute() has started but not returned. */
  inFlight: number;
  connections: ConnectionInfo[];
}

function recording(answer: (message: Buffer, conn: ConnectionInfo) => Promise<ExecutorResult>): RecordingExecutor {
  const ex: RecordingExecutor = {
    calls: 0,
    inFlight: 0,
    connections: [],
    async execute(message, conn) {
      ex.calls++;
      ex.inFlight++;
      if (!ex.connections.includes(conn)) ex.connections.push(conn);
      try {
        return await answer(message, conn);
      } finally {
        ex.inFlight--;
      }
    },
  };
  return ex;
}

/** Answers every message with itself. */
export function echoExecutor(): RecordingExecutor {
  return recording(async (message) => ({ kind: 'reply', bytes: message }));
}

/** Echoes after `ms` milliseconds. */
export function delayedEchoExecutor(ms: number): RecordingExecutor {
  return recording(
    (message) => new Promise<ExecutorResult>((r) => setTimeout(() => r({ kind: 'reply', bytes: message }), ms)),
  );
}

/** Answers every message with a fresh `bytes`-sized TTLV message. */
export function bigReplyExecutor(bytes: number): RecordingExecutor {
  return recording(async () => ({ kind: 'reply', bytes: testMessage(bytes - 16) }));
}
