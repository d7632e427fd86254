import type { AgentAnswer } from '../../agents/agent.js';
import { getRunbookTool, searchRunbooksTool } from '../../tools/knowledge-search/search-runbooks.js';
import { incidentStatusTool, type IncidentStatus } from '../../tools/incidents/incident-status.js';
import type { ToolResult } from '../../tools/tool.js';
import type { z } from 'zod';
import { t, type Lang, type OutgoingMessage } from '../messages.js';
import { incidentStatusView, type IncidentFocus } from './incident-status-view.js';
import { runbookAnswerView } from './runbook-views.js';
import { toolResultView } from './tool-view-table.js';
import { withAuditNote } from './tool-views.js';

type SearchOut = z.output<(typeof searchRunbooksTool)['output']>;
type RunbookOut = z.output<(typeof getRunbookTool)['output']>;
const resultOf = <O>(calls: ToolResult[], name: string) => calls.find((c) => c.tool === name) as ToolResult<O> | undefined;

const CLARIFY: Record<string, { zh: string; en: string }> = {
  changes: { zh: '哪个系统的变更？', en: 'Changes to which system?' },
  oncall: { zh: '哪个系统的值班？', en: 'On call for which system?' },
  localize: { zh: '定位哪个系统？', en: 'Localize which system?' },
};

/** Lines the asker should read first ("not recorded yet, ask the commander", "Warroom cannot …"), above the answer. */
function withNotes(message: OutgoingMessage, notes: string[] | undefined): OutgoingMessage {
  if (!notes?.length) return message;
  return { ...message, text: [notes.join('\n'), message.text].filter(Boolean).join('\n\n') };
}

/** Several tool results in one message: the first as it is, the others as sections under their own titles. */
function combine(messages: OutgoingMessage[], lang: Lang): OutgoingMessage {
  const [first, ...rest] = messages;
  if (!first) return { lang, text: t(lang, '没有可回答的内容。', 'Nothing to answer with.') };
  const sections = [...(first.sections ?? [])];
  const context = [...(first.context ?? [])];
  for (const m of rest) {
    const lines = [...(m.text ? [m.text] : []), ...(m.fields ?? []).map((f) => `${f.label}: ${f.value}`)];
    sections.push({ title: m.title ?? '', lines });
    sections.push(...(m.sections ?? []));
    for (const c of m.context ?? []) if (!context.includes(c)) context.push(c);
  }
  return { ...first, sections, context };
}

/** An agent's answer as people see it: a question back, the runbook passages, or the tools' views, with its notes. */
export function answerView(answer: AgentAnswer, lang: Lang, timeZone: string): OutgoingMessage {
  if (answer.clarify) {
    const { about, systems } = answer.clarify;
    const q = CLARIFY[about] ?? { zh: '哪个系统？', en: 'Which system?' };
    return {
      lang,
      text: t(lang, q.zh, q.en),
      context: [systems.length ? t(lang, `已知系统：${systems.join('、')}`, `Known systems: ${systems.join(', ')}`) : t(lang, '还没有导入系统。', 'No systems loaded yet.')],
    };
  }
  if (answer.intent === 'capabilities' || answer.intent === 'unsupported') {
    return { lang, title: answer.intent === 'capabilities' ? 'Warroom' : t(lang, 'Warroom 做不到', 'Not something Warroom does'), text: (answer.notes ?? []).join('\n') };
  }
  if (answer.intent === 'runbook') return withNotes(runbookAnswer(answer, lang, timeZone), answer.notes);
  const status = resultOf<IncidentStatus>(answer.toolCalls, incidentStatusTool.name);
  if (status?.status === 'success' && status.data) {
    const focus: IncidentFocus = answer.intent === 'incident-eta' ? 'eta' : answer.intent === 'incident-impact' ? 'impact' : 'status';
    return withNotes(withAuditNote(status, incidentStatusView(status.data, lang, timeZone, focus), lang), answer.notes);
  }
  if (!answer.toolCalls.length) return { lang, text: (answer.notes ?? []).join('\n') || t(lang, '没有可回答的内容。', 'Nothing to answer with.') };
  return withNotes(combine(answer.toolCalls.map((c) => toolResultView(c, lang, timeZone)), lang), answer.notes);
}

function runbookAnswer(answer: AgentAnswer, lang: Lang, timeZone: string): OutgoingMessage {
  // The registry validated both results against these tools' output schemas.
  const search = resultOf<SearchOut>(answer.toolCalls, searchRunbooksTool.name);
  if (!search || search.status === 'error') return toolResultView(search ?? answer.toolCalls[0]!, lang, timeZone);
  const hits = search.data?.hits ?? [];
  const unrecorded = answer.toolCalls.find((c) => c.notRecorded);
  const noted = (m: OutgoingMessage): OutgoingMessage => (unrecorded ? withAuditNote(unrecorded, m, lang) : m);
  if (!hits.length) {
    return noted({
      lang,
      text: answer.notes?.length
        ? t(lang, '运行手册里也没有找到相关内容。', 'Nothing about it in the runbooks either.')
        : t(
            lang,
            '运行手册里没有找到相关内容。可以问我：某系统最近几个交易日的变更、告警、谁在值班、当前有哪些故障；输入「帮助」查看全部命令。',
            "I found nothing about that in the runbooks. Ask me about a system's recent changes, its alerts, who is on call, or what incidents are open; type `help` for all commands.",
          ),
    });
  }
  return noted(runbookAnswerView(hits, resultOf<RunbookOut>(answer.toolCalls, getRunbookTool.name)?.data, lang));
}
