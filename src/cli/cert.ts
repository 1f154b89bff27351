/**
 * `kmipd cert issue|sign|revoke|list --dir DIR` (K7): client certificates from the deployment CA
 * (DIR/certs/ca.crt + ca.key), each bound to a tenant and role by its fingerprint. Revocation is
 * recorded in the database; a running server closes the certificate's open connections within
 * a fraction of a second and refuses new ones.
 */
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { issueCertificate, signCsr, pkcs12Bundle, generateBundlePassword, type IssuedCertificate } from '../authz/cert-issuance.js';
import { normaliseFingerprint } from '../authz/certificate-facts.js';
import type { PemPair } from '../pki/dev-pki.js';
import { requireRole, withDeploymentStore } from './role.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function readCa(dir: string): PemPair {
  const cert = join(dir, 'certs', 'ca.crt');
  const key = join(dir, 'certs', 'ca.key');
  if (!existsSync(key)) throw new Error(`${key} not found: certificates can only be issued by the deployment's own CA`);
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

function checkName(dir: string, name: string): void {
  if (!NAME.test(name)) throw new Error(`--name "${name}": letters, digits, '.', '_' and '-' only`);
  for (const ext of ['crt', 'key', 'p12']) {
    if (existsSync(join(dir, 'certs', `${name}.${ext}`))) throw new Error(`certs/${name}.${ext} already exists`);
  }
}

function writeFile(path: string, data: string | Buffer, mode: number): void {
  writeFileSync(path, data, { mode, flag: 'wx' });
  chmodSync(path, mode);
}

async function recordAndBind(dir: string, name: string, issued: IssuedCertificate, role: string, tenant: string): Promise<void> {
  await withDeploymentStore(dir, (_s, access) =>
    access.recordCertificate({ ...issued, name, issuedAt: Date.now() }, { field: 'fingerprint', value: issued.fingerprint, tenant, role, note: `certs/${name}.crt` }),
  );
}

function days(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new Error('--days must be an integer from 1 to 3650');
  return n;
}

const formatDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('issue, sign, revoke and list client certificates');

  cert
    .command('issue')
    .description('generate a key pair and client certificate, and bind it to a role')
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--name <name>', 'certificate name: certs/NAME.crt, .key (and .p12); subject CN')
    .requiredOption('--role <role>', 'Reader | Writer | Manager | Admin')
    .option('--tenant <tenant>', 'tenant', 'default')
    .option('--days <n>', 'validity in days', '825')
    .option('--p12', 'also write certs/NAME.p12 (PKCS#12: key, certificate, CA)')
    .option('--p12-password-file <file>', 'PKCS#12 password from this file (default: generated and printed once)')
    .action(async (opts: { dir: string; name: string; role: string; tenant: string; days: string; p12?: boolean; p12PasswordFile?: string }) => {
      const role = requireRole(opts.role);
      checkName(opts.dir, opts.name);
      const ca = readCa(opts.dir);
      const issued = issueCertificate({ ca, name: opts.name, tenant: opts.tenant, days: days(opts.days) });
      await recordAndBind(opts.dir, opts.name, issued, role, opts.tenant);
      const base = join(opts.dir, 'certs', opts.name);
      writeFile(`${base}.key`, issued.key!, 0o600);
      writeFile(`${base}.crt`, issued.cert, 0o644);
      const out = [`issued certs/${opts.name}.crt and .key: ${issued.subject}, tenant ${opts.tenant}, role ${role}, expires ${formatDate(issued.notAfter)}`, `fingerprint ${issued.fingerprint}`];
      if (opts.p12 || opts.p12PasswordFile !== undefined) {
        const given = opts.p12PasswordFile === undefined ? undefined : readFileSync(opts.p12PasswordFile, 'utf8').replace(/\r?\n$/, '');
        const password = given ?? generateBundlePassword();
        writeFile(`${base}.p12`, pkcs12Bundle({ cert: issued.cert, key: issued.key! }, ca.cert, password, opts.name), 0o600);
        out.push(given === undefined ? `certs/${opts.name}.p12 password (shown once): ${password}` : `certs/${opts.name}.p12 written`);
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });

  cert
    .command('sign')
    .description("sign an appliance's CSR (the appliance keeps its key) and bind it to a role")
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--csr <file>', 'PEM certificate signing request (RSA)')
    .requiredOption('--name <name>', 'certificate name: certs/NAME.crt')
    .requiredOption('--role <role>', 'Reader | Writer | Manager | Admin')
    .option('--tenant <tenant>', 'tenant', 'default')
    .option('--days <n>', 'validity in days', '825')
    .action(async (opts: { dir: string; csr: string; name: string; role: string; tenant: string; days: string }) => {
      const role = requireRole(opts.role);
      checkName(opts.dir, opts.name);
      const issued = signCsr({ ca: readCa(opts.dir), csrPem: readFileSync(opts.csr, 'utf8'), name: opts.name, days: days(opts.days) });
      await recordAndBind(opts.dir, opts.name, issued, role, opts.tenant);
      writeFile(join(opts.dir, 'certs', `${opts.name}.crt`), issued.cert, 0o644);
      process.stdout.write(
        `signed certs/${opts.name}.crt: ${issued.subject}, tenant ${opts.tenant}, role ${role}, expires ${formatDate(issued.notAfter)}\nfingerprint ${issued.fingerprint}\n`,
      );
    });

  cert
    .command('revoke')
    .description('revoke a certificate by name or SHA-256 fingerprint: its connections are closed at once')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--reason <text>', 'recorded with the revocation')
    .argument('<name-or-fingerprint>')
    .action(async (target: string, opts: { dir: string; reason?: string }) => {
      const msg = await withDeploymentStore(opts.dir, async (_s, access) => {
        const known = (await access.findCertificate(target)) ?? (await access.findCertificate(normaliseFingerprint(target)));
        const fingerprint = known?.fingerprint ?? normaliseFingerprint(target);
        if (known === undefined && !/^[0-9a-f]{64}$/.test(fingerprint)) throw new Error(`no certificate named "${target}", and it is not a SHA-256 fingerprint`);
        const fresh = await access.revoke({ fingerprint, name: known?.name ?? null, revokedAt: Date.now(), reason: opts.reason ?? null });
        return `${fresh ? 'revoked' : 'already revoked'}: ${known?.name ?? '(external certificate)'} ${fingerprint}`;
      });
      process.stdout.write(`${msg}\n`);
    });

  cert
    .command('list')
    .description('certificates issued here, with expiry, tenant, role and revocation')
    .requiredOption('--dir <dir>', 'deployment directory')
    .action(async (opts: { dir: string }) => {
      const lines = await withDeploymentStore(opts.dir, async (_s, access) => {
        const bindings = await access.listBindings();
        const revoked = new Map((await access.listRevocations()).map((r) => [r.fingerprint, r]));
        const now = Date.now();
        const rows = (await access.listCertificates()).map((c) => {
          const b = bindings.find((x) => x.field === 'fingerprint' && x.value === c.fingerprint);
          const r = revoked.get(c.fingerprint);
          const status = r !== undefined ? `REVOKED ${formatDate(r.revokedAt)}` : c.notAfter < now ? 'EXPIRED' : 'valid';
          return `${c.name.padEnd(20)} expires ${formatDate(c.notAfter)}  ${(b ? `${b.tenant}/${b.role}` : '(no fingerprint binding)').padEnd(22)} ${status.padEnd(18)} ${c.fingerprint.slice(0, 16)}…  ${c.subject}`;
        });
        for (const r of revoked.values()) {
          if (!(await access.findCertificate(r.fingerprint))) rows.push(`${'(external)'.padEnd(20)} REVOKED ${formatDate(r.revokedAt)} ${r.fingerprint}`);
        }
        return rows;
      });
      process.stdout.write(`${lines.length === 0 ? '(no certificates)' : lines.join('\n')}\n`);
    });
}
