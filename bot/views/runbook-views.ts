import type { z } from 'zod';
import type { getRunbookTool, searchRunbooksTool } from '../../tools/knowledge-search/search-runbooks.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';

type Hits = z.output<(typeof searchRunbooksTool)['output']>['hits'];
type Runbook = z.output<(typeof getRunbookTool)['output']>;

/** Sections that say what to do, in both languages. */
const ACTION_SECTION = /处置|处理|应急|恢复|切换步骤|remediation|mitigation|recovery|resolution|fix|workaround/i;

/** Up to `max` non-empty lines of a passage, verbatim but for the Markdown bullet (renderers add their own). */
export function quoteLines(text: string, max: number): string[] {
  const lines = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.replace(/^(\s*)[-*+]\s+/, '$1'));
  const out = lines.slice(0, max);
  if (lines.length > max) out.push('…');
  return out;
}

export function citation(runbookId: string, section: string): string {
  return `[${runbookId} § ${section}]`;
}

/**
 * A symptom answered from the runbooks: the best passage and the runbook's action steps, quoted
 * word for word with their citations. Nothing here is generated: only stored runbook text appears.
 */
export function runbookAnswerView(hits: Hits, runbook: Runbook | undefined, lang: Lang): OutgoingMessage {
  const best = hits[0]!;
  const sections = [{ title: `${best.title} ${citation(best.runbookId, best.section)}`, lines: quoteLines(best.text, 10) }];
  const action = runbook?.sections.find((s) => ACTION_SECTION.test(s.section) && s.section !== best.section);
  if (action) sections.push({ title: `${action.section} ${citation(best.runbookId, action.section)}`, lines: quoteLines(action.text, 14) });
  const others = hits.slice(1, 4);
  if (others.length) sections.push({ title: t(lang, '其他可能相关', 'Also possibly relevant'), lines: others.map((h) => `${h.title} ${citation(h.runbookId, h.section)}`) });
  return {
    lang,
    title: t(lang, '运行手册', 'From the runbooks'),
    text: '',
    sections,
    context: [
      t(lang, `来源：runbooks/${best.source}（按相关度检索，执行前请核对现场情况）`, `Source: runbooks/${best.source} (retrieved by relevance; check against the live situation before acting)`),
      t(lang, `查看全文：runbook ${best.runbookId}`, `Full text: runbook ${best.runbookId}`),
    ],
  };
}

export function runbookView(rb: Runbook, lang: Lang): OutgoingMessage {
  return {
    lang,
    title: `${rb.title} [${rb.id}]`,
    text: '',
    fields: [
      { label: t(lang, '系统', 'Systems'), value: rb.systems.join(', ') },
      { label: t(lang, '标签', 'Tags'), value: rb.tags.join(', ') || '—' },
    ],
    sections: rb.sections.map((s) => ({ title: s.headingPath.slice(1).join(' > ') || s.section, lines: s.text.split('\n').filter((l) => l.trim()) })),
    context: [t(lang, `来源：runbooks/${rb.source}`, `Source: runbooks/${rb.source}`)],
  };
}
