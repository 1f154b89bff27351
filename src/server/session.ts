/**
 * One authenticated KMIP connection (KMIP 1.4 §10 "Transport": requests and responses
 * are whole TTLV messages sent back to back over one TLS connection).
 *
 * bytes -> TtlvFramer -> queue -> executor (one message at a time) -> write, in order.
 *
 * Bounded by construction: reading stops while a response is pending and while the socket's
 * write buffer is over its high-water mark, so a client that pipelines without reading fills its
 * own kernel buffers, not our heap. Per connection the server holds at most one partial message
 * (<= maxMessageBytes), the messages completed by the last chunk, and one response.
 *
 * Timers measure whole messages, never bytes: the idle timer runs while no message has started,
 * the read timer from the first byte of a message until it is complete. A client trickling one
 * byte a second is therefore dropped at the read timeout however steady the trickle.
 */
import type { TLSSocket } from 'node:tls';
import type { ConnectionInfo, ExecutorResult, MessageExecutor } from '../dispatch/types.js';
import type { Logger } from '../observability/log.js';
import { TtlvError } from '../ttlv/errors.js';
import { TtlvFramer } from '../ttlv/framer.js';

export interface SessionLimits {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  readTimeoutMs: number;
}

export const CLOSE_REASONS = [
  'peer_closed',
  'idle_timeout',
  'read_timeout',
  'framing_error',
  'executor_close',
  'executor_error',
  'socket_error',
  'shutdown',
  'shutdown_deadline',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface SessionStats {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  /** Times reading was paused because a response was pending. */
  readPauses: number;
  /** Times the session waited for the socket's write buffer to drain before reading on. */
  writeBackpressureWaits: number;
  /** Largest write buffer seen (bytes queued in node, not yet taken by the kernel). */
  maxWritableLength: number;
  readingPaused: boolean;
  waitingForDrain: boolean;
  /** Whole messages received and not yet executed. */
  queued: number;
  /** Bytes of a partial message held by the framer. */
  partialBytes: number;
}

export interface SessionDeps {
  executor: MessageExecutor;
  log: Logger;
  limits: SessionLimits;
  onClose: (session: KmipSession, reason: CloseReason) => void;
}

/** After we end our side, a peer that never closes its side is cut off after this. */
const LINGER_MS = 5_000;
/**
 * While draining, an idle session waits this long before ending: a request the client wrote just
 * before shutdown may still be in the kernel buffer, and reading it is cheaper than a reset.
 */
const DRAIN_QUIET_MS = 100;

type TimerKind = 'idle' | 'read' | 'quiet';

export class KmipSession {
  readonly info: ConnectionInfo;
  readonly openedAt = Date.now();
  readonly #socket: TLSSocket;
  readonly #deps: SessionDeps;
  readonly #log: Logger;
  readonly #framer: TtlvFramer;
  readonly #queue: Buffer[] = [];
  /** A message is executing or its response waits for the write buffer to drain. */
  #busy = false;
  /** No more input is accepted (framing error, peer finished sending): answer what is queued, then end. */
  #inputClosed = false;
  #inputCloseReason: CloseReason = 'peer_closed';
  #draining = false;
  #ending = false;
  #closed = false;
  #closeReason: CloseReason | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerKind: TimerKind | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #readingPaused = false;
  #waitingForDrain = false;
  readonly #stats = { requests: 0, bytesIn: 0, bytesOut: 0, readPauses: 0, writeBackpressureWaits: 0, maxWritableLength: 0 };

  constructor(socket: TLSSocket, info: ConnectionInfo, deps: SessionDeps) {
    this.#socket = socket;
    this.info = info;
    this.#deps = deps;
    this.#log = deps.log;
    this.#framer = new TtlvFramer({ maxMessageSize: deps.limits.maxMessageBytes, requireStructure: true });
    // A client may send its requests and then shut down its sending side; it still gets its
    // responses, and the session ends the connection once they are written (#onPeerEnd).
    socket.allowHalfOpen = true;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onPeerEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // Resets and broken pipes are ordinary on a network; node closes the socket after this.
      this.#closeReason ??= 'socket_error';
      this.#log.debug({ code: err.code, msg: err.message }, 'socket error');
    });
    socket.on('close', () => this.#onClose());
    this.#armWaitTimer();
  }

  get stats(): SessionStats {
    return {
      ...this.#stats,
      readingPaused: this.#readingPaused,
      waitingForDrain: this.#waitingForDrain,
      queued: this.#queue.length,
      partialBytes: this.#framer.bufferedBytes,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Graceful shutdown: finish what was received, answer it, then end the connection. Input keeps
   * being read for DRAIN_QUIET_MS (requests already on their way), then no further request is
   * taken, so a client that pipelines without pause cannot hold the stop until the deadline, where
   * a request executing at that moment would be committed but never answered.
   */
  drain(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    const stopReading = setTimeout(() => {
      if (!this.#inputClosed && !this.#closed) this.#closeInput('shutdown');
    }, DRAIN_QUIET_MS);
    stopReading.unref();
    if (!this.#busy && this.#queue.length === 0) this.#onIdle();
  }

  /** Immediate close without flushing (shutdown deadline). */
  destroy(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    // After a framing error or our own end(), input is read only to be discarded.
    if (this.#inputClosed || this.#ending) return;
    this.#stats.bytesIn += chunk.length;
    let messages: Buffer[];
    try {
      messages = this.#framer.push(chunk);
    } catch (err) {
      // The stream is out of sync for good: nothing after this point can be framed. The executor
      // never sees the bad input; a message too large to read gets no response, only a clean close.
      const detail = err instanceof TtlvError ? { code: err.code, offset: err.offset } : { code: 'Unknown' };
      this.#log.info(detail, 'framing error; closing connection');
      this.#closeInput('framing_error');
      return;
    }
    if (messages.length > 0) {
      for (const m of messages) this.#queue.push(m);
      this.#pump();
    } else if (!this.#busy) {
      this.#armWaitTimer();
    }
  }

  #onPeerEnd(): void {
    // The peer finished sending (half-close): its queued requests still deserve answers.
    if (!this.#inputClosed) this.#closeInput('peer_closed');
  }

  #closeInput(reason: CloseReason): void {
    this.#inputClosed = true;
    this.#inputCloseReason = reason;
    this.#clearTimer();
    if (!this.#busy) this.#pump();
  }

  #pump(): void {
    if (this.#busy || this.#ending || this.#closed) return;
    const message = this.#queue.shift();
    if (message === undefined) {
      this.#onIdle();
      return;
    }
    this.#busy = true;
    this.#clearTimer();
    this.#pauseReading();
    void this.#execute(message);
  }

  /** Nothing queued or executing: wait for input, or finish. */
  #onIdle(): void {
    if (this.#inputClosed) {
      this.#end(this.#inputCloseReason);
      return;
    }
    this.#resumeReading();
    this.#armWaitTimer();
  }

  async #execute(message: Buffer): Promise<void> {
    this.#log.debug({ bytes: message.length }, 'request');
    let result: ExecutorResult;
    try {
      result = await this.#deps.executor.execute(message, this.info);
    } catch (err) {
      // The contract says execute never throws; if it does, this connection's state is unknown.
      this.#log.error({ err }, 'executor threw; closing connection');
      this.#closeReason ??= 'executor_error';
      result = { kind: 'close' };
    }
    this.#stats.requests++;
    if (this.#closed) return;
    if (result.kind === 'close') {
      if (result.bytes && result.bytes.length > 0) this.#write(result.bytes);
      this.#end('executor_close');
      return;
    }
    this.#log.debug({ bytes: result.bytes.length }, 'response');
    if (this.#write(result.bytes, result.sensitive === true)) {
      this.#busy = false;
      this.#pump();
      return;
    }
    // Over the high-water mark: read nothing more until the client has taken this response.
    this.#stats.writeBackpressureWaits++;
    this.#waitingForDrain = true;
    this.#socket.once('drain', () => {
      this.#waitingForDrain = false;
      this.#busy = false;
      this.#pump();
    });
  }

  /** `zero`: the bytes carry key material; they are zeroed once the socket has taken them (or failed). */
  #write(bytes: Buffer, zero = false): boolean {
    if (this.#socket.destroyed || !this.#socket.writable) {
      if (zero) bytes.fill(0);
      return true;
    }
    const ok = zero ? this.#socket.write(bytes, () => bytes.fill(0)) : this.#socket.write(bytes);
    this.#stats.bytesOut += bytes.length;
    if (this.#socket.writableLength > this.#stats.maxWritableLength) this.#stats.maxWritableLength = this.#socket.writableLength;
    return ok;
  }

  #pauseReading(): void {
    if (this.#readingPaused) return;
    this.#readingPaused = true;
    this.#stats.readPauses++;
    this.#socket.pause();
  }

  #resumeReading(): void {
    if (!this.#readingPaused) return;
    this.#readingPaused = false;
    this.#socket.resume();
  }

  /**
   * Starts the timer that fits the waiting state, keeping one already running for that state:
   * bytes of a message in progress must not extend its deadline.
   */
  #armWaitTimer(): void {
    if (this.#closed || this.#ending) return;
    const kind: TimerKind = this.#framer.bufferedBytes > 0 ? 'read' : this.#draining ? 'quiet' : 'idle';
    if (this.#timerKind === kind) return;
    this.#clearTimer();
    const { idleTimeoutMs, readTimeoutMs } = this.#deps.limits;
    const ms = kind === 'read' ? readTimeoutMs : kind === 'idle' ? idleTimeoutMs : DRAIN_QUIET_MS;
    this.#timerKind = kind;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerKind = undefined;
      if (kind === 'quiet') this.#end('shutdown');
      else this.#end(kind === 'read' ? 'read_timeout' : 'idle_timeout');
    }, ms);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerKind = undefined;
  }

  /** Ends our side after the queued writes flush (TLS close_notify, then FIN). */
  #end(reason: CloseReason): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    this.#closeReason ??= reason;
    this.#clearTimer();
    // Keep reading (and discarding) so the peer's close is seen and the socket can finish.
    this.#resumeReading();
    this.#socket.end();
    this.#lingerTimer = setTimeout(() => this.#socket.destroy(), LINGER_MS);
    this.#lingerTimer.unref();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer);
    this.#queue.length = 0;
    this.#deps.onClose(this, this.#closeReason ?? 'peer_closed');
  }
}
