import { compareStrings } from '../../../core/json.js';
import { tallyJson, type DiffTally, type HostDiff, type Uncompared } from './engine.js';

/**
 * Output of a diff: JSON written host by host (so 10,000 changed hosts never sit in one string),
 *   {"hosts": [{"host", "factors": [{"factor", "added", "removed", "modified": [{"key", "before", "after"}]}]}],
 *    "suppressed": n, "suppressedBy": {...}, "summary": {...}, "unmatched": {...}, "uncompared": [...]}
 * and text for people.
 */
export class DiffJsonWriter {
  private count = 0;

  constructor(private readonly write: (chunk: string) => void) {
    this.write('{"hosts":[');
  }

  host(d: HostDiff): void {
    this.write(`${this.count++ ? ',' : ''}\n${JSON.stringify(d)}`);
  }

  end(tally: DiffTally, unmatched: { before: string[]; after: string[] }): void {
    const rest = { ...tallyJson(tally), unmatched };
    const tail = JSON.stringify(rest).slice(1);
    this.write(`${this.count ? '\n' : ''}],${tail}\n`);
  }
}

const MAX_SHOWN = 80;

function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  // Hashes are unreadable in full; the first 12 characters identify a content version.
  const hashed = typeof v === 'string' && /^[0-9a-f]{40,}$/.test(v) ? `${v.slice(0, 12)}…` : s;
  return hashed.length > MAX_SHOWN ? `${hashed.slice(0, MAX_SHOWN - 1)}…` : hashed;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "sha256 1a2b3c4d5e6f… → 9f8e7d6c5b4a…, size 3223 → 3301" */
export function describeModification(m: { key: string; before?: unknown; after?: unknown }): string {
  if (isPlainObject(m.before) && isPlainObject(m.after)) {
    const keys = [...new Set([...Object.keys(m.before), ...Object.keys(m.after)])].sort(compareStrings);
    const parts: string[] = [];
    for (const k of keys) {
      const b = m.before[k];
      const a = m.after[k];
      if (JSON.stringify(b) === JSON.stringify(a)) continue;
      parts.push(`${k} ${b === undefined ? '∅' : short(b)} → ${a === undefined ? '∅' : short(a)}`);
    }
    return parts.join(', ');
  }
  return `${short(m.before)} → ${short(m.after)}`;
}

export function renderHostText(d: HostDiff): string {
  const lines = [`■ ${d.host}${d.afterHost ? ` ↔ ${d.afterHost}` : ''}`];
  for (const f of d.factors) {
    lines.push(`  ${f.factor}`);
    for (const it of f.added) lines.push(`    + ${it.key}  ${short(it.value)}`);
    for (const it of f.removed) lines.push(`    - ${it.key}  ${short(it.value)}`);
    for (const m of f.modified) lines.push(`    ~ ${m.key}  ${describeModification(m)}`);
  }
  return lines.join('\n');
}

function groupUncompared(list: Uncompared[]): string[] {
  const groups = new Map<string, string[]>();
  for (const u of list) {
    const k = `${u.factor}: ${u.reason}`;
    const hosts = groups.get(k) ?? [];
    hosts.push(u.host);
    groups.set(k, hosts);
  }
  return [...groups].map(([k, hosts]) => `${k} (${hosts.length === 1 ? hosts[0] : `${hosts.length} hosts, e.g. ${hosts.slice(0, 3).join(', ')}`})`);
}

export function renderSummaryText(tally: DiffTally, unmatched: { before: string[]; after: string[] }, names: { before: string; after: string }): string {
  const lines: string[] = [];
  const t = tally;
  if (t.hostsChanged === 0) lines.push(`No differences in ${t.hostsCompared} host(s) compared.`);
  else lines.push(`${t.hostsChanged} of ${t.hostsCompared} host(s) changed: ${t.added} added, ${t.removed} removed, ${t.modified} modified.`);
  if (t.suppressed) {
    const by = [...t.suppressedBy].sort(([a], [b]) => compareStrings(a, b)).map(([rule, n]) => `${rule} ${n}`).join(', ');
    lines.push(`${t.suppressed} difference(s) suppressed as noise (${by}); \`warroom noise list\` shows the rules, --raw shows everything.`);
  }
  if (t.uncompared.length) lines.push(`Not compared:\n${groupUncompared(t.uncompared).map((l) => `  ${l}`).join('\n')}`);
  const list = (hosts: string[]) => (hosts.length > 10 ? `${hosts.slice(0, 10).join(', ')} … (${hosts.length})` : hosts.join(', '));
  if (unmatched.before.length) lines.push(`Only in ${names.before}: ${list(unmatched.before)}`);
  if (unmatched.after.length) lines.push(`Only in ${names.after}: ${list(unmatched.after)}`);
  return lines.join('\n');
}
