import type { SystemRow } from '../../tools/oncall/systems.js';
import { systemsMentioned } from '../../tools/oncall/systems.js';

/**
 * Which systems a question names: by id, name or alias (any case; "market-data gateway" and
 * "market data gateway" alike), by the name of a failover pool that belongs to a system, and
 * failing those by a near miss of an ASCII name ("jzyj" for "jzjy"). Names found earlier in the
 * text come first.
 */
export function mentionedSystems(systems: SystemRow[], text: string): SystemRow[] {
  const flat = (s: string) => s.replace(/[-_]+/g, ' ');
  // Hyphens and underscores read as spaces on both sides, so ids like zd-bp still match "zd-bp".
  const flattened = systems.map((s) => ({ ...s, id: flat(s.id), name: flat(s.name), aliases: s.aliases.map(flat), original: s }));
  const exact = systemsMentioned(flattened, flat(text)).map((s) => (s as (typeof flattened)[number]).original);
  if (exact.length) return exact;
  return fuzzyMentions(systems, text);
}

/** Pool names and aliases ("中登报盘池", "market-data gateway") as further aliases of the pool's system. */
export function withPoolNames(systems: SystemRow[], pools: Array<{ id: string; name: string; aliases: string[]; system: string }>): SystemRow[] {
  return systems.map((s) => {
    const mine = pools.filter((p) => p.system === s.id).flatMap((p) => [p.id, p.name, ...p.aliases]);
    return mine.length ? { ...s, aliases: [...new Set([...s.aliases, ...mine])] } : s;
  });
}

/** Words that are near some system's short name but mean something else. */
const COMMON = new Set(['what', 'when', 'which', 'where', 'show', 'list', 'last', 'past', 'this', 'that', 'with', 'from', 'have', 'does', 'done', 'change', 'changes', 'alert', 'alerts', 'status', 'today', 'week', 'days', 'down', 'failed', 'fails', 'error', 'errors', 'quote', 'quota', 'clear', 'clearly', 'ready', 'redo', 'margins']);

/** Optimal string alignment distance (a swap of two neighbours counts one: "jzyj" → "jzjy"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Near misses of ASCII names: one edit for names of 4–7 letters, two from 8 on. Shorter names and
 * common words are left alone, and a word near two systems names neither.
 */
function fuzzyMentions(systems: SystemRow[], text: string): SystemRow[] {
  const words = text.toLowerCase().match(/[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*/g) ?? [];
  const names = systems.map((s) => ({
    s,
    names: [s.id, s.name, ...s.aliases].map((n) => n.toLowerCase()).filter((n) => /^[a-z][a-z0-9 -]*$/.test(n) && n.replace(/ /g, '').length >= 4),
  }));
  // Phrases of as many words as the name has ("centralised trading" against "centralized trading").
  const phrases = new Set<string>();
  for (let k = 1; k <= 3; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const p = words.slice(i, i + k);
      if (k === 1 && (p[0]!.length < 4 || COMMON.has(p[0]!))) continue;
      phrases.add(p.join(' '));
    }
  }
  const found: SystemRow[] = [];
  for (const w of phrases) {
    const near = names.filter(({ names: ns }) =>
      ns.some((n) => {
        if (n.split(' ').length !== w.split(' ').length) return false;
        const max = Math.min(n.length, w.length) >= 8 ? 2 : 1;
        return Math.abs(n.length - w.length) <= max && editDistance(n, w) <= max;
      }),
    );
    if (near.length === 1 && !found.includes(near[0]!.s)) found.push(near[0]!.s);
  }
  return found;
}
