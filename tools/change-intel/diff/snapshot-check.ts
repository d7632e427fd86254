import { WarroomError } from '../../../core/errors.js';
import { sensorIdPattern, type FactorItem } from '../sensors/sensor.js';
import { describeIssues, snapshotHeaderSchema, snapshotLabels, type Snapshot, type SnapshotHeader } from '../snapshot.js';

/**
 * Validation of snapshots read from files, cheap enough for a million items: hand-written checks
 * that accept what the zod schemas accept in the usual, already canonical form, and hand anything
 * unusual (a host with spaces around it, an odd time) to zod, which then decides and words the
 * message. The result equals what `snapshotSchema` would produce.
 */

export const FILE_HINT = 'A fleet file is {"snapshots": [ … ]} of snapshots {"host", "takenAt", "factors": {"<sensor id>": [{"key", "value"}]}}.';

export function invalid(where: string, message: string, hint?: string): WarroomError {
  return new WarroomError('snapshot_invalid', `${where}: ${message}`, { hint: hint ?? FILE_HINT });
}

/** A quick structural check of parsed factor items, equivalent to `factorItemSchema` but cheap enough for millions of items. */
export function checkItems(value: unknown, where: string): FactorItem[] {
  if (!Array.isArray(value)) throw invalid(where, 'expected an array of {"key", "value"} items');
  for (let i = 0; i < value.length; i++) {
    const it = value[i] as { key?: unknown; value?: unknown } | null;
    if (typeof it !== 'object' || it === null || Array.isArray(it)) throw invalid(`${where}[${i}]`, 'expected an object {"key", "value"}');
    if (typeof it.key !== 'string' || it.key.length === 0 || it.key.length > 8192) throw invalid(`${where}[${i}].key`, 'expected a non-empty string (at most 8192 characters)');
    if (it.value === undefined) throw invalid(`${where}[${i}].value`, 'is required (use null for "no value")');
  }
  return value as FactorItem[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Times seen valid: a fleet's snapshots share a handful of `takenAt` values, so each is checked by zod once. */
const validTimes = new Set<string>();
const takenAtSchema = snapshotHeaderSchema.shape.takenAt;

function validTime(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  if (validTimes.has(v)) return true;
  if (!takenAtSchema.safeParse(v).success) return false;
  if (validTimes.size >= 10_000) validTimes.clear();
  validTimes.add(v);
  return true;
}

/** A string that zod's `.trim().min(1).max(max)` keeps as it is. */
const plainString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max && v.trim() === v;
const optionalPlain = (v: unknown, max: number) => v === undefined || plainString(v, max);

function quickHeader(doc: Record<string, unknown>): SnapshotHeader | undefined {
  const { host, takenAt, label, changeId, role, environment, skipped } = doc;
  if (!plainString(host, 255) || !validTime(takenAt)) return undefined;
  if (label !== undefined && !(snapshotLabels as readonly unknown[]).includes(label)) return undefined;
  if (!optionalPlain(changeId, 200) || !optionalPlain(role, 200) || !optionalPlain(environment, 100)) return undefined;
  if (skipped !== undefined) {
    if (!isPlainObject(skipped)) return undefined;
    for (const k in skipped) if (!sensorIdPattern.test(k) || typeof skipped[k] !== 'string') return undefined;
  }
  const header: SnapshotHeader = { host, takenAt };
  if (label !== undefined) header.label = label as SnapshotHeader['label'];
  if (changeId !== undefined) header.changeId = changeId as string;
  if (role !== undefined) header.role = role as string;
  if (environment !== undefined) header.environment = environment as string;
  if (skipped !== undefined) header.skipped = skipped as Record<string, string>;
  return header;
}

/** The header fields of a parsed snapshot, validated (fast when they are in the usual form). */
export function checkHeader(doc: unknown, where: string): SnapshotHeader {
  if (!isPlainObject(doc)) throw invalid(where, 'expected a snapshot object {"host", "takenAt", "factors"}');
  const quick = quickHeader(doc);
  if (quick) return quick;
  const parsed = snapshotHeaderSchema.safeParse(doc);
  if (!parsed.success) throw invalid(where, describeIssues(parsed.error).join('; '));
  return parsed.data;
}

/**
 * A parsed snapshot, validated: header, factor ids and every item. Errors name the place, e.g.
 * `before.json snapshots[4711].factors.os.listen (host trd-04711)[3].key: expected a non-empty string`.
 * `hostWhere` is used once the host is known (it usually repeats the element's position).
 */
export function checkSnapshot(doc: unknown, where: string): Snapshot {
  const header = checkHeader(doc, where);
  const factors = (doc as { factors?: unknown }).factors;
  if (!isPlainObject(factors)) throw invalid(`${where}.factors`, factors === undefined ? 'is required' : 'expected an object {"<sensor id>": [items]}');
  for (const id in factors) {
    if (!sensorIdPattern.test(id)) throw invalid(`${where}.factors.${id} (host ${header.host})`, 'expected a dotted sensor id such as "os.listen"');
    checkItems(factors[id], `${where}.factors.${id} (host ${header.host})`);
  }
  return { ...header, factors: factors as Record<string, FactorItem[]> };
}
