import { translations } from './glossary.js';
import type { SearchHit } from './search.js';
import { tokenize } from './tokenize.js';

/** A runbook's front matter as the preference reads it. */
export type RunbookScope = {
  id: string;
  systems: string[];
  tags: string[];
};

/** Added to a hit's fused score (at most 1) when the runbook is written for a system the question names. */
const SYSTEM_BONUS = 0.25;
/** Added per front-matter tag the question contains (at most two count): what the question is about, in the runbook's own words. */
const TAG_BONUS = 0.3;

const flat = (s: string) => s.toLowerCase().replace(/[-_\s]+/g, '');

/**
 * When a question names a system ("how do I fail over the market data gateway?"), prefer the runbooks
 * written for that system, and among them those whose tags the question uses: the fused text score
 * alone lets a runbook that shares many words (market data, gateway) beat the one about the action
 * asked for. Hits keep their text and section; only the order changes. Without systems: as given.
 */
export function preferSystems(hits: SearchHit[], scopes: RunbookScope[], systems: string[], query: string): SearchHit[] {
  if (!systems.length) return hits;
  const byId = new Map(scopes.map((s) => [s.id, s]));
  // The question's words and their glossary translations ("切换" ↔ failover), in the tags' spelling.
  const q = [flat(query), ...tokenize(query).flatMap((w) => translations(w.toLowerCase())).map(flat)].join('|');
  const score = (h: SearchHit) => {
    const scope = byId.get(h.runbookId);
    if (!scope) return h.score;
    const covers = scope.systems.some((s) => systems.includes(s));
    // Short tags ("行情", "fpga") say which area, not what about it: only longer ones count.
    const tags = scope.tags.filter((t) => flat(t).length >= (/[\u3400-\u9fff]/.test(t) ? 3 : 5) && q.includes(flat(t))).length;
    return h.score + (covers ? SYSTEM_BONUS + Math.min(2, tags) * TAG_BONUS : 0);
  };
  return hits
    .map((h, i) => ({ h, s: score(h), i }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map(({ h }) => h);
}
