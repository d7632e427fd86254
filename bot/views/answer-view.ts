import type { AgentAnswer } from '../../agents/agent.js';
import { getRunbookTool, searchRunbooksTool } from '../../tools/knowledge-search/search-runbooks.js';
import type { ToolResult } from '../../tools/tool.js';
import type { z } from 'zod';
import { t, type Lang, type OutgoingMessage } from '../messages.js';
import { runbookAnswerView } from './runbook-views.js';
import { toolResultView } from './tool-view-table.js';
import { withAuditNote } from './tool-views.js';

type SearchOut = z.output<(typeof searchRunbooksTool)['output']>;
type RunbookOut = z.output<(typeof getRunbookTool)['output']>;
const resultOf = <O>(calls: ToolResult[], name: string) => calls.find((c) => c.tool === name) as ToolResult<O> | undefined;

/** An agent's answer as people see it: a question back, the runbook passages, or the tool's view. */
export function answerView(answer: AgentAnswer, lang: Lang, timeZone: string): OutgoingMessage {
  if (answer.clarify) {
    const { about, systems } = answer.clarify;
    return {
      lang,
      text: about === 'changes' ? t(lang, '哪个系统的变更？', 'Changes to which system?') : t(lang, '哪个系统的值班？', 'On call for which system?'),
      context: [systems.length ? t(lang, `已知系统：${systems.join('、')}`, `Known systems: ${systems.join(', ')}`) : t(lang, '还没有导入系统。', 'No systems loaded yet.')],
    };
  }
  if (answer.intent === 'runbook') {
    // The registry validated both results against these tools' output schemas.
    const search = resultOf<SearchOut>(answer.toolCalls, searchRunbooksTool.name);
    if (!search || search.status === 'error') return toolResultView(search ?? answer.toolCalls[0]!, lang, timeZone);
    const hits = search.data?.hits ?? [];
    const unrecorded = answer.toolCalls.find((c) => c.notRecorded);
    const noted = (m: OutgoingMessage): OutgoingMessage => (unrecorded ? withAuditNote(unrecorded, m, lang) : m);
    if (!hits.length) {
      return noted({
        lang,
        text: t(
          lang,
          '运行手册里没有找到相关内容。可以问我：某系统最近几个交易日的变更、谁在值班、当前有哪些故障；输入「帮助」查看全部命令。',
          "I found nothing about that in the runbooks. Ask me about a system's recent changes, who is on call, or what incidents are open; type `help` for all commands.",
        ),
      });
    }
    return noted(runbookAnswerView(hits, resultOf<RunbookOut>(answer.toolCalls, getRunbookTool.name)?.data, lang));
  }
  const last = answer.toolCalls.at(-1);
  return last ? toolResultView(last, lang, timeZone) : { lang, text: t(lang, '没有可回答的内容。', 'Nothing to answer with.') };
}
