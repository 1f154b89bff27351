/**
 * The client side of the KMIP transport (KMIP 1.4 §10): one mutual-TLS connection
 * carrying whole TTLV messages. Request building and response parsing sit on top of this
 * (client/kmip-client.ts); this module only moves bytes.
 *
 * One request is outstanding per connection and later ones queue: a KMIP response carries no
 * reliable link to its request other than its position, so after a timeout the next bytes on the
 * wire could belong to the abandoned request. A timed-out connection is therefore closed, failing
 * everything queued on it, rather than reused.
 */
import { connect } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import { TtlvError } from '../ttlv/errors.js';
import { TtlvFramer } from '../ttlv/framer.js';

export interface ConnectKmipOptions {
  host: string;
  port: number;
  /** CA bundle (PEM) that signed the server certificate. */
  ca: string | Buffer;
  /** Client certificate (PEM) with the clientAuth extended key usage. */
  cert: string | Buffer;
  /** Client private key (PEM). */
  key: string | Buffer;
  /** Name checked against the server certificate (and sent as SNI); defaults to `host`. */
  servername?: string;
  /** Connect + handshake deadline, and the default per-request deadline. Default 30 s. */
  timeoutMs?: number;
  /** Largest response accepted. Default 16 MiB. */
  maxMessageBytes?: number;
  /** A TLS session from an earlier connection's `session`, for a resumed (cheaper) handshake. */
  session?: Buffer;
  /**
   * A context built once (`tls.createSecureContext({ ca, cert, key })`) for clients that open many
   * connections: passing the PEMs re-parses them on every connection (about 1 ms each).
   * When given, `ca`, `cert` and `key` are not read.
   */
  secureContext?: SecureContext;
  /** Highest TLS version offered. Default TLSv1.3. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export type KmipTransportErrorCode =
  /** TCP connect or TLS handshake failed (refused, certificate rejected, protocol). */
  | 'ConnectFailed'
  | 'ConnectTimeout'
  | 'RequestTimeout'
  /** The connection closed (by either side) before the response arrived. */
  | 'Closed'
  /** The server sent bytes that are not a TTLV message, one that is too large, or an unrequested one. */
  | 'BadResponse';

export class KmipTransportError extends Error {
  override readonly name = 'KmipTransportError';
  constructor(
    readonly code: KmipTransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SendOptions {
  /** Overrides the connection's default request deadline. */
  timeoutMs?: number;
}

export interface KmipConnection {
  /** Sends one whole TTLV request and resolves with the next whole TTLV response. */
  send(message: Buffer, options?: SendOptions): Promise<Buffer>;
  /** Fails queued requests, ends the connection and resolves once the socket has closed. */
  close(): Promise<void>;
  readonly closed: boolean;
  readonly tlsVersion: string | null;
  readonly cipher: string;
  readonly sessionReused: boolean;
  /** The latest TLS session (TLS 1.3 tickets arrive after the handshake), for resumption. */
  readonly session: Buffer | undefined;
}

interface Pending {
  message: Buffer;
  timeoutMs: number;
  resolve: (response: Buffer) => void;
  reject: (err: KmipTransportError) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;
const CLOSE_GRACE_MS = 2_000;

class Connection implements KmipConnection {
  readonly #socket: TLSSocket;
  readonly #framer: TtlvFramer;
  readonly #defaultTimeoutMs: number;
  readonly #queue: Pending[] = [];
  #current: Pending | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failure: KmipTransportError | undefined;
  #closed = false;
  #session: Buffer | undefined;
  readonly #closedPromise: Promise<void>;

  constructor(socket: TLSSocket, framer: TtlvFramer, defaultTimeoutMs: number) {
    this.#socket = socket;
    this.#framer = framer;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#session = socket.getSession();
    socket.on('session', (s: Buffer) => {
      this.#session = s;
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(new KmipTransportError('Closed', `connection error: ${err.message}`, { cause: err })));
    this.#closedPromise = new Promise<void>((r) => {
      socket.once('close', () => {
        this.#closed = true;
        this.#fail(new KmipTransportError('Closed', 'connection closed'));
        r();
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get tlsVersion(): string | null {
    return this.#socket.getProtocol();
  }

  get cipher(): string {
    return this.#socket.getCipher().name;
  }

  get sessionReused(): boolean {
    return this.#socket.isSessionReused();
  }

  get session(): Buffer | undefined {
    return this.#session;
  }

  send(message: Buffer, options: SendOptions = {}): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ message, timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs, resolve, reject });
      this.#next();
    });
  }

  async close(): Promise<void> {
    this.#fail(new KmipTransportError('Closed', 'connection closed by the client'));
    if (!this.#closed) {
      this.#socket.end();
      const force = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
      force.unref();
      await this.#closedPromise;
      clearTimeout(force);
    }
  }

  #next(): void {
    if (this.#current || this.#failure) return;
    const p = this.#queue.shift();
    if (!p) return;
    this.#current = p;
    this.#timer = setTimeout(() => {
      this.#fail(new KmipTransportError('RequestTimeout', `no response within ${p.timeoutMs} ms`));
    }, p.timeoutMs);
    this.#socket.write(p.message);
  }

  #onData(chunk: Buffer): void {
    if (this.#failure) return;
    let messages: Buffer[];
    try {
      messages = this.#framer.push(chunk);
    } catch (err) {
      const detail = err instanceof TtlvError ? err.message : String(err);
      this.#fail(new KmipTransportError('BadResponse', `unreadable response: ${detail}`, { cause: err }));
      return;
    }
    for (const m of messages) {
      const p = this.#current;
      if (!p) {
        this.#fail(new KmipTransportError('BadResponse', 'response received with no request outstanding'));
        return;
      }
      clearTimeout(this.#timer);
      this.#current = undefined;
      p.resolve(m);
    }
    this.#next();
  }

  /** Fails the outstanding and queued requests; the connection is not usable afterwards. */
  #fail(err: KmipTransportError): void {
    if (this.#failure) return;
    this.#failure = err;
    clearTimeout(this.#timer);
    const failed = this.#current ? [this.#current, ...this.#queue] : [...this.#queue];
    this.#current = undefined;
    this.#queue.length = 0;
    for (const p of failed) p.reject(err);
    if (err.code !== 'Closed') this.#socket.destroy();
    else if (!this.#closed && !this.#socket.writableEnded) this.#socket.end();
  }
}

export function connectKmip(options: ConnectKmipOptions): Promise<KmipConnection> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const framer = new TtlvFramer({ maxMessageSize: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE, requireStructure: true });
  return new Promise<KmipConnection>((resolve, reject) => {
    const socket = connect({
      host: options.host,
      port: options.port,
      ...(options.secureContext ? { secureContext: options.secureContext } : { ca: options.ca, cert: options.cert, key: options.key }),
      servername: options.servername,
      minVersion: 'TLSv1.2',
      maxVersion: options.maxVersion ?? 'TLSv1.3',
      session: options.session,
    });
    socket.setNoDelay(true);
    let settled = false;
    const timer = setTimeout(() => {
      settle(new KmipTransportError('ConnectTimeout', `no TLS connection to ${options.host}:${options.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    function settle(err: KmipTransportError | undefined): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
        return;
      }
      resolve(new Connection(socket, framer, timeoutMs));
    }
    function onError(err: Error): void {
      settle(new KmipTransportError('ConnectFailed', `cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    }
    function onClose(): void {
      settle(new KmipTransportError('ConnectFailed', `connection to ${options.host}:${options.port} closed during the handshake`));
    }
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', () => settle(undefined));
  });
}
