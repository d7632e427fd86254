import { createWriteStream, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { canonicalize, compareStrings } from '../../core/json.js';
import { findSensor, sensors } from './sensors/index.js';
import { defaultSensorOptions, SensorUnavailableError, sensorIdPattern, type FactorItem, type SensorOptions } from './sensors/sensor.js';

/**
 * Snapshot files (JSON): one host at one moment,
 *   {"host", "takenAt", "label"?, "changeId"?, "role"?, "environment"?, "skipped"?, "factors": {"<sensor id>": [{"key", "value"}]}}
 * and fleet files, {"snapshots": [snapshot, …]}. `skipped` names the sensors that could not run and
 * why, so a diff reports "not compared" instead of "everything removed". `role` and `environment`
 * let a diff pair a test host with the production host of the same role.
 */
const isoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 time with offset, e.g. 2026-11-21T15:00:00+08:00' });
export const sensorId = z.string().regex(sensorIdPattern, 'expected a dotted sensor id such as "os.listen"');
export const snapshotLabels = ['before', 'after', 'baseline'] as const;
export type SnapshotLabel = (typeof snapshotLabels)[number];

export const factorItemSchema = z.object({
  key: z.string().min(1, 'must not be empty').max(8192),
  value: z.unknown().refine((v) => v !== undefined, 'is required (use null for "no value")'),
});

export const snapshotHeaderSchema = z.object({
  host: z.string().trim().min(1, 'must not be empty').max(255),
  takenAt: isoTime,
  label: z.enum(snapshotLabels).optional(),
  changeId: z.string().trim().min(1).max(200).optional(),
  role: z.string().trim().min(1).max(200).optional(),
  environment: z.string().trim().min(1).max(100).optional(),
  skipped: z.record(sensorId, z.string()).optional(),
});

export const snapshotSchema = snapshotHeaderSchema.extend({
  factors: z.record(sensorId, z.array(factorItemSchema)),
});

export const fleetSchema = z.object({ snapshots: z.array(snapshotSchema) });

export type SnapshotHeader = z.infer<typeof snapshotHeaderSchema>;
export type Snapshot = SnapshotHeader & { factors: Record<string, FactorItem[]> };

/** Zod issues as `snapshots[2].factors.os.listen[5].key: …`, for people reading a 400 or a CLI error. */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    let path = prefix;
    for (const seg of issue.path) path += typeof seg === 'number' ? `[${seg}]` : path ? `.${seg}` : String(seg);
    return `${path || '(document)'}: ${issue.message}`;
  });
}

/** A parsed single snapshot or fleet document, as a list of snapshots; throws naming every bad field. */
export function parseSnapshotDocument(doc: unknown, where: string): { snapshots: Snapshot[]; fleet: boolean } {
  const fleet = typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'snapshots' in doc;
  const parsed = fleet ? fleetSchema.safeParse(doc) : snapshotSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error);
    const shown = problems.slice(0, 20).map((p) => `  ${p}`);
    if (problems.length > 20) shown.push(`  … and ${problems.length - 20} more`);
    throw new WarroomError('snapshot_invalid', `${where}: ${problems.length} invalid field(s):\n${shown.join('\n')}`, {
      hint: 'A snapshot is {"host", "takenAt", "factors": {"<sensor id>": [{"key", "value"}]}}; a fleet is {"snapshots": [ … ]}. `warroom sense` writes them.',
    });
  }
  const data = parsed.data as { snapshots: Snapshot[] } | Snapshot;
  return 'snapshots' in data ? { snapshots: data.snapshots, fleet: true } : { snapshots: [data], fleet: false };
}

export interface TakeSnapshotOptions extends Partial<SensorOptions> {
  /** Sensor ids; default: every sensor marked `default`. */
  sensors?: string[];
  host?: string;
  label?: SnapshotLabel;
  changeId?: string;
  role?: string;
  environment?: string;
  now?: () => Date;
  /** Limit for one whole sensor. */
  sensorTimeoutMs?: number;
}

export interface SensorRun {
  sensor: string;
  items: number;
  ms: number;
  skipped?: string;
}

async function collectAll(iterable: AsyncIterable<FactorItem>, deadlineMs: number, sensor: string): Promise<FactorItem[]> {
  const out: FactorItem[] = [];
  const seen = new Set<string>();
  const work = (async () => {
    for await (const item of iterable) {
      if (typeof item.key !== 'string' || item.key.length === 0) throw new Error(`yielded an item without a key (item ${out.length})`);
      if (seen.has(item.key)) throw new Error(`yielded the key "${item.key}" twice; keys must be unique within a factor`);
      seen.add(item.key);
      out.push({ key: item.key, value: canonicalize(item.value ?? null) });
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${sensor} did not finish within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out.sort((a, b) => compareStrings(a.key, b.key));
}

export function resolveSensorIds(ids: string[] | undefined): string[] {
  if (!ids?.length) return sensors.filter((s) => s.default).map((s) => s.id);
  const unknown = ids.filter((id) => !findSensor(id));
  if (unknown.length) {
    throw new WarroomError('unknown_sensor', `Unknown sensor(s): ${unknown.join(', ')}.`, { hint: `Known sensors: ${sensors.map((s) => s.id).join(', ')}.` });
  }
  return [...new Set(ids)];
}

/**
 * Collect the chosen factors on this host. Sensors run concurrently; one that cannot run here or
 * fails is recorded under `skipped` with its reason, and the others still make the snapshot.
 */
export async function takeSnapshot(options: TakeSnapshotOptions = {}): Promise<{ snapshot: Snapshot; runs: SensorRun[] }> {
  const ids = resolveSensorIds(options.sensors);
  const { sensors: _ids, host, label, changeId, role, environment, now, sensorTimeoutMs, ...sensorOverrides } = options;
  const sensorOptions = defaultSensorOptions(Object.fromEntries(Object.entries(sensorOverrides).filter(([, v]) => v !== undefined)) as Partial<SensorOptions>);
  const takenAt = (now ?? (() => new Date()))();
  const runs = await Promise.all(
    ids.map(async (id): Promise<SensorRun & { collected?: FactorItem[] }> => {
      const sensor = findSensor(id)!;
      const t0 = performance.now();
      try {
        const collected = await collectAll(sensor.collect(sensorOptions), sensorTimeoutMs ?? 120_000, id);
        return { sensor: id, items: collected.length, ms: Math.round(performance.now() - t0), collected };
      } catch (err) {
        const reason = err instanceof SensorUnavailableError ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`;
        return { sensor: id, items: 0, ms: Math.round(performance.now() - t0), skipped: reason };
      }
    }),
  );
  const factors: Record<string, FactorItem[]> = {};
  const skipped: Record<string, string> = {};
  for (const r of [...runs].sort((a, b) => compareStrings(a.sensor, b.sensor))) {
    if (r.collected) factors[r.sensor] = r.collected;
    else if (r.skipped) skipped[r.sensor] = r.skipped;
  }
  const snapshot: Snapshot = {
    host: host ?? hostname(),
    takenAt: takenAt.toISOString(),
    ...(label ? { label } : {}),
    ...(changeId ? { changeId } : {}),
    ...(role ? { role } : {}),
    ...(environment ? { environment } : {}),
    ...(Object.keys(skipped).length ? { skipped } : {}),
    factors,
  };
  return { snapshot, runs: runs.map(({ collected: _c, ...r }) => r) };
}

// ---------------------------------------------------------------------------------------------
// Writing. Snapshots are written one factor per line:
//
//   {"host":"h1","takenAt":"…","label":"before","factors":{
//   "file.hash":[{"key":"/etc/hosts","value":{…}},…],
//   "os.listen":[…]
//   }}
//
// which is plain JSON, diffs well line by line, and lets `warroom diff` compare whole factors
// byte for byte without parsing them (the fast path that makes 10,000-host fleets quick).
// A fleet file wraps such snapshots: `{"snapshots":[` on the first line, `]}` on the last.

export const FACTORS_TAIL = ',"factors":{';
export const FLEET_HEAD = '{"snapshots":[';
export const FLEET_TAIL = ']}';

function headerOf(s: Snapshot): SnapshotHeader {
  return {
    host: s.host,
    takenAt: s.takenAt,
    ...(s.label ? { label: s.label } : {}),
    ...(s.changeId ? { changeId: s.changeId } : {}),
    ...(s.role ? { role: s.role } : {}),
    ...(s.environment ? { environment: s.environment } : {}),
    ...(s.skipped && Object.keys(s.skipped).length ? { skipped: canonicalize(s.skipped) as Record<string, string> } : {}),
  };
}

/** A factor's items as the line layout writes them: sorted by key, values canonicalised. */
export function formatFactorItems(items: readonly FactorItem[]): string {
  return JSON.stringify([...items].sort((a, b) => compareStrings(a.key, b.key)).map((it) => ({ key: it.key, value: canonicalize(it.value) })));
}

/** Header line, one line per factor (`factorJson` is the items array's JSON), closing line. */
export function formatSnapshotLines(header: SnapshotHeader, factors: ReadonlyArray<[string, string]>): string {
  const lines = [`${JSON.stringify(headerOf({ ...header, factors: {} })).slice(0, -1)}${FACTORS_TAIL}`];
  const sorted = [...factors].sort(([a], [b]) => compareStrings(a, b));
  sorted.forEach(([id, json], i) => lines.push(`${JSON.stringify(id)}:${json}${i < sorted.length - 1 ? ',' : ''}`));
  lines.push('}}');
  return lines.join('\n');
}

/**
 * The snapshot in the line layout (no trailing newline). Items are sorted by key and values
 * canonicalised here as well, so files from any producer written through Warroom compare by bytes.
 */
export function formatSnapshot(s: Snapshot): string {
  return formatSnapshotLines(s, Object.entries(s.factors).map(([id, items]) => [id, formatFactorItems(items)]));
}

/** Streams snapshots into a fleet file, one at a time, so a 10,000-host fleet never sits in memory. */
export class FleetWriter {
  private readonly out: WriteStream;
  private count = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.write(`${FLEET_HEAD}\n`);
  }

  /** Resolves when the stream can take more (back-pressure). */
  async write(s: Snapshot): Promise<void> {
    await this.writeFormatted(formatSnapshot(s));
  }

  /** A snapshot already in the line layout (see `formatSnapshotLines`). */
  async writeFormatted(text: string): Promise<void> {
    const ok = this.out.write(`${this.count++ ? ',\n' : ''}${text}`);
    if (!ok) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }

  async close(): Promise<void> {
    this.out.write(`${this.count ? '\n' : ''}${FLEET_TAIL}\n`);
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }
}
