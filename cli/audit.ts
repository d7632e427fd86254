import type { Command } from 'commander';
import { WarroomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import { formatZoned } from '../core/time.js';
import { auditAnchorsPath } from '../db/audit-anchors.js';
import { auditHead, auditTail, formatAuditHead, verifyAuditChain, type AuditBreakReason, type AuditVerification } from '../db/audit.js';
import { resolveIn, type CliIo } from './io.js';

const HINTS: Record<AuditBreakReason, string> = {
  hash: 'The row was changed in the database after it was written (behind the append-only triggers). Investigate before trusting the log; a database backup holds what it said.',
  link: 'A row before it was deleted, or rows were inserted or reordered, in the database behind the append-only triggers. Investigate before trusting the log.',
  'anchor-mismatch':
    'The rows from this one on were replaced and their hashes recomputed, so the chain alone looks whole; the anchors written outside the database show it. Investigate before trusting the log.',
  'missing-row':
    'Rows that were anchored are gone from the database. Investigate before trusting the log. If this database was replaced on purpose (a restore, another DATABASE_URL), move the old anchors file aside: the next anchoring starts a new one.',
};

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new WarroomError('invalid_option', `-n must be a whole number from 1 to 10000, not "${v}".`);
  return n;
}

function checkedText(v: AuditVerification): string {
  const a = v.anchors;
  const file = a.file ? ` (${a.file})` : '';
  if (a.absent) return `Checked ${v.rows} row${v.rows === 1 ? '' : 's'}; no anchors file at ${a.file}: nothing anchored yet.`;
  return `Checked ${v.rows} row${v.rows === 1 ? '' : 's'} and ${a.checked} anchor${a.checked === 1 ? '' : 's'}${file}.`;
}

function shortDetail(detail: Record<string, unknown>, width = 100): string {
  if (Object.keys(detail).length === 0) return '';
  const text = canonicalJson(detail);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the tamper-evident audit log');

  audit
    .command('verify')
    .description('recompute the hash chain of the audit log and check it against the anchors written outside the database; names the first row that breaks')
    .option('--anchors <file>', 'the anchors file to check against (default: WARROOM_AUDIT_ANCHORS_FILE or WARROOM_HOME/audit-anchors.jsonl)')
    .option('--json', 'print the verification as JSON (still exits non-zero when the log is broken)')
    .action(async (opts: { anchors?: string; json?: boolean }) => {
      await io.withApp(async (app) => {
        const anchorsFile = opts.anchors ? resolveIn(io, opts.anchors) : auditAnchorsPath(app.config);
        const v = await verifyAuditChain(app.db, { anchorsFile });
        if (opts.json) {
          io.out(`${JSON.stringify(v, null, 2)}\n`);
          if (!v.ok) io.setExitCode(2);
          return;
        }
        if (!v.ok) {
          throw new WarroomError('audit_broken', `Audit log broken: ${v.detail}\n${checkedText(v)}`, { hint: HINTS[v.reason ?? 'hash'] });
        }
        io.out(`Audit log intact: ${v.detail}\n`);
        if (v.anchors.invalidLines.length) io.err(`warning: lines ${v.anchors.invalidLines.slice(0, 10).join(', ')} of ${v.anchors.file} are not anchors (a torn write after a crash, or an edit).\n`);
      });
    });

  audit
    .command('tail')
    .description('show the latest rows of the audit log (secrets redacted)')
    .option('-n, --lines <n>', 'how many rows', parseCount, 20)
    .option('--json', 'print [{id, at, actor, action, target, outcome, detail, hash}]')
    .action(async (opts: { lines: number; json?: boolean }) => {
      await io.withApp(async (app) => {
        const rows = await auditTail(app.db, opts.lines);
        if (opts.json) {
          const out = rows.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, detail: r.detail, hash: r.hash }));
          io.out(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          io.out('The audit log is empty.\n');
          return;
        }
        const tz = app.config.WARROOM_TIMEZONE;
        const cells = rows.map((r) => [`#${r.id}`, formatZoned(new Date(r.at), tz), r.actor, r.action, r.target ?? '-', r.outcome, shortDetail(r.detail)]);
        const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.min(40, Math.max(...cells.map((c) => c[i]!.length))));
        for (const c of cells) io.out(`${c.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd()}\n`);
        const head = await auditHead(app.db);
        if (head) io.out(`head: ${formatAuditHead(head)}\n`);
      });
    });
}
