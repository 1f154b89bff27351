/**
 * The contract between the transport (server/) and the message layer (dispatch/).
 * The server hands whole TTLV messages to an executor and writes back what it returns;
 * it never looks inside a message.
 */
import type { X509Certificate } from 'node:crypto';

/** Who is asking: derived from the verified peer certificate, never from message content. */
export interface Principal {
  /** Subject distinguished name as printed by node (`CN=admin\nO=kmipd`, joined with commas). */
  subject: string;
  /** SHA-256 fingerprint of the DER certificate, lower-case hex without separators. */
  fingerprint: string;
  /** The peer certificate itself, for identity rules that look at SANs, issuer, OU. */
  certificate: X509Certificate;
}

/** Per-connection facts the executor records with every request. */
export interface ConnectionInfo {
  id: string;
  remoteAddress: string;
  principal: Principal;
}

/** What to do with one inbound message. */
export type ExecutorResult =
  /** Send these bytes, keep the connection. */
  /** Send these bytes, keep the connection; `sensitive`: they carry secret material, zero them once written. */
  | { kind: 'reply'; bytes: Buffer; sensitive?: boolean }
  /** Send these bytes (may be empty), then close: the peer is not speaking KMIP or broke a limit. */
  | { kind: 'close'; bytes?: Buffer };

export interface MessageExecutor {
  /** Handles one whole TTLV message. Never throws: every failure becomes a result. */
  execute(message: Buffer, conn: ConnectionInfo): Promise<ExecutorResult>;
}
