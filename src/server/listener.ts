/**
 * The KMIP listener: TCP accept -> admission limits -> mutual TLS -> client authentication ->
 * one KmipSession per connection (KMIP 1.4 §10 "Transport"; KMIP Profiles,
 * "Authentication Suites": TLS 1.2+ with client certificates).
 *
 * A plain `net.Server` accepts and applies the connection caps on the raw socket, before any TLS
 * work; admitted sockets are handed to one `tls.Server` that never listens itself (node documents
 * emitting 'connection' on it for exactly this). That server holds the one secure context, built
 * once at start, so handshakes never re-parse PEM files.
 *
 * Each connection produces one info line when it opens (peer, certificate subject and SHA-256
 * fingerprint, TLS version and cipher) and one when it closes (reason, counts), or one line when
 * its handshake fails (reason). Message bytes are never logged here.
 */
import { randomBytes } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { certificateFacts, readCertificateFacts } from '../authz/certificate-facts.js';
import { formatHostPort, parseHostPort } from '../config/config.js';
import type { KmipdConfig, LimitsConfig } from '../config/config.js';
import type { MessageExecutor, Principal } from '../dispatch/types.js';
import type { Logger } from '../observability/log.js';
import type { Counter, Gauge, MetricsRegistry } from '../observability/metrics.js';
import { ConnectionAdmission } from './limits.js';
import type { AdmissionRefusal } from './limits.js';
import { CLOSE_REASONS, KmipSession } from './session.js';
import type { CloseReason, SessionStats } from './session.js';
import { readTlsMaterial, tlsServerOptions } from './tls-options.js';
import type { TlsMaterial } from './tls-options.js';

/** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
export const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

export type ServerLimits = Pick<
  LimitsConfig,
  'maxMessageBytes' | 'handshakeTimeoutMs' | 'idleTimeoutMs' | 'readTimeoutMs' | 'maxConnections' | 'maxConnectionsPerAddress' | 'drainTimeoutMs'
>;

/**
 * Lets access control (src/authz, wired in app/) act on the transport: refuse a revoked
 * certificate right after its handshake, and close open sessions when a certificate is revoked.
 * It rides on the executor object so `serve` needs no change to pass it along.
 */
export interface ConnectionGate {
  /** false: the certificate is revoked; the connection is closed before any request. */
  admits(principal: Principal): boolean;
  /** The listener hands over a function that closes open sessions whose principal matches. */
  attach(closeWhere: (match: (principal: Principal) => boolean) => number): void;
}

/** An executor that may carry a connection gate (see ConnectionGate). */
export interface GatedExecutor extends MessageExecutor {
  readonly gate?: ConnectionGate;
}

export interface KmipServerOptions {
  host: string;
  /** 0 picks a free port (tests); the chosen one is in `address`. */
  port: number;
  tls: TlsMaterial & { legacyCiphers: boolean; requireClientAuthEku: boolean; ticketKeys?: Buffer };
  limits: ServerLimits;
  executor: GatedExecutor;
  log: Logger;
  metrics: MetricsRegistry;
}

export interface SessionSnapshot {
  id: string;
  remoteAddress: string;
  subject: string;
  stats: SessionStats;
}

export interface KmipServer {
  readonly address: { host: string; port: number };
  /** Admitted connections still open, handshaking ones included. */
  readonly connections: number;
  /** Per-session counters, for tests and diagnostics. */
  sessions(): SessionSnapshot[];
  /** True once close() was called. */
  readonly draining: boolean;
  /**
   * Graceful drain: stop accepting, let in-flight requests finish and their responses flush,
   * end idle connections; whatever is still open after limits.drainTimeoutMs is destroyed.
   */
  close(): Promise<void>;
  /** Closes at once every open session whose principal matches; returns how many. */
  closeWhere(match: (principal: Principal) => boolean): number;
}

/** Reasons a handshake (or the client check right after it) fails; a fixed set, used as a metric label. */
export type HandshakeFailure =
  | 'timeout'
  | 'peer_closed'
  | 'protocol_version'
  | 'no_shared_cipher'
  | 'not_tls'
  | 'no_client_cert'
  | 'cert_untrusted'
  | 'cert_expired'
  | 'cert_not_yet_valid'
  | 'cert_purpose'
  | 'cert_invalid'
  | 'client_eku'
  | 'cert_revoked'
  | 'tls_error';

function classifyVerifyError(code: string): HandshakeFailure {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'cert_expired';
    case 'CERT_NOT_YET_VALID':
      return 'cert_not_yet_valid';
    case 'INVALID_PURPOSE':
      return 'cert_purpose';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
      return 'cert_untrusted';
    default:
      return 'cert_invalid';
  }
}

function classifyTlsError(err: NodeJS.ErrnoException): HandshakeFailure {
  switch (err.code) {
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'peer_closed';
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_VERSION_TOO_LOW':
      return 'protocol_version';
    case 'ERR_SSL_NO_SHARED_CIPHER':
      return 'no_shared_cipher';
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'no_client_cert';
    case 'ERR_SSL_HTTP_REQUEST':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
    case 'ERR_SSL_UNKNOWN_PROTOCOL':
      return 'not_tls';
    default:
      return 'tls_error';
  }
}

interface TransportMetrics {
  open: Gauge;
  total: Counter;
  handshakeFailures: Counter<'reason'>;
  rejected: Counter<'reason'>;
  closes: Counter<'reason'>;
}

function registerTransportMetrics(registry: MetricsRegistry): TransportMetrics {
  return {
    open: registry.gauge({ name: 'kmipd_connections_open', help: 'KMIP connections currently open (handshaking or established).' }),
    total: registry.counter({ name: 'kmipd_connections_total', help: 'KMIP connections admitted (TCP accepted and within the connection limits).' }),
    handshakeFailures: registry.counter({
      name: 'kmipd_tls_handshake_failures_total',
      help: 'Connections that failed TLS or client-certificate checks, by reason.',
      labelNames: ['reason'],
    }),
    rejected: registry.counter({
      name: 'kmipd_connections_rejected_total',
      help: 'Connections refused before TLS by a connection limit or shutdown, by reason.',
      labelNames: ['reason'],
    }),
    closes: registry.counter({
      name: 'kmipd_connections_closed_total',
      help: 'Established KMIP sessions closed, by reason.',
      labelNames: ['reason'],
    }),
  };
}

/** What the listener knows about one admitted TCP connection. */
interface ConnectionRecord {
  id: string;
  address: string;
  port: number;
  key: string;
  raw: Socket;
  state: 'handshake' | 'open';
  failure: HandshakeFailure | undefined;
  /** Closed by us during shutdown: not a handshake failure. */
  shutdown: boolean;
  released: boolean;
  session: KmipSession | undefined;
}

/**
 * Connection ids: 48 random bits each, cut from a pooled buffer. A randomBytes call per
 * connection (a synchronous trip into OpenSSL's generator) showed in the connect profile.
 */
const ID_BYTES = 6;
const ID_POOL_BYTES = ID_BYTES * 512;
let idPool = Buffer.alloc(0);
let idOffset = 0;

function newConnectionId(): string {
  if (idOffset + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_POOL_BYTES);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

function peerKey(address: string | undefined, port: number | undefined): string | undefined {
  return address === undefined || port === undefined ? undefined : `${address}|${port}`;
}

function formatPeer(address: string, port: number): string {
  return formatHostPort({ host: address, port });
}

export async function startKmipServer(options: KmipServerOptions): Promise<KmipServer> {
  const { limits, executor, log } = options;
  const metrics = registerTransportMetrics(options.metrics);
  const admission = new ConnectionAdmission(limits);
  /** Admitted connections by `address|port`, to find the record again from the TLS socket. */
  const records = new Map<string, ConnectionRecord>();
  const sessions = new Set<KmipSession>();
  let draining = false;
  let idleWaiters: Array<() => void> = [];

  const tlsServer: TlsServer = createTlsServer(
    tlsServerOptions(options.tls, {
      legacyCiphers: options.tls.legacyCiphers,
      requireClientAuthEku: options.tls.requireClientAuthEku,
      handshakeTimeoutMs: limits.handshakeTimeoutMs,
      ticketKeys: options.tls.ticketKeys,
    }),
  );

  function checkIdle(): void {
    if (records.size === 0 && sessions.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  function release(rec: ConnectionRecord): void {
    if (rec.released) return;
    rec.released = true;
    admission.release(rec.address);
    metrics.open.dec();
    records.delete(rec.key);
    checkIdle();
  }

  function failHandshake(rec: ConnectionRecord, reason: HandshakeFailure, detail: string | undefined, cert?: X509Certificate): void {
    if (rec.failure !== undefined || rec.shutdown) return;
    rec.failure = reason;
    metrics.handshakeFailures.inc({ reason });
    const fields: Record<string, unknown> = { conn: rec.id, remote: formatPeer(rec.address, rec.port), reason };
    if (detail !== undefined) fields.detail = detail;
    if (cert) {
      // Naming the refused certificate is what lets an operator fix the appliance.
      const facts = readCertificateFacts(cert);
      fields.subject = facts.subject;
      fields.fingerprint = facts.fingerprint;
      fields.issuer = facts.issuer;
      fields.validTo = cert.validTo;
    }
    log.info(fields, 'tls handshake failed');
  }

  function onAccept(raw: Socket): void {
    // Until the TLS socket takes over, errors on the raw socket must not become uncaught exceptions.
    raw.on('error', () => {});
    const address = raw.remoteAddress;
    const port = raw.remotePort;
    const key = peerKey(address, port);
    if (address === undefined || port === undefined || key === undefined) {
      raw.destroy();
      return;
    }
    const refusal: AdmissionRefusal | null = admission.tryAdmit(address);
    if (refusal !== null) {
      metrics.rejected.inc({ reason: refusal });
      log.info({ remote: formatPeer(address, port), reason: refusal }, 'connection rejected');
      raw.destroy();
      return;
    }
    const rec: ConnectionRecord = {
      id: newConnectionId(),
      address,
      port,
      key,
      raw,
      state: 'handshake',
      failure: undefined,
      shutdown: false,
      released: false,
      session: undefined,
    };
    records.set(key, rec);
    metrics.total.inc();
    metrics.open.inc();
    raw.once('close', () => {
      if (rec.state === 'handshake' && rec.failure === undefined && !rec.shutdown) {
        // A TLS error event, if node raises one, arrives after this close; give it a turn to
        // record the precise reason before settling on "the peer went away".
        setImmediate(() => failHandshake(rec, 'peer_closed', undefined));
      }
      release(rec);
    });
    tlsServer.emit('connection', raw);
  }

  function onTlsClientError(err: NodeJS.ErrnoException, socket: TLSSocket): void {
    // Node leaves the socket open after some of these (a handshake timeout, for one).
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    socket.destroy();
    const rec = key === undefined ? undefined : records.get(key);
    // Without a record the socket had already closed; the raw close path accounts for it.
    if (rec) failHandshake(rec, classifyTlsError(err), err.code);
  }

  function onSecureConnection(socket: TLSSocket): void {
    socket.on('error', () => {});
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    const rec = key === undefined ? undefined : records.get(key);
    if (!rec) {
      socket.destroy();
      return;
    }
    if (draining) {
      rec.shutdown = true;
      socket.destroy();
      return;
    }
    const cert = socket.getPeerX509Certificate();
    // The authentication decision (see tls-options.ts on rejectUnauthorized): OpenSSL verified
    // the chain against the CA bundle; refuse anything it did not accept.
    if (!cert) {
      failHandshake(rec, 'no_client_cert', undefined);
      socket.destroy();
      return;
    }
    if (!socket.authorized) {
      const code = String(socket.authorizationError);
      failHandshake(rec, classifyVerifyError(code), code, cert);
      socket.destroy();
      return;
    }
    // Verified by the CA bundle, so worth remembering: an appliance reconnects with the same
    // certificate (cached by fingerprint, see certificate-facts.ts).
    const facts = certificateFacts(cert);
    const eku = facts.extKeyUsage;
    if (options.tls.requireClientAuthEku && !(eku ?? []).includes(CLIENT_AUTH_EKU)) {
      failHandshake(rec, 'client_eku', eku === null ? 'no extendedKeyUsage' : `extendedKeyUsage ${eku.join(',')}`, cert);
      socket.destroy();
      return;
    }

    const principal: Principal = { subject: facts.subject, fingerprint: facts.fingerprint, certificate: cert };
    if (executor.gate !== undefined && !executor.gate.admits(principal)) {
      failHandshake(rec, 'cert_revoked', undefined, cert);
      socket.destroy();
      return;
    }
    const cipher = socket.getCipher();
    rec.state = 'open';
    const connLog = log.child({ conn: rec.id });
    connLog.info(
      {
        remote: formatPeer(rec.address, rec.port),
        subject: principal.subject,
        fingerprint: principal.fingerprint,
        tlsVersion: socket.getProtocol(),
        cipher: cipher.name,
        resumed: socket.isSessionReused(),
      },
      'connection open',
    );
    const session = new KmipSession(
      socket,
      { id: rec.id, remoteAddress: rec.address, principal },
      {
        executor,
        log: connLog,
        limits,
        onClose: (s, reason) => {
          sessions.delete(s);
          metrics.closes.inc({ reason });
          const st = s.stats;
          connLog.info(
            { reason, requests: st.requests, bytesIn: st.bytesIn, bytesOut: st.bytesOut, durationMs: Date.now() - s.openedAt },
            'connection closed',
          );
          release(rec);
          checkIdle();
        },
      },
    );
    rec.session = session;
    sessions.add(session);
  }

  tlsServer.on('tlsClientError', onTlsClientError);
  tlsServer.on('secureConnection', onSecureConnection);

  // Not half-open while handshaking: a peer that sends FIN then must be closed at once, not kept
  // until the handshake deadline. Sessions switch half-open on (see session.ts).
  // TCP keep-alive finds peers that vanished without a FIN (power loss, NAT expiry) on long-lived
  // appliance connections even before the idle timeout would.
  const netServer: NetServer = createNetServer(
    { allowHalfOpen: false, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
    onAccept,
  );
  // Pre-create the close-reason series so dashboards see zeros rather than gaps.
  for (const reason of CLOSE_REASONS) metrics.closes.inc({ reason }, 0);

  await new Promise<void>((resolveListen, rejectListen) => {
    const onError = (err: Error): void => rejectListen(err);
    netServer.once('error', onError);
    netServer.listen({ host: options.host, port: options.port }, () => {
      netServer.off('error', onError);
      resolveListen();
    });
  });
  netServer.on('error', (err) => log.error({ err }, 'listener error'));
  const bound = netServer.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  log.info({ listen: formatPeer(address.host, address.port) }, 'KMIP listener started');

  let closePromise: Promise<void> | undefined;

  function closeWhere(match: (principal: Principal) => boolean): number {
    let closed = 0;
    for (const s of [...sessions]) {
      if (!s.closed && match(s.info.principal)) {
        log.warn({ conn: s.info.id, subject: s.info.principal.subject, fingerprint: s.info.principal.fingerprint }, 'closing connection: certificate revoked');
        s.destroy('executor_close');
        closed++;
      }
    }
    return closed;
  }
  executor.gate?.attach(closeWhere);

  async function drain(): Promise<void> {
    draining = true;
    admission.closeAdmission();
    const started = Date.now();
    log.info({ open: records.size, sessions: sessions.size, deadlineMs: limits.drainTimeoutMs }, 'draining KMIP listener');
    const serverClosed = new Promise<void>((r) => netServer.close(() => r()));
    for (const rec of records.values()) {
      if (rec.state === 'handshake') {
        // No request can be in flight before the handshake is done.
        rec.shutdown = true;
        rec.raw.destroy();
      }
    }
    for (const s of sessions) s.drain();
    const allClosed = new Promise<void>((r) => {
      idleWaiters.push(r);
      checkIdle();
    });
    const deadline = setTimeout(() => {
      log.warn({ sessions: sessions.size }, 'drain deadline reached; destroying remaining connections');
      for (const s of sessions) s.destroy('shutdown_deadline');
      for (const rec of records.values()) {
        rec.shutdown = true;
        rec.raw.destroy();
      }
    }, limits.drainTimeoutMs);
    await allClosed;
    clearTimeout(deadline);
    await serverClosed;
    log.info({ durationMs: Date.now() - started }, 'KMIP listener closed');
  }

  return {
    address,
    get connections() {
      return admission.open;
    },
    get draining() {
      return draining;
    },
    sessions: () =>
      [...sessions].map((s) => ({ id: s.info.id, remoteAddress: s.info.remoteAddress, subject: s.info.principal.subject, stats: s.stats })),
    close: () => (closePromise ??= drain()),
    closeWhere,
  };
}

export interface ServerWiring {
  executor: GatedExecutor;
  log: Logger;
  metrics: MetricsRegistry;
  /** Overrides `config.listen` (the `serve --listen` option). */
  listen?: string;
}

/** Maps the deployment config to listener options; reads the TLS files once. */
export function kmipServerOptionsFromConfig(config: KmipdConfig, dir: string, wiring: ServerWiring): KmipServerOptions {
  let hp: { host: string; port: number };
  try {
    hp = parseHostPort(wiring.listen ?? config.listen);
  } catch (err) {
    throw new Error(`listen: ${(err as Error).message}`);
  }
  const { host, port } = hp;
  const material = readTlsMaterial(dir, config.tls);
  return {
    host,
    port,
    tls: { ...material, legacyCiphers: config.tls.legacyCiphers, requireClientAuthEku: config.tls.requireClientAuthEku },
    limits: config.limits,
    executor: wiring.executor,
    log: wiring.log,
    metrics: wiring.metrics,
  };
}

export type { CloseReason };
