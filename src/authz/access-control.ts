/**
 * Authentication and authorization of KMIP requests (K7; KMIP 1.4 §10 / Profiles "Authentication
 * Suites": the client is identified by its TLS certificate). Implements the executor's
 * AccessControl: identify() maps the verified certificate to (tenant, role) through the binding
 * rules, refusing revoked certificates; authorize() consults the role table.
 *
 * Bindings and revocations are read into memory and reloaded only when the database changed.
 * With SQLite that check is one cheap synchronous statement, made at most once per event-loop
 * iteration that carries messages, so a change reaches the requests at most one iteration after
 * it committed. With PostgreSQL it is a query, so it runs on the poll timer instead: a
 * change made on any node (or by the CLI) is seen by every node within one poll period plus one query
 * (REVOCATION_BOUND_MS documents the bound). The timer also closes open connections of a
 * certificate revoked meanwhile, even idle ones.
 */
import type { Logger } from 'pino';
import type { Principal } from '../dispatch/types.js';
import { enumValueName } from '../kmip/registry.js';
import type { AccessControl, Decision, Identity } from '../ops/types.js';
import type { AccessSnapshot, AccessStore, RoleBinding } from '../store/access-types.js';
import { describeRule, firstMatch } from './binding-rules.js';
import { certificateFacts } from './certificate-facts.js';
import { parseRole, ROLES, roleAllows } from './roles.js';

export interface AccessControlOptions {
  store: AccessStore;
  log: Logger;
  /** How often the database is checked for changes (bindings, revocations). Default 250 ms; 0: never. */
  pollMs?: number;
}

export const DEFAULT_ACCESS_POLL_MS = 250;
/**
 * The documented bound for a binding change or revocation made anywhere to take effect on every
 * node: one poll period, plus a reload query, with room for a busy event loop.
 */
export const REVOCATION_BOUND_MS = 1_000;

export interface CertificateAccessControl extends AccessControl {
  /** Why identify() refused this principal (for the audit trail), or its binding. */
  explain(principal: Principal): string;
  /** false for a revoked certificate: refuse the connection right after the handshake. */
  admits(principal: Principal): boolean;
  /** Called with the fingerprints newly revoked since the last reload. */
  onRevoked(listener: (fingerprints: ReadonlySet<string>) => void): void;
  /** Reloads now if the database changed (the poll timer calls this). */
  refresh(): Promise<void>;
  close(): void;
}

interface Snapshot {
  counter: number;
  bindings: RoleBinding[];
  revoked: Set<string>;
}

export async function createAccessControl(options: AccessControlOptions): Promise<CertificateAccessControl> {
  const { store, log } = options;
  const listeners: ((fps: ReadonlySet<string>) => void)[] = [];
  const toSnapshot = (a: AccessSnapshot): Snapshot => ({ counter: a.counter, bindings: a.bindings, revoked: new Set(a.revocations.map((r) => r.fingerprint)) });
  const initial = store.changedSince(undefined);
  // A store that answers synchronously is asked on every message; others only by the timer.
  const synchronous = !(initial instanceof Promise);
  const first = await initial;
  if (first === undefined) throw new Error('access store returned no initial snapshot');
  let snap: Snapshot = toSnapshot(first);
  /** Refusals already logged, so a misbehaving client does not flood the log (its burst is warned separately). */
  const refusedLogged = new Set<string>();
  let inFlight: Promise<void> | undefined;

  function apply(next: AccessSnapshot | undefined): void {
    if (next === undefined || next.counter === snap.counter) return;
    const before = snap.revoked;
    snap = toSnapshot(next);
    refusedLogged.clear();
    log.info({ bindings: snap.bindings.length, revoked: snap.revoked.size }, 'role bindings reloaded');
    const fresh = new Set([...snap.revoked].filter((fp) => !before.has(fp)));
    if (fresh.size > 0) for (const l of listeners) l(fresh);
  }

  /** Applies a synchronous answer at once; an asynchronous one when it arrives (one at a time). */
  function refreshNow(): Promise<void> {
    if (inFlight !== undefined) return inFlight;
    const next = store.changedSince(snap.counter);
    if (!(next instanceof Promise)) {
      apply(next);
      return Promise.resolve();
    }
    inFlight = next.then(apply).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  /**
   * Per message, at most once per event-loop iteration: only a synchronous store is asked (a
   * networked one is left to the timer). The SQLite check is a read transaction of its own (two
   * fcntl locks and an fstat per call, ~8 µs on a loaded machine, ~2 % of the main thread under
   * Discover Versions on 16 connections); the messages executed in one iteration share it. The
   * flag is cleared by setImmediate, and while an immediate is pending the loop polls for I/O
   * without waiting: a check is reused only until the loop reaches its next check phase, never
   * across a wait for input, so a change is applied at the latest one loop iteration after it
   * committed (a fraction of a millisecond, a few under load).
   */
  let checkedThisTurn = false;
  const nextTurn = (): void => {
    checkedThisTurn = false;
  };
  function refreshIfCheap(): void {
    if (!synchronous || checkedThisTurn) return;
    checkedThisTurn = true;
    setImmediate(nextTurn);
    void refreshNow();
  }

  type Match = { kind: 'revoked' } | { kind: 'unbound' } | { kind: 'bad-role'; rule: RoleBinding } | { kind: 'bound'; rule: RoleBinding; identity: Identity };

  /**
   * Per connection (one Principal object each) and bindings snapshot: reading a certificate's
   * subject, SANs and fingerprint crosses into OpenSSL and reformats strings, which a profile of
   * 16 connections of Get showed on every message (certificateFacts, dnAttributes: ~2 % of samples).
   */
  const matches = new WeakMap<Principal, { snap: Snapshot; match: Match }>();

  function match(principal: Principal): Match {
    const cached = matches.get(principal);
    if (cached !== undefined && cached.snap === snap) return cached.match;
    const m = computeMatch(principal);
    matches.set(principal, { snap, match: m });
    return m;
  }

  function computeMatch(principal: Principal): Match {
    if (snap.revoked.has(principal.fingerprint)) return { kind: 'revoked' };
    const rule = firstMatch(snap.bindings, certificateFacts(principal.certificate));
    if (rule === undefined) return { kind: 'unbound' };
    const role = parseRole(rule.role);
    if (role === undefined) return { kind: 'bad-role', rule };
    const identity: Identity = { tenant: rule.tenant, scope: ROLES[role].allTenants ? null : rule.tenant, role, rule: describeRule(rule) };
    return { kind: 'bound', rule, identity };
  }

  function explainMatch(m: Match): string {
    switch (m.kind) {
      case 'revoked':
        return 'certificate revoked';
      case 'unbound':
        return 'no binding matched';
      case 'bad-role':
        return `${describeRule(m.rule)} names an unknown role`;
      case 'bound':
        return m.identity.rule;
    }
  }

  const reportFailure = (err: unknown): void => {
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'role bindings could not be reloaded');
  };
  const pollMs = options.pollMs ?? DEFAULT_ACCESS_POLL_MS;
  const timer = pollMs > 0 ? setInterval(() => {
    try {
      refreshNow().catch(reportFailure);
    } catch (err) {
      reportFailure(err);
    }
  }, pollMs) : undefined;
  timer?.unref();

  return {
    identify(principal) {
      refreshIfCheap();
      const m = match(principal);
      if (m.kind === 'bound') return m.identity;
      if (!refusedLogged.has(principal.fingerprint)) {
        refusedLogged.add(principal.fingerprint);
        log.warn({ subject: principal.subject, fingerprint: principal.fingerprint, reason: explainMatch(m) }, 'client certificate not authenticated');
      }
      return undefined;
    },
    authorize(identity, operation): Decision {
      const role = parseRole(identity.role);
      const op = enumValueName('Operation', operation) ?? `Operation ${operation}`;
      if (role === undefined) return { allowed: false, rule: `role ${identity.role} is unknown` };
      return roleAllows(role, operation)
        ? { allowed: true, rule: `role ${role} allows ${op}` }
        : { allowed: false, rule: `role ${role} does not allow ${op}` };
    },
    explain: (principal) => explainMatch(match(principal)),
    admits: (principal) => {
      refreshIfCheap();
      return !snap.revoked.has(principal.fingerprint);
    },
    onRevoked: (l) => void listeners.push(l),
    refresh: refreshNow,
    close: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
