import type { AgentAnswer, AgentToolCall, Citation, ProposedAction } from '../../agents/types.js';
import type { ToolStatus } from '../../tools/tool.js';
import { t, type Lang, type MessageSection, type OutgoingMessage } from '../messages.js';
import { answerView } from './answer-view.js';

/**
 * An agent's answer as people see it, from either planner: the offline planner's tool view
 * (answerView, with its notes) or the model's text (and its notes), then hypotheses and proposed
 * actions, then the small print: which planner answered and why (the fallback), the
 * tools it called with their status, and the runbook passages it rests on. The small print is
 * `context`: a grey context block on Slack, grey lines on WeCom, `↳` lines in the terminal.
 */
export function agentAnswerView(answer: AgentAnswer, lang: Lang, timeZone: string): OutgoingMessage {
  const modelText = answer.planner === 'llm' && answer.text?.trim() && !answer.clarify ? answer.text.trim() : undefined;
  const base = modelText ? { lang, text: modelText } : answerView(answer, lang, timeZone);
  const sections: MessageSection[] = [...(base.sections ?? [])];
  // The offline planner's notes are part of its view (answerView puts them first); the model's go under its text.
  if (modelText && answer.notes?.length) sections.push({ title: t(lang, '说明', 'Note'), lines: answer.notes });
  if (answer.hypotheses.length) sections.push({ title: t(lang, '推测（未经证实）', 'Hypotheses (not confirmed)'), lines: answer.hypotheses });
  if (answer.proposedActions.length) sections.push({ title: t(lang, '提议的操作', 'Proposed actions'), lines: answer.proposedActions.map((p) => proposedLine(p, lang)) });
  return {
    ...base,
    lang,
    ...(sections.length ? { sections } : {}),
    context: [...(answer.fallback ? [fallbackLine(answer.fallback, lang)] : []), ...(base.context ?? []), ...answerFooter(answer, lang)],
  };
}

/** The footer lines: planner and tools on one line, sources on another (absent when there are none). */
export function answerFooter(answer: AgentAnswer, lang: Lang): string[] {
  const planner = answer.planner === 'llm' ? t(lang, '大模型回答', 'Answered by the model') : t(lang, '离线规划器回答', 'Answered by the offline planner');
  const calls = toolsLine(answer.toolCalls, lang);
  const lines = [`${planner} · ${calls}`];
  const sources = sourcesLine(answer.citations, lang);
  if (sources) lines.push(sources);
  return lines;
}

const MAX_TOOLS_SHOWN = 8;
const MAX_SOURCES_SHOWN = 5;

export function statusWord(status: ToolStatus, lang: Lang): string {
  switch (status) {
    case 'success':
      return t(lang, '成功', 'ok');
    case 'no_data':
      return t(lang, '无数据', 'no data');
    case 'error':
      return t(lang, '出错', 'error');
    case 'approval_required':
      return t(lang, '需审批', 'needs approval');
  }
}

/** "工具：change_lookup（成功）· oncall（无数据）" — one compact line, the same call twice counted once. */
export function toolsLine(calls: AgentToolCall[], lang: Lang): string {
  if (!calls.length) return t(lang, '未调用工具', 'no tools called');
  const counted = new Map<string, number>();
  for (const c of calls) {
    const key = `${c.tool}\u0000${c.status}`;
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  const parts = [...counted].map(([key, n]) => {
    const [tool, status] = key.split('\u0000') as [string, ToolStatus];
    const times = n > 1 ? ` ×${n}` : '';
    return t(lang, `${tool}（${statusWord(status, lang)}）${times}`, `${tool} (${statusWord(status, lang)})${times}`);
  });
  const shown = parts.slice(0, MAX_TOOLS_SHOWN);
  if (parts.length > shown.length) shown.push(t(lang, `另 ${parts.length - shown.length} 项`, `${parts.length - shown.length} more`));
  return t(lang, `工具：${shown.join(' · ')}`, `Tools: ${shown.join(' · ')}`);
}

/** "依据：jzjy-order-failures § 处置步骤；…" — runbook id and section, each once. */
export function sourcesLine(citations: Citation[], lang: Lang): string | undefined {
  const seen = [...new Set(citations.map((c) => `${c.runbookId} § ${c.section}`))];
  if (!seen.length) return undefined;
  const shown = seen.slice(0, MAX_SOURCES_SHOWN);
  const more = seen.length > shown.length ? t(lang, `（另 ${seen.length - shown.length} 处）`, ` (+${seen.length - shown.length} more)`) : '';
  return t(lang, `依据：${shown.join('；')}${more}`, `Sources: ${shown.join('; ')}${more}`);
}

/** The agent words the reason for the asker ("大模型暂不可用（超时），以下由离线规划器回答。"); a bare reason gets the sentence around it. */
function fallbackLine(reason: string, lang: Lang): string {
  const sentence = /离线|offline/i.test(reason) ? reason : t(lang, `大模型未能回答（${reason}），以下由离线规划器回答。`, `The model could not answer (${reason}); the offline planner answered instead.`);
  return `⚠️ ${sentence}`;
}

function proposedLine(p: ProposedAction, lang: Lang): string {
  if (p.actionId) return t(lang, `${p.actionId} · ${p.tool}：已提交申请，待审批（${p.reason}）`, `${p.actionId} · ${p.tool}: requested, awaiting approval (${p.reason})`);
  return t(lang, `${p.tool}：未提交 — ${p.refused ?? '原因不明'}`, `${p.tool}: not requested — ${p.refused ?? 'no reason given'}`);
}
