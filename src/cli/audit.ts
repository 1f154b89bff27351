/**
 * `kmipd audit verify|show --dir DIR` (K7): checks the hash chain of the audit trail and says
 * where it breaks (src/audit/verify.ts), and prints records filtered by time, principal,
 * operation and result. Exit status of verify: 0 intact, 2 tampered.
 */
import type { Command } from 'commander';
import { verifyChain } from '../audit/verify.js';
import { parseBody } from '../audit/record.js';
import { formatRecord, matchesFilter, parseSince, type AuditFilter } from '../audit/query.js';
import { withDeploymentStore } from './role.js';

export interface VerifyOutcome {
  ok: boolean;
  text: string;
}

export async function verifyDeploymentAudit(dir: string, expectHead?: string): Promise<VerifyOutcome> {
  let expect: { seq: number; hash: string } | undefined;
  if (expectHead !== undefined) {
    const m = /^(\d+):([0-9a-fA-F]{64})$/.exec(expectHead.trim());
    if (!m) throw new Error('--expect-head must be SEQ:HASH as printed by an earlier verify');
    expect = { seq: Number(m[1]), hash: m[2]!.toLowerCase() };
  }
  return withDeploymentStore(dir, async ({ audit }) => {
    // Rows and head from one snapshot: running nodes may keep appending meanwhile.
    const { rows, head } = await audit.chain();
    const result = verifyChain(rows, head, expect);
    const lines: string[] = [];
    if (result.ok) {
      lines.push(`audit trail intact: ${result.records} records`);
    } else {
      lines.push(`audit trail TAMPERED: ${result.problems.length} problem(s) in ${result.records} records`);
      for (const p of result.problems) lines.push(`  ${p.kind.padEnd(9)} at record ${p.seq}: ${p.message}`);
    }
    if (result.head !== undefined) lines.push(`head ${result.head.seq}:${result.head.hash} (keep this to check later with --expect-head)`);
    return { ok: result.ok, text: lines.join('\n') };
  });
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('verify and read the audit trail');

  audit
    .command('verify')
    .description('check the hash chain; exit 2 and say where if any record was modified, deleted, inserted or reordered')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--expect-head <seq:hash>', 'a head printed by an earlier verify, kept elsewhere: detects a rewritten chain')
    .action(async (opts: { dir: string; expectHead?: string }) => {
      const out = await verifyDeploymentAudit(opts.dir, opts.expectHead);
      process.stdout.write(`${out.text}\n`);
      if (!out.ok) process.exitCode = 2;
    });

  audit
    .command('show')
    .description('print audit records')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--since <when>', 'ISO date/time, or a duration back from now (15m, 2h, 7d)')
    .option('--principal <text>', 'subject substring or fingerprint prefix')
    .option('--op <operation>', 'operation name, e.g. Get')
    .option('--result <result>', 'Success, OperationFailed, a reason (PermissionDenied), or denied')
    .option('--json', 'one canonical record per line')
    .action(async (opts: { dir: string; since?: string; principal?: string; op?: string; result?: string; json?: boolean }) => {
      const filter: AuditFilter = {
        sinceMs: opts.since === undefined ? undefined : parseSince(opts.since),
        principal: opts.principal,
        operation: opts.op,
        result: opts.result,
      };
      const lines = await withDeploymentStore(opts.dir, async ({ audit }) => {
        const out: string[] = [];
        for (const row of await audit.rows({ sinceMs: filter.sinceMs })) {
          const rec = parseBody(row.body);
          if (rec === undefined) {
            out.push(`#${row.seq} (unreadable record: run audit verify)`);
            continue;
          }
          if (matchesFilter(rec, filter)) out.push(opts.json ? row.body : formatRecord(rec));
        }
        return out;
      });
      if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
    });
}
