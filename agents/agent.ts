import type { Lang } from '../core/lang.js';
import { changeLookupTool } from '../tools/change-intel/change-lookup.js';
import { openIncidentsTool } from '../tools/incidents/open-incidents.js';
import { getRunbookTool, searchRunbooksTool } from '../tools/knowledge-search/search-runbooks.js';
import { listSystemsTool } from '../tools/oncall/list-systems.js';
import { fpgaStatusToolRef } from '../tools/fpga/fpga-status.js';
import { oncallTool } from '../tools/oncall/oncall.js';
import { listSystems } from '../tools/oncall/systems.js';
import { toolContext, type App } from '../tools/services.js';
import type { ToolResult } from '../tools/tool.js';
import type { AgentAnswer, Question } from './types.js';
import { readIntent, type Intent } from './intents.js';

export type { AgentAnswer, AgentToolCall, Citation, Question } from './types.js';

/**
 * The offline agent: a deterministic planner over the same tools the LLM agent uses. It reads the
 * question's intent and calls the tools for it through the registry's typed door.
 */
export async function answerOffline(app: App, q: Question): Promise<AgentAnswer> {
  const ctx = toolContext(app, q.actor, q.incidentId ? { incidentId: q.incidentId } : {});
  const systems = await listSystems(app.db);
  const intent = readIntent(q.text, systems, app.config.WARROOM_CHANGE_WINDOW_DAYS);
  const answer = (toolCalls: ToolResult[], extra: Partial<AgentAnswer> = {}): AgentAnswer => ({ planner: 'offline', intent: intent.kind, toolCalls, citations: [], hypotheses: [], proposedActions: [], ...extra });
  const clarify = (about: 'changes' | 'oncall') => answer([], { clarify: { about, systems: systems.map((s) => s.name) } });

  switch (intent.kind) {
    case 'changes':
      if (!intent.system) return clarify('changes');
      return answer([await app.tools.call(changeLookupTool, { system: intent.system.id, days: intent.days, includeNeighbours: intent.includeNeighbours }, ctx)]);
    case 'oncall':
      if (!intent.system) return clarify('oncall');
      return answer([await app.tools.call(oncallTool, { system: intent.system.id }, ctx)]);
    case 'incidents':
      return answer([await app.tools.call(openIncidentsTool, intent.system ? { system: intent.system.id } : {}, ctx)]);
    case 'systems':
      return answer([await app.tools.call(listSystemsTool, {}, ctx)]);
    case 'fpga': {
      // The card's own status block answers; the runbook passages for what is wrong come with it.
      const status = await app.tools.call(fpgaStatusToolRef, intent.card !== undefined ? { card: intent.card } : {}, ctx);
      return answer([status], { citations: (status.data?.citations ?? []).map((c) => ({ runbookId: c.runbookId, section: c.section, source: c.source })) });
    }
    case 'runbook': {
      const search = await app.tools.call(searchRunbooksTool, { query: q.text, top: 4 }, ctx);
      const hits = search.data?.hits ?? [];
      if (search.status === 'error' || hits.length === 0) return answer([search]);
      const full = await app.tools.call(getRunbookTool, { id: hits[0]!.runbookId }, ctx);
      return answer([search, full], { citations: hits.map((h) => ({ runbookId: h.runbookId, section: h.section, source: h.source })) });
    }
  }
}
