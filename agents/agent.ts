import type { App } from '../core/app.js';
import { toolContext } from '../core/app.js';
import { listSystems } from '../db/queries/systems.js';
import { t, type Lang, type OutgoingMessage } from '../bot/messages.js';
import { changesView, incidentsView, oncallView, systemsView, toolProblemView } from '../bot/views/tool-views.js';
import type { ToolResult } from '../tools/tool.js';
import { runbookAnswerView } from '../bot/views/runbook-views.js';
import type { getRunbookTool, searchRunbooksTool } from '../tools/search-runbooks.js';
import type { z } from 'zod';
import { readIntent } from './intents.js';

export interface Citation {
  runbookId: string;
  section: string;
  source: string;
}

export interface AgentAnswer {
  message: OutgoingMessage;
  toolCalls: ToolResult[];
  citations: Citation[];
  /** Write/high tools the agent suggests; they become action requests, never direct runs. */
  proposedActions: Array<{ tool: string; input: unknown; reason: string }>;
}

export interface Question {
  text: string;
  actor: string;
  lang: Lang;
  incidentId?: string;
}

/**
 * The offline agent: a deterministic planner over the same tools the LLM agent uses. It reads the
 * question's intent, calls one tool through the registry, and renders the result.
 */
export async function answerOffline(app: App, q: Question): Promise<AgentAnswer> {
  const ctx = toolContext(app, q.actor, q.incidentId ? { incidentId: q.incidentId } : {});
  const systems = await listSystems(app.db);
  const intent = readIntent(q.text, systems, app.config.WARROOM_CHANGE_WINDOW_DAYS);
  const lang = q.lang;
  const answer = (message: OutgoingMessage, toolCalls: ToolResult[] = []): AgentAnswer => ({ message, toolCalls, citations: [], proposedActions: [] });

  switch (intent.kind) {
    case 'changes': {
      if (!intent.system) return answer(askWhichSystem(systems.map((s) => s.name), lang, t(lang, '哪个系统的变更？', 'Changes to which system?')));
      const r = await app.tools.invoke('change_lookup', { system: intent.system.id, days: intent.days, includeNeighbours: intent.includeNeighbours }, ctx);
      return answer(r.status === 'error' ? toolProblemView(r, lang) : changesView(r.data as never, lang, app.config.WARROOM_TIMEZONE), [r]);
    }
    case 'oncall': {
      if (!intent.system) return answer(askWhichSystem(systems.map((s) => s.name), lang, t(lang, '哪个系统的值班？', 'On call for which system?')));
      const r = await app.tools.invoke('who_is_oncall', { system: intent.system.id }, ctx);
      return answer(r.status === 'error' ? toolProblemView(r, lang) : oncallView(r.data as never, lang), [r]);
    }
    case 'incidents': {
      const r = await app.tools.invoke('open_incidents', intent.system ? { system: intent.system.id } : {}, ctx);
      return answer(r.status === 'error' ? toolProblemView(r, lang) : incidentsView(r.data as never, lang), [r]);
    }
    case 'systems': {
      const r = await app.tools.invoke('list_systems', {}, ctx);
      return answer(r.status === 'error' ? toolProblemView(r, lang) : systemsView(r.data as never, lang), [r]);
    }
    case 'runbook': {
      const search = await app.tools.invoke<z.output<(typeof searchRunbooksTool)['output']>>('search_runbooks', { query: q.text, top: 4 }, ctx);
      const hits = search.data?.hits ?? [];
      if (search.status === 'error') return answer(toolProblemView(search, lang), [search]);
      if (hits.length === 0) {
        return answer(
          {
            lang,
            text: t(
              lang,
              '运行手册里没有找到相关内容。可以问我：某系统最近几个交易日的变更、谁在值班、当前有哪些故障；输入「帮助」查看全部命令。',
              "I found nothing about that in the runbooks. Ask me about a system's recent changes, who is on call, or what incidents are open; type `help` for all commands.",
            ),
          },
          [search],
        );
      }
      const full = await app.tools.invoke<z.output<(typeof getRunbookTool)['output']>>('get_runbook', { id: hits[0]!.runbookId }, ctx);
      const result = answer(runbookAnswerView(hits, full.data, lang), [search, full]);
      result.citations = hits.map((h) => ({ runbookId: h.runbookId, section: h.section, source: h.source }));
      return result;
    }
  }
}

function askWhichSystem(names: string[], lang: Lang, question: string): OutgoingMessage {
  return {
    lang,
    text: question,
    context: [names.length ? t(lang, `已知系统：${names.join('、')}`, `Known systems: ${names.join(', ')}`) : t(lang, '还没有导入系统。', 'No systems loaded yet.')],
  };
}
