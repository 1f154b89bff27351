/**
 * Authentication and authorization of KMIP requests (K7; KMIP 1.4 §10 / Profiles "Authentication
 * Suites": the client is identified by its TLS certificate). Implements the executor's
 * AccessControl: identify() maps the verified certificate to (tenant, role) through the binding
 * rules, refusing revoked certificates; authorize() consults the role table.
 *
 * Bindings and revocations are read into memory and reloaded only when the database changed
 * (PRAGMA data_version: one cheap statement per message). A timer does the same check so that a
 * revocation closes open connections at once, even idle ones.
 */
import type { Logger } from 'pino';
import type { Principal } from '../dispatch/types.js';
import { enumValueName } from '../kmip/registry.js';
import type { AccessControl, Decision, Identity } from '../ops/types.js';
import type { AccessStore, RoleBinding } from '../store/access-types.js';
import { describeRule, firstMatch } from './binding-rules.js';
import { certificateFacts } from './certificate-facts.js';
import { parseRole, ROLES, roleAllows } from './roles.js';

export interface AccessControlOptions {
  store: AccessStore;
  log: Logger;
  /** How often open connections are checked against new revocations. Default 250 ms; 0: never. */
  pollMs?: number;
}

export interface CertificateAccessControl extends AccessControl {
  /** Why identify() refused this principal (for the audit trail), or its binding. */
  explain(principal: Principal): string;
  /** false for a revoked certificate: refuse the connection right after the handshake. */
  admits(principal: Principal): boolean;
  /** Called with the fingerprints newly revoked since the last reload. */
  onRevoked(listener: (fingerprints: ReadonlySet<string>) => void): void;
  /** Reloads now if the database changed (the poll timer calls this). */
  refresh(): void;
  close(): void;
}

interface Snapshot {
  counter: number;
  bindings: RoleBinding[];
  revoked: Set<string>;
}

export function createAccessControl(options: AccessControlOptions): CertificateAccessControl {
  const { store, log } = options;
  const listeners: ((fps: ReadonlySet<string>) => void)[] = [];
  let snap: Snapshot = load();
  /** Refusals already logged, so a misbehaving client does not flood the log (its burst is warned separately). */
  const refusedLogged = new Set<string>();

  function load(): Snapshot {
    const counter = store.changeCounter();
    return { counter, bindings: store.listBindings(), revoked: new Set(store.listRevocations().map((r) => r.fingerprint)) };
  }

  function refresh(): void {
    if (store.changeCounter() === snap.counter) return;
    const before = snap.revoked;
    snap = load();
    refusedLogged.clear();
    log.info({ bindings: snap.bindings.length, revoked: snap.revoked.size }, 'role bindings reloaded');
    const fresh = new Set([...snap.revoked].filter((fp) => !before.has(fp)));
    if (fresh.size > 0) for (const l of listeners) l(fresh);
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

  const timer = (options.pollMs ?? 250) > 0 ? setInterval(() => {
    try {
      refresh();
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'role bindings could not be reloaded');
    }
  }, options.pollMs ?? 250) : undefined;
  timer?.unref();

  return {
    identify(principal) {
      refresh();
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
      refresh();
      return !snap.revoked.has(principal.fingerprint);
    },
    onRevoked: (l) => void listeners.push(l),
    refresh,
    close: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
