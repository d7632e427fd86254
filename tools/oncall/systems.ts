import { WarroomError } from '../../core/errors.js';
import type { Queryable } from '../../db/db.js';

export type SystemRow = {
  id: string;
  name: string;
  aliases: string[];
  tier: string | null;
  depends_on: string[];
  owners: Record<string, string[]>;
};

export async function listSystems(db: Queryable): Promise<SystemRow[]> {
  return db.query<SystemRow>('SELECT id, name, aliases, tier, depends_on, owners FROM systems ORDER BY tier NULLS LAST, id');
}

const norm = (s: string) => s.trim().toLowerCase();

function namesOf(s: SystemRow): string[] {
  return [s.id, s.name, ...s.aliases].filter((n) => n.trim().length > 0);
}

/** Edit distance, for "did you mean" suggestions on short names. */
function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** The system a person means by `name` (id, name or alias, any case). Throws with suggestions. */
export async function resolveSystem(db: Queryable, name: string): Promise<SystemRow> {
  return matchSystem(await listSystems(db), name);
}

/** The system `name` means (an exact id, name or alias, else the one system whose name contains it or is contained in it), without suggestions. */
export function findSystem(systems: SystemRow[], name: string): SystemRow | undefined {
  const wanted = norm(name);
  const exact = systems.find((s) => namesOf(s).some((n) => norm(n) === wanted));
  if (exact) return exact;
  const partial = systems.filter((s) => namesOf(s).some((n) => norm(n).includes(wanted) || wanted.includes(norm(n))));
  return partial.length === 1 ? partial[0] : undefined;
}

/** `resolveSystem` over systems already loaded (a batch resolves many names with one query). */
export function matchSystem(systems: SystemRow[], name: string): SystemRow {
  const found = findSystem(systems, name);
  if (found) return found;
  const wanted = norm(name);
  const partial = systems.filter((s) => namesOf(s).some((n) => norm(n).includes(wanted) || wanted.includes(norm(n))));
  const suggestions = (partial.length > 1 ? partial : systems)
    .map((s) => ({ s, d: Math.min(...namesOf(s).map((n) => distance(norm(n), wanted))) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map(({ s }) => `${s.name} (${s.id})`);
  throw new WarroomError('unknown_system', `No system matches "${name}".`, {
    hint: systems.length === 0 ? 'No systems are loaded yet: run `warroom demo` or `warroom import FILE.json`.' : `Did you mean: ${suggestions.join(', ')}? \`systems\` lists them all.`,
  });
}

/**
 * Systems named in free text, longest name first so "集中交易" wins over a shorter alias inside it.
 * ASCII names must stand as whole words ("jzjy", not "xjzjyx").
 */
export function systemsMentioned(systems: SystemRow[], text: string): SystemRow[] {
  const lower = text.toLowerCase();
  const candidates = systems
    .flatMap((s) => namesOf(s).map((n) => ({ s, n: norm(n) })))
    .filter(({ n }) => n.length >= 2)
    .sort((a, b) => b.n.length - a.n.length);
  const taken: Array<[number, number]> = [];
  const found: SystemRow[] = [];
  for (const { s, n } of candidates) {
    let from = 0;
    for (;;) {
      const at = lower.indexOf(n, from);
      if (at < 0) break;
      from = at + 1;
      const end = at + n.length;
      const ascii = /^[\x20-\x7e]+$/.test(n);
      if (ascii && (/[a-z0-9_-]/.test(lower[at - 1] ?? '') || /[a-z0-9_-]/.test(lower[end] ?? ''))) continue;
      if (taken.some(([a, b]) => at < b && end > a)) continue;
      taken.push([at, end]);
      if (!found.includes(s)) found.push(s);
      break;
    }
  }
  // Keep the order in which they appear in the text.
  return found.sort((a, b) => firstIndex(lower, a) - firstIndex(lower, b));
}

function firstIndex(lower: string, s: SystemRow): number {
  const hits = namesOf(s)
    .map((n) => lower.indexOf(norm(n)))
    .filter((i) => i >= 0);
  return hits.length ? Math.min(...hits) : Number.MAX_SAFE_INTEGER;
}

/** Upstream (what `id` depends on) and downstream (what depends on `id`) systems, one hop. */
export function neighboursOf(systems: SystemRow[], id: string): { upstream: string[]; downstream: string[] } {
  const self = systems.find((s) => s.id === id);
  return {
    upstream: self ? [...self.depends_on] : [],
    downstream: systems.filter((s) => s.depends_on.includes(id)).map((s) => s.id),
  };
}
