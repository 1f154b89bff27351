/**
 * `kmipd role bind|unbind|list --dir DIR`: the rules that map client certificates to a tenant
 * and a role (K7; src/authz/binding-rules.ts). Rules live in the deployment's database; a
 * running server picks changes up on its next request, without a restart.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { openStoreBackend, type StoreBackend } from '../store/backend.js';
import type { AccessStore, MatchField, RoleBinding } from '../store/access-types.js';
import { normaliseValue } from '../authz/binding-rules.js';
import { dnText, normaliseFingerprint } from '../authz/certificate-facts.js';
import { operationsOf, parseRole, ROLE_NAMES, ROLES } from '../authz/roles.js';

/** Opens the deployment's store (DIR/kmipd.json → store: SQLite or PostgreSQL) for one CLI command. */
export async function withDeploymentStore<T>(dir: string, run: (store: StoreBackend, access: AccessStore) => T | Promise<T>): Promise<T> {
  const config = loadConfig(dir);
  const backend = await openStoreBackend(config.store, dir, { applicationName: 'kmipd cli' });
  try {
    return await run(backend, backend.access);
  } finally {
    await backend.close();
  }
}

export function requireRole(name: string): string {
  const role = parseRole(name);
  if (role === undefined) throw new Error(`unknown role "${name}": one of ${ROLE_NAMES.join(', ')}`);
  return role;
}

interface MatchOptions {
  cn?: string;
  ou?: string;
  o?: string;
  sanUri?: string;
  sanDns?: string;
  sanEmail?: string;
  issuer?: string;
  issuerCert?: string;
  fingerprint?: string;
  cert?: string;
}

/** Exactly one match option → (field, value); certificate files give the issuer DN or fingerprint. */
function matchOf(o: MatchOptions): { field: MatchField; value: string } {
  const found: { field: MatchField; value: string }[] = [];
  const add = (field: MatchField, value: string | undefined): void => {
    if (value !== undefined) found.push({ field, value });
  };
  add('cn', o.cn);
  add('ou', o.ou);
  add('o', o.o);
  add('san-uri', o.sanUri);
  add('san-dns', o.sanDns);
  add('san-email', o.sanEmail);
  add('issuer', o.issuer);
  if (o.issuerCert !== undefined) add('issuer', dnText(new X509Certificate(readFileSync(o.issuerCert)).subject));
  add('fingerprint', o.fingerprint);
  if (o.cert !== undefined) add('fingerprint', new X509Certificate(readFileSync(o.cert)).fingerprint256);
  if (found.length !== 1) {
    throw new Error('give exactly one of --cn, --ou, --o, --san-uri, --san-dns, --san-email, --issuer, --issuer-cert, --fingerprint, --cert');
  }
  const m = found[0]!;
  return { field: m.field, value: normaliseValue(m.field, m.field === 'fingerprint' ? normaliseFingerprint(m.value) : m.value) };
}

export function formatBinding(b: RoleBinding): string {
  return `${String(b.position).padStart(3)}  #${b.id}  ${b.field}=${b.value}  ->  tenant ${b.tenant}, role ${b.role}${b.note ? `  (${b.note})` : ''}`;
}

function addMatchOptions(cmd: Command): Command {
  return cmd
    .option('--cn <cn>', 'subject common name')
    .option('--ou <ou>', 'subject organizational unit')
    .option('--o <o>', 'subject organization')
    .option('--san-uri <uri>', 'subjectAltName URI')
    .option('--san-dns <name>', 'subjectAltName DNS name')
    .option('--san-email <email>', 'subjectAltName email address')
    .option('--issuer <dn>', 'issuer DN as kmipd prints it (O=...,CN=...)')
    .option('--issuer-cert <file>', 'issuer DN taken from this CA certificate (every certificate it signed)')
    .option('--fingerprint <sha256>', 'SHA-256 fingerprint of one certificate (hex, colons optional)')
    .option('--cert <file>', 'fingerprint taken from this certificate file');
}

export function registerRoleCommands(program: Command): void {
  const role = program.command('role').description('bind client certificates to a tenant and a role');

  addMatchOptions(
    role
      .command('bind')
      .description('add a binding rule (first matching rule wins)')
      .requiredOption('--dir <dir>', 'deployment directory')
      .requiredOption('--role <role>', ROLE_NAMES.join(' | '))
      .option('--tenant <tenant>', 'tenant that owns what the certificate creates', 'default')
      .option('--position <n>', 'insert before the rule at this position (default: last)')
      .option('--note <text>', 'free text shown by role list'),
  ).action(async (opts: MatchOptions & { dir: string; role: string; tenant: string; position?: string; note?: string }) => {
    const roleName = requireRole(opts.role);
    const m = matchOf(opts);
    const position = opts.position === undefined ? undefined : Number(opts.position);
    if (position !== undefined && (!Number.isInteger(position) || position < 1)) throw new Error('--position must be a positive integer');
    const b = await withDeploymentStore(opts.dir, (_s, access) =>
      access.addBinding({ ...m, tenant: opts.tenant, role: roleName, note: opts.note, position }),
    );
    process.stdout.write(`bound: ${formatBinding(b)}\n`);
  });

  addMatchOptions(
    role
      .command('unbind')
      .description('remove a binding rule by id, or every rule with this match')
      .requiredOption('--dir <dir>', 'deployment directory')
      .option('--id <id>', 'rule id as shown by role list'),
  ).action(async (opts: MatchOptions & { dir: string; id?: string }) => {
    const removed = await withDeploymentStore(opts.dir, async (_s, access) => {
      if (opts.id !== undefined) return (await access.removeBinding(Number(opts.id))) ? 1 : 0;
      const m = matchOf(opts);
      let n = 0;
      for (const b of await access.listBindings()) if (b.field === m.field && b.value === m.value && (await access.removeBinding(b.id))) n++;
      return n;
    });
    if (removed === 0) throw new Error('no binding matched');
    process.stdout.write(`removed ${removed} binding(s)\n`);
  });

  role
    .command('list')
    .description('list binding rules in evaluation order, and the roles')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--roles', 'also print what each role may do')
    .action(async (opts: { dir: string; roles?: boolean }) => {
      const bindings = await withDeploymentStore(opts.dir, (_s, access) => access.listBindings());
      const lines = bindings.length === 0 ? ['(no bindings: every certificate is refused)'] : bindings.map(formatBinding);
      if (opts.roles) {
        lines.push('');
        for (const r of ROLE_NAMES) lines.push(`${r}${ROLES[r].allTenants ? ' (all tenants)' : ''}: ${operationsOf(r).join(', ')}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

