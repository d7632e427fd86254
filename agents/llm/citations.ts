import type { ToolResult } from '../../tools/tool.js';
import type { Citation } from '../types.js';

function isCitation(v: unknown): v is Citation {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return typeof o.runbookId === 'string' && typeof o.section === 'string' && typeof o.source === 'string';
}

function collect(value: unknown, out: Citation[]): void {
  if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value && typeof value === 'object') {
    if (isCitation(value)) out.push({ runbookId: value.runbookId, section: value.section, source: value.source });
    for (const v of Object.values(value)) collect(v, out);
  }
}

/**
 * The runbook passages the tool results actually returned (search hits, get_runbook sections, the
 * passages other tools attach). When the answer names some of those runbooks, only those are kept:
 * the answer rests on them; otherwise all, so nothing the model read goes unlisted.
 */
export function citationsOf(results: ToolResult[], answer: string): Citation[] {
  const found: Citation[] = [];
  for (const r of results) {
    if (r.status !== 'success') continue;
    if (r.tool === 'get_runbook' && r.data && typeof r.data === 'object') {
      const rb = r.data as { id?: unknown; source?: unknown; sections?: Array<{ section?: unknown }> };
      if (typeof rb.id === 'string' && typeof rb.source === 'string') {
        const sections = (rb.sections ?? []).map((s) => (typeof s.section === 'string' ? s.section : '')).filter(Boolean);
        const named = sections.filter((s) => answer.includes(s));
        for (const section of named.length ? named : sections.slice(0, 1)) found.push({ runbookId: rb.id, section, source: rb.source });
      }
      continue;
    }
    collect(r.data, found);
  }
  const unique = found.filter((c, i) => found.findIndex((d) => d.runbookId === c.runbookId && d.section === c.section) === i);
  const named = unique.filter((c) => answer.includes(c.runbookId));
  return named.length ? named : unique;
}
