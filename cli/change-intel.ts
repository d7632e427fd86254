import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { toolContext } from '../tools/services.js';
import { WarroomError } from '../core/errors.js';
import { renderText } from '../bot/render/text.js';
import { diffView, noiseRulesView } from '../bot/views/diff-views.js';
import { listNoiseRules } from '../tools/change-intel/noise-rules-store.js';
import { storeSnapshots } from '../tools/change-intel/snapshots-store.js';
import { diffSnapshotFiles, type MatchBy } from '../tools/change-intel/diff/files.js';
import { NoiseRules, type UserNoiseRule } from '../tools/change-intel/diff/noise.js';
import { DiffJsonWriter, renderHostText, renderSummaryText } from '../tools/change-intel/diff/render.js';
import { openSnapshotFile } from '../tools/change-intel/diff/snapshot-files.js';
import type { noiseRulesTool } from '../tools/change-intel/noise-rules.js';
import type { diffSnapshotsTool } from '../tools/change-intel/snapshot-diff.js';
import { sensors } from '../tools/change-intel/sensors/index.js';
import { FleetWriter, formatFactorItems, formatSnapshot, formatSnapshotLines, snapshotLabels, takeSnapshot, type Snapshot } from '../tools/change-intel/snapshot.js';
import { resolveIn, type CliIo } from './io.js';

/** Command-line options are an edge like any other: validated, with the option named. */
function parseOptions<T extends z.ZodTypeAny>(schema: T, raw: unknown, command: string): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${String(i.path[0] ?? '?').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
    throw new WarroomError('cli_invalid', `warroom ${command}: ${problems.join('; ')}`, { hint: `Run \`warroom ${command} --help\` for the options.` });
  }
  return parsed.data;
}

const senseOptions = z.object({
  out: z.string().optional(),
  sensor: z.array(z.string()).optional(),
  path: z.array(z.string()).optional(),
  sysctl: z.array(z.string()).optional(),
  dbUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host:port/db').optional(),
  table: z.array(z.string().regex(/^[\w$]+(\.[\w$]+)?$/, 'expected table or schema.table')).optional(),
  kubeJson: z.array(z.string()).optional(),
  label: z.enum(snapshotLabels).optional(),
  change: z.string().trim().min(1).max(200).optional(),
  host: z.string().trim().min(1).max(255).optional(),
  role: z.string().trim().min(1).max(200).optional(),
  environment: z.string().trim().min(1).max(100).optional(),
  timeout: z.coerce.number().int().min(100).max(600_000).optional(),
  maxRows: z.coerce.number().int().min(1).max(1_000_000).optional(),
  store: z.boolean().optional(),
  post: z.string().url('expected the Warroom server URL, e.g. http://warroom:3000').optional(),
  list: z.boolean().optional(),
});

const diffOptions = z.object({
  json: z.boolean().optional(),
  by: z.enum(['host', 'role']).default('host'),
  db: z.boolean().default(true),
  raw: z.boolean().optional(),
  exitCode: z.boolean().optional(),
  host: z.string().trim().min(1).optional(),
  change: z.string().trim().min(1).optional(),
  against: z.string().trim().min(1).optional(),
  max: z.coerce.number().int().min(1).max(500).optional(),
  workers: z.coerce.number().int().min(1).max(64).optional(),
  as: z.string().min(1),
});

async function postSnapshot(base: string, snapshot: Snapshot): Promise<string> {
  const url = new URL('/api/snapshots', base);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(snapshot), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new WarroomError('post_failed', `Cannot reach ${url.origin}: ${(err as Error).message}.`, { hint: 'Is `warroom start` running there, and is WARROOM_HOST set to accept outside connections?' });
  }
  const body = await res.text();
  if (!res.ok) throw new WarroomError('post_failed', `${url} answered ${res.status}: ${body.slice(0, 500)}`);
  return body;
}

export function registerChangeIntelCommands(program: Command, io: CliIo): void {
  const resolveFromCwd = (p: string) => resolveIn(io, p);
  program
    .command('sense')
    .description('collect perception factors (processes, listeners, key files, packages, sysctl, mounts, DB schema/params, k8s) on this host into a snapshot')
    .option('-o, --out <file>', 'write the snapshot to this file (default: stdout)')
    .option('--sensor <ids...>', 'sensors to run (default: all default sensors; --list shows them)')
    .option('--path <paths...>', 'key files and directories for file.hash (replaces the defaults)')
    .option('--sysctl <keys...>', 'kernel parameters for os.sysctl, * within a segment (replaces the defaults)')
    .option('--db-url <url>', 'PostgreSQL for db.schema and db.params (default: $WARROOM_SENSE_DB_URL)')
    .option('--table <tables...>', 'key business parameter tables for db.params (schema.table)')
    .option('--kube-json <files...>', 'kubectl get … -o json / helm list -o json output for k8s.resource')
    .option('--label <label>', `what the snapshot is: ${snapshotLabels.join(', ')}`)
    .option('--change <id>', 'the change ticket it belongs to, e.g. CAB-20261121-004')
    .option('--host <name>', 'host name to record (default: this host)')
    .option('--role <role>', 'the host role, to compare test with production of the same role')
    .option('--environment <env>', 'prod, test, uat…')
    .option('--timeout <ms>', 'limit per external command and database statement')
    .option('--max-rows <n>', 'rows read per key parameter table')
    .option('--store', "also store the snapshot in Warroom's database (for chat `diff`)")
    .option('--post <url>', 'also POST the snapshot to a Warroom server, e.g. http://warroom:3000')
    .option('--list', 'list the sensors and exit')
    .action(async (raw: unknown) => {
      const opts = parseOptions(senseOptions, raw, 'sense');
      if (opts.list) {
        for (const s of sensors) io.out(`${s.id.padEnd(14)} ${s.default ? '       ' : '(extra)'} ${s.description}\n`);
        return;
      }
      const dbUrl = opts.dbUrl ?? (process.env.WARROOM_SENSE_DB_URL || undefined);
      const { snapshot, runs } = await takeSnapshot({
        ...(opts.sensor ? { sensors: opts.sensor } : {}),
        ...(opts.path ? { paths: opts.path.map(resolveFromCwd) } : {}),
        ...(opts.sysctl ? { sysctlKeys: opts.sysctl } : {}),
        ...(dbUrl ? { dbUrl } : {}),
        ...(opts.table ? { keyTables: opts.table } : {}),
        ...(opts.kubeJson ? { kubeFiles: opts.kubeJson.map(resolveFromCwd) } : {}),
        ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
        ...(opts.maxRows ? { maxRowsPerTable: opts.maxRows } : {}),
        ...(opts.label ? { label: opts.label } : {}),
        ...(opts.change ? { changeId: opts.change } : {}),
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.role ? { role: opts.role } : {}),
        ...(opts.environment ? { environment: opts.environment } : {}),
      });
      const text = `${formatSnapshot(snapshot)}\n`;
      if (opts.out) writeFileSync(resolveFromCwd(opts.out), text);
      else if (!opts.store && !opts.post) io.out(text);
      // The report goes to stderr so that stdout stays the snapshot when no --out is given.
      for (const r of runs) io.err(`  ${r.sensor.padEnd(14)} ${r.skipped ? `skipped: ${r.skipped}` : `${r.items} item(s) in ${r.ms} ms`}\n`);
      io.err(`Snapshot of ${snapshot.host} at ${snapshot.takenAt}${opts.out ? ` written to ${opts.out}` : ''}.\n`);
      if (opts.store) {
        await io.withApp(async (app) => {
          const counts = await app.db.transaction((tx) => storeSnapshots(tx, [snapshot]));
          io.err(`Stored as ${counts.ids[0]} in ${app.db.description}.\n`);
        });
      }
      if (opts.post) {
        await postSnapshot(opts.post, snapshot);
        io.err(`Posted to ${opts.post}.\n`);
      }
    });

  program
    .command('diff')
    .description('compare two snapshot or fleet files (or stored snapshots with --host) after noise rules')
    .argument('[before]', 'snapshot or fleet file taken before')
    .argument('[after]', 'snapshot or fleet file taken after (or of the other environment)')
    .option('--json', 'print {"hosts": [...], "suppressed": n, …}')
    .option('--by <key>', 'pair fleet snapshots by host or by role (test vs production)', 'host')
    .option('--no-db', 'do not open the database for user noise rules (builtin rules still apply)')
    .option('--raw', 'no noise rules at all: everything the sensors saw')
    .option('--exit-code', 'exit 1 when there are differences (for scripts)')
    .option('--workers <n>', 'worker threads (default: the cores, at most 4, when the two files hold 1 GiB or more; else one thread)')
    .option('--host <host>', 'compare stored snapshots of this host instead of files')
    .option('--change <id>', 'with --host: the before/after snapshots of this change')
    .option('--against <host>', 'with --host: compare with the newest snapshot of another host')
    .option('--max <n>', 'with --host: entries shown per list')
    .option('--as <person>', 'who is asking (for the audit log)', io.user)
    .action(async (beforeFile: string | undefined, afterFile: string | undefined, raw: unknown) => {
      const opts = parseOptions(diffOptions, raw, 'diff');
      if (!beforeFile || !afterFile) {
        if (!opts.host) throw new WarroomError('cli_invalid', 'warroom diff: give two files (BEFORE.json AFTER.json), or --host HOST for stored snapshots.', { hint: 'Take snapshots with `warroom sense --out FILE`.' });
        await io.withApp(async (app) => {
          const input = { host: opts.host, ...(opts.change ? { changeId: opts.change } : {}), ...(opts.against ? { against: opts.against } : {}), ...(opts.max ? { maxItems: opts.max } : {}) };
          const r = await app.tools.invoke<import('zod').output<(typeof diffSnapshotsTool)['output']>>('diff_snapshots', input, toolContext(app, opts.as));
          if (r.status === 'error') throw new WarroomError('diff_failed', r.error ?? r.summary);
          io.out(opts.json ? `${JSON.stringify(r.data, null, 2)}\n` : `${renderText(diffView(r.data!, 'en'))}\n`);
          if (opts.exitCode && r.status === 'success') io.setExitCode(1);
        });
        return;
      }
      const beforePath = resolveFromCwd(beforeFile);
      const afterPath = resolveFromCwd(afterFile);
      let userRules: UserNoiseRule[] = [];
      if (opts.db && !opts.raw) {
        userRules = await io.withApp((app) => listNoiseRules(app.db));
      }
      const rules = new NoiseRules(opts.raw ? [] : userRules, !opts.raw);
      const write = (s: string) => void io.out(s);
      const json = opts.json ? new DiffJsonWriter(write) : undefined;
      const result = await diffSnapshotFiles(beforePath, afterPath, {
        rules,
        by: opts.by as MatchBy,
        ...(opts.workers ? { workers: opts.workers } : {}),
        onHost(d) {
          if (json) json.host(d);
          else write(`${renderHostText(d)}\n\n`);
        },
      });
      if (json) json.end(result.tally, result.unmatched);
      else write(`${renderSummaryText(result.tally, result.unmatched, { before: basename(beforePath), after: basename(afterPath) })}\n`);
      if (opts.exitCode && result.tally.hostsChanged > 0) io.setExitCode(1);
    });

  program
    .command('fleet')
    .description('merge snapshot and fleet files into one fleet file in the layout `warroom diff` reads fastest')
    .requiredOption('-o, --out <file>', 'the fleet file to write')
    .argument('<files...>', 'snapshot or fleet files (any JSON layout)')
    .action(async (files: string[], opts: { out: string }) => {
      const out = resolveFromCwd(opts.out);
      const inputs = files.map(resolveFromCwd);
      if (inputs.includes(out)) throw new WarroomError('cli_invalid', `warroom fleet: --out ${opts.out} is also an input.`);
      const writer = new FleetWriter(out);
      const seen = new Map<string, string>();
      try {
        for (const path of inputs) {
          const file = openSnapshotFile(path);
          try {
            for (const block of file.blocks()) {
              const host = block.header.host;
              const first = seen.get(host);
              if (first) throw new WarroomError('snapshot_duplicate', `warroom fleet: host ${host} is in ${first} and in ${block.where}.`, { hint: 'A fleet holds one snapshot per host: leave one of them out.' });
              seen.set(host, block.where);
              // Factors already in the line layout are copied byte for byte; others are written canonically.
              const copy = file.kind === 'lines';
              const factors = [...block.factorIds].map((id): [string, string] => [id, (copy ? block.raw(id)?.toString('utf8') : undefined) ?? formatFactorItems(block.items(id))]);
              await writer.writeFormatted(formatSnapshotLines(block.header, factors));
            }
          } finally {
            file.close();
          }
        }
      } finally {
        await writer.close();
      }
      io.err(`${seen.size} snapshot(s) written to ${opts.out}.\n`);
    });

  const noise = program.command('noise').description('noise rules for perception-factor diffs ("one-click denoise")');
  noise
    .command('add')
    .description('mark diff entries of a factor whose key matches a glob as noise from now on')
    .requiredOption('--factor <factor>', 'factor id (globs allowed), e.g. os.process')
    .requiredOption('--key <pattern>', 'key glob as the diff shows it: * any characters, ? one character')
    .option('--reason <text>', 'why this is noise (shown in `noise list`)')
    .option('--as <person>', 'who adds it (for the audit log)', io.user)
    .action(async (opts: { factor: string; key: string; reason?: string; as: string }) => {
      await io.withApp(async (app) => {
        const r = await app.tools.invoke('noise_rule_add', { factor: opts.factor, keyPattern: opts.key, ...(opts.reason ? { reason: opts.reason } : {}) }, toolContext(app, opts.as));
        if (r.status === 'error') throw new WarroomError('noise_rule_invalid', r.error ?? r.summary, { hint: 'Example: warroom noise add --factor os.process --key "python3 /opt/jobs/* --run-id *" --reason "batch job arguments"' });
        io.out(`${r.summary}\n`);
      });
    });
  noise
    .command('list')
    .description('list the builtin and the added noise rules')
    .option('--json', 'print them as JSON')
    .option('--as <person>', 'who is asking (for the audit log)', io.user)
    .action(async (opts: { json?: boolean; as: string }) => {
      await io.withApp(async (app) => {
        const r = await app.tools.invoke<import('zod').output<(typeof noiseRulesTool)['output']>>('noise_rules', {}, toolContext(app, opts.as));
        if (r.status === 'error') throw new WarroomError('noise_rules_failed', r.error ?? r.summary);
        io.out(opts.json ? `${JSON.stringify(r.data, null, 2)}\n` : `${renderText(noiseRulesView(r.data!, 'en'))}\n`);
      });
    });
  noise
    .command('rm')
    .alias('remove')
    .description('remove a noise rule by id')
    .argument('<id>', 'rule id from `noise list`')
    .option('--as <person>', 'who removes it (for the audit log)', io.user)
    .action(async (id: string, opts: { as: string }) => {
      await io.withApp(async (app) => {
        const r = await app.tools.invoke('noise_rule_remove', { id }, toolContext(app, opts.as));
        if (r.status === 'error') throw new WarroomError('noise_rule_unknown', r.error ?? r.summary);
        io.out(`${r.summary}\n`);
      });
    });
}
