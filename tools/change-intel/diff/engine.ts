import { compareStrings, jsonEqual } from '../../../core/json.js';
import type { FactorItem } from '../sensors/sensor.js';
import type { SnapshotHeader } from '../snapshot.js';
import { builtinRulesApply, keyNormalizer, normalizeValue, type NoiseRules } from './noise.js';

export interface ModifiedItem {
  key: string;
  before: unknown;
  after: unknown;
}

export interface FactorDiff {
  factor: string;
  added: FactorItem[];
  removed: FactorItem[];
  modified: ModifiedItem[];
}

export interface HostDiff {
  host: string;
  /** Set when the after side is another host (test vs production, or two single-host files). */
  afterHost?: string;
  factors: FactorDiff[];
}

export interface Uncompared {
  host: string;
  factor: string;
  reason: string;
}

/** A tally as plain data, to cross from a worker thread. */
export interface TallyPart {
  hostsCompared: number;
  hostsChanged: number;
  added: number;
  removed: number;
  modified: number;
  suppressed: number;
  suppressedBy: Array<[string, number]>;
  uncompared: Uncompared[];
}

/** Running totals over a whole diff (one host or 10,000). */
export class DiffTally {
  hostsCompared = 0;
  hostsChanged = 0;
  added = 0;
  removed = 0;
  modified = 0;
  suppressed = 0;
  readonly suppressedBy = new Map<string, number>();
  readonly uncompared: Uncompared[] = [];

  suppress(rule: string, n: number): void {
    if (n <= 0) return;
    this.suppressed += n;
    this.suppressedBy.set(rule, (this.suppressedBy.get(rule) ?? 0) + n);
  }

  toPart(): TallyPart {
    return {
      hostsCompared: this.hostsCompared,
      hostsChanged: this.hostsChanged,
      added: this.added,
      removed: this.removed,
      modified: this.modified,
      suppressed: this.suppressed,
      suppressedBy: [...this.suppressedBy],
      uncompared: this.uncompared,
    };
  }

  merge(p: TallyPart): void {
    this.hostsCompared += p.hostsCompared;
    this.hostsChanged += p.hostsChanged;
    this.added += p.added;
    this.removed += p.removed;
    this.modified += p.modified;
    for (const [rule, n] of p.suppressedBy) this.suppress(rule, n);
    this.uncompared.push(...p.uncompared);
  }

  count(host: HostDiff): void {
    this.hostsCompared++;
    if (host.factors.length === 0) return;
    this.hostsChanged++;
    for (const f of host.factors) {
      this.added += f.added.length;
      this.removed += f.removed.length;
      this.modified += f.modified.length;
    }
  }
}

/** One normalised key of one side: the value compared, and the raw key(s) and value it came from. */
interface Entry {
  value: unknown;
  rawKeys: string | string[];
  rawValue: unknown;
}

function toEntries(items: readonly FactorItem[], normalize: boolean, factor: string): Map<string, Entry> {
  const map = new Map<string, Entry>();
  const normalizeKey = keyNormalizer(factor);
  for (const it of items) {
    const key = normalize ? normalizeKey(it.key) : it.key;
    const prev = map.get(key);
    if (prev) {
      // Two items that normalise to one key (two ephemeral-port sockets of one program) are one fact.
      prev.rawKeys = [...(typeof prev.rawKeys === 'string' ? [prev.rawKeys] : prev.rawKeys), it.key];
      continue;
    }
    map.set(key, { value: normalize ? normalizeValue(it.value) : it.value, rawKeys: it.key, rawValue: it.value });
  }
  return map;
}

/** How many entries a raw comparison would report for a pair the noise rules found equal. */
function hiddenByNormalisation(b: Entry, a: Entry): number {
  if (typeof b.rawKeys === 'string' && typeof a.rawKeys === 'string') {
    if (b.rawKeys !== a.rawKeys) return 2; // removed + added, e.g. a re-picked ephemeral port
    // Only when a noise field was stripped can the raw values differ.
    return (b.value !== b.rawValue || a.value !== a.rawValue) && !jsonEqual(b.rawValue, a.rawValue) ? 1 : 0;
  }
  const bk = new Set(typeof b.rawKeys === 'string' ? [b.rawKeys] : b.rawKeys);
  const ak = new Set(typeof a.rawKeys === 'string' ? [a.rawKeys] : a.rawKeys);
  let n = 0;
  for (const k of bk) if (!ak.has(k)) n++;
  for (const k of ak) if (!bk.has(k)) n++;
  return n;
}

const byKey = (x: { key: string }, y: { key: string }) => compareStrings(x.key, y.key);
const entries = (d: FactorDiff) => d.added.length + d.removed.length + d.modified.length;

/**
 * The difference of one factor between two snapshots, after noise rules; `undefined` when there is
 * none. What the builtin rules hide is counted as the entries a raw comparison would have reported
 * for pairs that compare equal once normalised (a restarted process with a new PID: 1; a socket
 * on a re-picked ephemeral port: 2, removed and added).
 */
export function diffFactor(factor: string, before: readonly FactorItem[], after: readonly FactorItem[], rules: NoiseRules, tally: DiffTally): FactorDiff | undefined {
  const normalize = rules.builtin && builtinRulesApply(factor);
  const b = toEntries(before, normalize, factor);
  const a = toEntries(after, normalize, factor);
  let diff: FactorDiff = { factor, added: [], removed: [], modified: [] };
  let hidden = 0;
  for (const [key, eb] of b) {
    const ea = a.get(key);
    if (!ea) diff.removed.push({ key, value: eb.value });
    else if (!jsonEqual(eb.value, ea.value)) diff.modified.push({ key, before: eb.value, after: ea.value });
    else if (normalize) hidden += hiddenByNormalisation(eb, ea);
  }
  for (const [key, ea] of a) if (!b.has(key)) diff.added.push({ key, value: ea.value });
  tally.suppress('builtin', hidden);
  if (entries(diff) > 0 && rules.hasUserRulesFor(factor)) {
    const keep = <T extends { key: string }>(list: T[]): T[] =>
      list.filter((e) => {
        const rule = rules.match(factor, e.key);
        if (rule) tally.suppress(`rule:${rule.id}`, 1);
        return !rule;
      });
    diff = { factor, added: keep(diff.added), removed: keep(diff.removed), modified: keep(diff.modified) };
  }
  if (entries(diff) === 0) return undefined;
  diff.added.sort(byKey);
  diff.removed.sort(byKey);
  diff.modified.sort(byKey);
  return diff;
}

/**
 * Two item lists that are equal item for item, in the same order (values compared ignoring key
 * order): `diffFactor` would find nothing, so it need not run. Cheap on parsed items, and false
 * on the first difference; lists in another order are left to `diffFactor`.
 */
export function sameItems(before: readonly FactorItem[], after: readonly FactorItem[]): boolean {
  if (before.length !== after.length) return false;
  for (let i = 0; i < before.length; i++) {
    const b = before[i]!;
    const a = after[i]!;
    if (b.key !== a.key) return false;
    if (b.value !== a.value && (typeof b.value !== 'object' || typeof a.value !== 'object' || !jsonEqual(b.value, a.value))) return false;
  }
  return true;
}

/** What a diff needs to know about one side of a host: its header and, per factor, its items. */
export interface HostSide {
  header: SnapshotHeader;
  factorIds: Iterable<string>;
  items(factor: string): readonly FactorItem[];
  has(factor: string): boolean;
}

/**
 * Diff two sides of one host, factor by factor. A factor collected on one side only (not collected,
 * or its sensor skipped) is reported as not compared, with the reason, rather than as everything
 * added or removed; one collected on neither side is simply absent. `same` lets file readers
 * skip factors that are the same on both sides (by bytes or by items) cheaply.
 */
export function diffHost(before: HostSide, after: HostSide, rules: NoiseRules, tally: DiffTally, same?: (factor: string) => boolean): HostDiff {
  const host = before.header.host;
  const result: HostDiff = { host, ...(after.header.host !== host ? { afterHost: after.header.host } : {}), factors: [] };
  const ids = new Set<string>([...before.factorIds, ...after.factorIds]);
  for (const id of [...ids].sort(compareStrings)) {
    const inBefore = before.has(id);
    const inAfter = after.has(id);
    if (!inBefore || !inAfter) {
      const skipped = inBefore ? after.header.skipped?.[id] : before.header.skipped?.[id];
      const side = inBefore ? 'after' : 'before';
      tally.uncompared.push({ host, factor: id, reason: skipped ? `not collected ${side}: ${skipped}` : `not collected ${side}` });
      continue;
    }
    if (same?.(id)) continue;
    const d = diffFactor(id, before.items(id), after.items(id), rules, tally);
    if (d) result.factors.push(d);
  }
  tally.count(result);
  return result;
}

/** A side built from an in-memory snapshot (API, database, small files). */
export function sideOf(snapshot: SnapshotHeader & { factors: Record<string, FactorItem[]> }): HostSide {
  return {
    header: snapshot,
    factorIds: Object.keys(snapshot.factors),
    items: (f) => snapshot.factors[f] ?? [],
    has: (f) => Object.prototype.hasOwnProperty.call(snapshot.factors, f),
  };
}

export interface DiffReportJson {
  hosts: HostDiff[];
  suppressed: number;
  suppressedBy: Record<string, number>;
  summary: { hostsCompared: number; hostsChanged: number; added: number; removed: number; modified: number };
  unmatched: { before: string[]; after: string[] };
  uncompared: Uncompared[];
}

export function tallyJson(tally: DiffTally): Omit<DiffReportJson, 'hosts' | 'unmatched'> {
  return {
    suppressed: tally.suppressed,
    suppressedBy: Object.fromEntries([...tally.suppressedBy].sort(([a], [b]) => compareStrings(a, b))),
    summary: { hostsCompared: tally.hostsCompared, hostsChanged: tally.hostsChanged, added: tally.added, removed: tally.removed, modified: tally.modified },
    uncompared: tally.uncompared,
  };
}
