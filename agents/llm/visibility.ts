import { maySeeIncidentId } from '../../tools/incidents/visibility.js';
import type { App } from '../../tools/services.js';
import type { ToolResult } from '../../tools/tool.js';
import type { Question } from '../types.js';

/**
 * The model never sees an incident the asker may not see (tools/incidents/visibility.ts), whichever
 * tool brings it: the open-incident list leaves such incidents out and says how many; one incident's
 * status is refused as if it did not exist. The room's own incident (already checked by the chat) passes.
 */
export async function withoutHiddenIncidents(app: App, q: Question, result: ToolResult): Promise<ToolResult> {
  const visible = (id: string) => (id === q.incidentId ? Promise.resolve(true) : maySeeIncidentId(app.db, id, q.actor, app.clock()));
  if (result.tool === 'open_incidents' && result.data && typeof result.data === 'object' && Array.isArray((result.data as { incidents?: unknown }).incidents)) {
    const all = (result.data as { incidents: Array<{ id: string }> }).incidents;
    const kept: Array<{ id: string }> = [];
    for (const i of all) if (await visible(i.id)) kept.push(i);
    if (kept.length === all.length) return result;
    const hidden = all.length - kept.length;
    return {
      ...result,
      status: kept.length ? result.status : 'no_data',
      data: { ...(result.data as object), incidents: kept },
      summary: `${kept.length} open incident(s) the asker may see; ${hidden} more the asker is not in were left out.`,
    };
  }
  if (result.tool === 'incident_status' && result.data && typeof result.data === 'object') {
    const id = (result.data as { id?: unknown }).id;
    if (typeof id === 'string' && !(await visible(id))) {
      const { data: _hidden, ...rest } = result;
      return { ...rest, status: 'error', summary: 'No incident the asker may see matches; name one they are in, or ask in its room.', error: 'not_visible' };
    }
  }
  return result;
}
