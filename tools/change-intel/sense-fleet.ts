import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { Config } from '../../core/config.js';
import { WarroomError } from '../../core/errors.js';
import { defineTool, stepsOf, type ActionPlan, type StepSpec, type ToolContext, type ToolDefinition } from '../tool.js';
import { collectFleet, type FleetTally, type HostResult } from './fleet/collect.js';
import { fleetDriverNames, fleetHostSchema, type FleetDriver, type FleetDriverName } from './fleet/driver.js';
import { createDropDriver } from './fleet/drop-driver.js';
import { createHttpDriver } from './fleet/http-driver.js';
import { createSshDriver } from './fleet/ssh-driver.js';
import { readStaging, removeStaging, StagingFile } from './fleet/staging.js';
import { snapshotLabels } from './snapshot.js';
import { storeSnapshots, type StoreCounts } from './snapshots-store.js';

/** Most hosts one collection may name. */
export const MAX_FLEET_HOSTS = 5000;
/** Per-host rows in the result (failures first); the counts are always exact. */
export const FLEET_HOSTS_SHOWN = 500;

/** What the fleet tool is configured with (from WARROOM_FLEET_*; see `fleetSettingsFromConfig`). */
export interface FleetSettings {
  /** The driver when a request names none; unset: the only one configured. */
  driver?: FleetDriverName | undefined;
  sshCommand?: string | undefined;
  httpUrl?: string | undefined;
  httpToken?: string | undefined;
  dropDir?: string | undefined;
  concurrency: number;
  timeoutSeconds: number;
  /** Where collected snapshots wait for the store step (under WARROOM_HOME). */
  stagingDir: string;
}

export function fleetSettingsFromConfig(config: Config): FleetSettings {
  return {
    driver: config.WARROOM_FLEET_DRIVER,
    sshCommand: config.WARROOM_FLEET_SSH_COMMAND,
    httpUrl: config.WARROOM_FLEET_HTTP_URL,
    httpToken: config.WARROOM_FLEET_HTTP_TOKEN,
    dropDir: config.WARROOM_FLEET_DROP_DIR,
    concurrency: config.WARROOM_FLEET_CONCURRENCY,
    timeoutSeconds: config.WARROOM_FLEET_TIMEOUT_SECONDS,
    stagingDir: join(config.WARROOM_HOME, 'fleet'),
  };
}

const senseFleetInput = z.object({
  hosts: z
    .union([
      z.array(fleetHostSchema).min(1, 'name at least one host').max(MAX_FLEET_HOSTS, `at most ${MAX_FLEET_HOSTS} hosts per collection; split the fleet`),
      z.object({ fromChange: z.string().trim().min(1).max(200) }).strict(),
    ])
    .describe('host names, or {"fromChange": "CAB-…"}: the hosts that already have snapshots for that change (e.g. collect the "after" of every host that has a "before")'),
  label: z.enum(snapshotLabels).optional().describe('label for every snapshot: before, after or baseline'),
  changeId: z.string().trim().min(1).max(200).optional().describe('change ticket the snapshots belong to'),
  driver: z.enum(fleetDriverNames).optional().describe('ssh (command per host), http (agent endpoint) or drop (folder agents write to); default: the configured one'),
  concurrency: z.number().int().min(1).max(1000).optional().describe('hosts collected at the same time (default WARROOM_FLEET_CONCURRENCY)'),
  timeoutSeconds: z.number().min(0.1).max(3600).optional().describe('limit per host (default WARROOM_FLEET_TIMEOUT_SECONDS)'),
  maxAgeMinutes: z.number().positive().max(10_080).optional().describe('refuse snapshots taken longer ago than this (an old drop file)'),
});

const hostOut = z.object({
  host: z.string(),
  status: z.enum(['ok', 'failed', 'timeout']),
  snapshotId: z.string().optional(),
  reportedAs: z.string().optional(),
  error: z.string().optional(),
  ms: z.number(),
});

const senseFleetOutput = z.object({
  driver: z.enum(fleetDriverNames),
  label: z.string().nullable(),
  changeId: z.string().nullable(),
  total: z.number(),
  ok: z.number(),
  failed: z.number(),
  timedOut: z.number(),
  durationMs: z.number(),
  stored: z.object({ inserted: z.number(), updated: z.number(), unchanged: z.number() }),
  /** Failures and timeouts first, then the hosts collected; at most FLEET_HOSTS_SHOWN. */
  hosts: z.array(hostOut),
  hostsOmitted: z.number(),
  /** The commonest reasons hosts failed (the host's own name replaced by {host}), most hosts first. */
  failureReasons: z.array(z.object({ error: z.string(), hosts: z.number(), example: z.string() })),
});

export type SenseFleetInput = z.output<typeof senseFleetInput>;
export type SenseFleetOutput = z.output<typeof senseFleetOutput>;

/** The fleet tool as typed calls and views see it (the definition is built with its settings). */
export const senseFleetToolRef = { name: 'sense_fleet', input: senseFleetInput, output: senseFleetOutput } as const;

const configuredDrivers = (s: FleetSettings): FleetDriverName[] =>
  ([['ssh', s.sshCommand], ['http', s.httpUrl], ['drop', s.dropDir]] as const).filter(([, v]) => Boolean(v)).map(([n]) => n);

const driverEnv: Record<FleetDriverName, string> = {
  ssh: 'WARROOM_FLEET_SSH_COMMAND (e.g. ssh -o BatchMode=yes {host} warroom-sensor --json)',
  http: 'WARROOM_FLEET_HTTP_URL (e.g. http://{host}:9100/snapshot)',
  drop: 'WARROOM_FLEET_DROP_DIR (the folder agents write <host>.json to)',
};

/** The driver a request gets; refuses, naming the variable to set, when it is not configured. */
export function fleetDriverFor(name: FleetDriverName | undefined, settings: FleetSettings): FleetDriver {
  const configured = configuredDrivers(settings);
  const chosen = name ?? settings.driver ?? (configured.length === 1 ? configured[0] : undefined);
  if (!chosen) {
    throw new WarroomError(
      'fleet_driver_unset',
      configured.length ? `Several fleet drivers are configured (${configured.join(', ')}) and the request names none.` : 'No fleet driver is configured.',
      { hint: configured.length ? 'Name one (driver: ssh, http or drop) or set WARROOM_FLEET_DRIVER.' : `Set one of ${Object.values(driverEnv).join('; ')}.` },
    );
  }
  if (chosen === 'ssh' && settings.sshCommand) return createSshDriver({ commandTemplate: settings.sshCommand });
  if (chosen === 'http' && settings.httpUrl) return createHttpDriver({ urlTemplate: settings.httpUrl, token: settings.httpToken });
  if (chosen === 'drop' && settings.dropDir) return createDropDriver({ dir: settings.dropDir });
  throw new WarroomError('fleet_driver_unconfigured', `The ${chosen} fleet driver is not configured.`, {
    hint: `Set ${driverEnv[chosen]}${configured.length ? `, or use a configured driver: ${configured.join(', ')}` : ''}.`,
  });
}

interface ResolvedHosts {
  hosts: string[];
  duplicates: number;
  fromChange?: string;
}

/** The hosts a request names, without duplicates, in the order given. */
async function resolveHosts(selector: SenseFleetInput['hosts'], ctx: ToolContext): Promise<ResolvedHosts> {
  if (Array.isArray(selector)) {
    const hosts = [...new Set(selector)];
    return { hosts, duplicates: selector.length - hosts.length };
  }
  const rows = await ctx.db.query<{ host: string }>('SELECT DISTINCT host FROM snapshots WHERE change_id = $1 ORDER BY host LIMIT $2', [selector.fromChange, MAX_FLEET_HOSTS + 1]);
  if (rows.length === 0) {
    throw new WarroomError('fleet_no_hosts', `No host has a snapshot for ${selector.fromChange}, so there is no fleet to collect from.`, {
      hint: 'Name the hosts instead (hosts: ["trd-app-01", …]), or take the "before" snapshots first.',
    });
  }
  if (rows.length > MAX_FLEET_HOSTS) throw new WarroomError('fleet_too_many_hosts', `More than ${MAX_FLEET_HOSTS} hosts have snapshots for ${selector.fromChange}.`, { hint: 'Name the hosts in batches of at most 5000.' });
  return { hosts: rows.map((r) => r.host), duplicates: 0, fromChange: selector.fromChange };
}

function optionsOf(input: SenseFleetInput, settings: FleetSettings) {
  return { concurrency: input.concurrency ?? settings.concurrency, timeoutSeconds: input.timeoutSeconds ?? settings.timeoutSeconds };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const tagOf = (input: Pick<SenseFleetInput, 'label' | 'changeId'>) => [input.label, input.changeId].filter(Boolean).join(', ');

function stepSpecs(n: number, driver: FleetDriverName, concurrency: number, timeoutSeconds: number): { collect: StepSpec; store: StepSpec } {
  return {
    collect: { id: 'collect', title: `Collect from ${plural(n, 'host')} over ${driver} (${Math.min(concurrency, n)} at a time, ${timeoutSeconds} s per host)`, idempotent: true },
    store: { id: 'store', title: 'Store the collected snapshots for diffs', idempotent: true },
  };
}

/** "37/120 hosts: 35 ok, 2 failed", for the room's progress message. */
export function fleetProgressText(t: Readonly<FleetTally>): string {
  return `${t.done}/${t.total} hosts: ${t.ok} ok, ${t.failed} failed${t.timedOut ? `, ${t.timedOut} timed out` : ''}`;
}

/** What the collect step records (JSON): the per-host results and where the snapshots wait. */
interface Collected {
  results: HostResult[];
  tally: FleetTally;
  staged: string | null;
  ms: number;
}

function failureReasons(results: readonly HostResult[]): SenseFleetOutput['failureReasons'] {
  const byReason = new Map<string, { hosts: number; example: string }>();
  for (const r of results) {
    if (r.status === 'ok' || !r.error) continue;
    const key = r.error.split(r.host).join('{host}');
    const entry = byReason.get(key);
    if (entry) entry.hosts++;
    else byReason.set(key, { hosts: 1, example: r.host });
  }
  return [...byReason].map(([error, v]) => ({ error, ...v })).sort((a, b) => b.hosts - a.hosts).slice(0, 5);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Stores what the collect step staged, in one transaction; idempotent (an upsert by snapshot id). */
async function storeStaged(collected: Collected, ctx: ToolContext): Promise<Omit<StoreCounts, 'ids'>> {
  const none = { inserted: 0, updated: 0, unchanged: 0 };
  if (!collected.staged) return none;
  const path = collected.staged;
  if (!(await exists(path))) {
    // Run again after a crash that came after the store but before it was recorded: the file is gone
    // because it was stored. Check that every snapshot is there rather than trust it.
    const ids = [...new Set(collected.results.flatMap((r) => (r.snapshotId ? [r.snapshotId] : [])))];
    const [row] = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM snapshots WHERE id = ANY($1::text[])', [ids]);
    if ((row?.n ?? 0) === ids.length) return { ...none, unchanged: ids.length };
    throw new WarroomError('fleet_staging_missing', `The collected snapshots waiting in ${path} are gone and ${ids.length - (row?.n ?? 0)} of ${ids.length} are not stored.`, {
      hint: 'Run the collection again (it is safe to repeat).',
    });
  }
  const counts = await ctx.db.transaction(async (tx) => {
    const c = { ...none };
    for await (const batch of readStaging(path)) {
      const r = await storeSnapshots(tx, batch);
      c.inserted += r.inserted;
      c.updated += r.updated;
      c.unchanged += r.unchanged;
    }
    return c;
  });
  await removeStaging(path).catch(() => {});
  return counts;
}

/**
 * `sense_fleet` (write): collect perception-factor snapshots from many hosts through a driver, at a
 * bounded concurrency and with a limit per host, reporting progress as hosts finish; then store
 * them (label and change id applied) where `diff_snapshots` and `warroom diff` find them.
 */
export function createSenseFleetTool(settings: FleetSettings): ToolDefinition<typeof senseFleetInput, typeof senseFleetOutput> {
  return defineTool({
    name: 'sense_fleet',
    description:
      'Collect perception-factor snapshots (processes, ports, file hashes, packages, kernel parameters…) from many hosts at once through the configured driver (ssh command, HTTP agent endpoint or drop folder), labelled before/after a change, and store them for diffs. Reports each host: collected, failed (why) or timed out.',
    risk: 'write',
    input: senseFleetInput,
    output: senseFleetOutput,

    async plan(input, ctx): Promise<ActionPlan> {
      const { hosts, duplicates, fromChange } = await resolveHosts(input.hosts, ctx);
      const driver = fleetDriverFor(input.driver, settings);
      const { concurrency, timeoutSeconds } = optionsOf(input, settings);
      const specs = stepSpecs(hosts.length, driver.name, concurrency, timeoutSeconds);
      const tag = tagOf(input);
      const shown = hosts.slice(0, 8).join(', ');
      const notes = [
        `Hosts: ${shown}${hosts.length > 8 ? `, … and ${hosts.length - 8} more` : ''}${fromChange ? ` (those with snapshots for ${fromChange})` : ''}.`,
        `Driver ${driver.name}: ${driver.describe}.`,
      ];
      if (duplicates) notes.push(`${plural(duplicates, 'duplicate host name')} left out.`);
      if (input.maxAgeMinutes) notes.push(`Snapshots taken more than ${input.maxAgeMinutes} min before the collection are refused.`);
      return {
        steps: [specs.collect, specs.store].map(({ id, title }) => ({ id, title })),
        summary: `Collect perception factors from ${plural(hosts.length, 'host')} over ${driver.name}, ${Math.min(concurrency, hosts.length)} at a time${tag ? ` (${tag})` : ''}`,
        notes,
      };
    },

    async run(input, ctx) {
      const started = performance.now();
      const { hosts } = await resolveHosts(input.hosts, ctx);
      const driver = fleetDriverFor(input.driver, settings);
      const { concurrency, timeoutSeconds } = optionsOf(input, settings);
      const specs = stepSpecs(hosts.length, driver.name, concurrency, timeoutSeconds);
      const steps = stepsOf(ctx);

      const collected = await steps<Collected>(specs.collect, async (progress) => {
        const t0 = performance.now();
        const staging = await StagingFile.create(settings.stagingDir, `fleet-${ctx.approvedActionId ?? 'direct'}`, ctx.logger);
        // About every 5% of the fleet and at the end: enough to watch it move, not a message per host.
        const every = Math.max(1, Math.ceil(hosts.length / 20));
        let outcome;
        try {
          outcome = await collectFleet(hosts, driver, {
            concurrency,
            timeoutMs: timeoutSeconds * 1000,
            signal: ctx.signal,
            label: input.label,
            changeId: input.changeId,
            now: ctx.now,
            maxAgeMs: input.maxAgeMinutes === undefined ? undefined : input.maxAgeMinutes * 60_000,
            onSnapshot: (s) => staging.write(s),
            onHostDone: (t) => {
              if (t.done === t.total || t.done % every === 0) progress(fleetProgressText(t));
            },
          });
          await staging.close();
        } catch (err) {
          await staging.discard();
          throw err;
        }
        if (outcome.cancelled) {
          await staging.discard();
          throw new WarroomError('cancelled', `Fleet collection cancelled after ${outcome.tally.done} of ${outcome.tally.total} hosts; nothing was stored.`, { status: 409 });
        }
        if (outcome.tally.ok === 0) await staging.discard();
        return { results: outcome.results, tally: outcome.tally, staged: outcome.tally.ok ? staging.path : null, ms: Math.round(performance.now() - t0) };
      });

      const storeStarted = performance.now();
      const stored = await steps(specs.store, async () => storeStaged(collected, ctx));

      const { results, tally } = collected;
      const rank = (r: HostResult) => (r.status === 'ok' ? 2 : r.status === 'timeout' ? 1 : 0);
      const ordered = results.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map(({ r }) => r);
      const reasons = failureReasons(results);
      const durationMs = collected.ms + Math.round(performance.now() - storeStarted);
      const tag = tagOf(input);
      const data: SenseFleetOutput = {
        driver: driver.name,
        label: input.label ?? null,
        changeId: input.changeId ?? null,
        total: tally.total,
        ok: tally.ok,
        failed: tally.failed,
        timedOut: tally.timedOut,
        durationMs,
        stored,
        hosts: ordered.slice(0, FLEET_HOSTS_SHOWN),
        hostsOmitted: Math.max(0, ordered.length - FLEET_HOSTS_SHOWN),
        failureReasons: reasons,
      };
      ctx.logger.info({ tool: 'sense_fleet', driver: driver.name, ...tally, durationMs, wallMs: Math.round(performance.now() - started) }, 'fleet collection');
      const top = reasons[0];
      const summary =
        `Collected ${tally.ok}/${tally.total} hosts over ${driver.name} in ${(durationMs / 1000).toFixed(1)} s: ${tally.ok} ok, ${tally.failed} failed, ${tally.timedOut} timed out; ` +
        `stored ${plural(tally.ok, 'snapshot')}${tag ? ` (${tag})` : ''}.` +
        (top ? ` Commonest failure: ${top.error} (${plural(top.hosts, 'host')}).` : '');
      return { data, summary, status: tally.ok ? 'success' : 'no_data' };
    },
  });
}
