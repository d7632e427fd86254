import type { App } from '../../tools/services.js';
import { addDays, localParts, zonedTime } from '../../core/time.js';
import type { Lang, OutgoingMessage, Platform } from '../messages.js';
import { incidentFacts, incidentPolicy } from './facts.js';
import { incidentOfRoom, incidentsOfDay, openIncidents, requireIncident } from './store.js';
import { statusListView } from './views.js';

/** A manager's question about incidents: everything open, one incident, or today's. */
export type StatusQuestion = { kind: 'open' } | { kind: 'one'; id: string } | { kind: 'today' };

const OPEN = /^(status|状态|进展|现在什么情况|现在怎么样了?|现在啥情况|什么情况|情况如何|有什么故障|当前故障|what'?s going on|what is going on|what is open( right now)?|what'?s open|any incidents|open incidents)\s*[?？!！。.]*$/i;
const TODAY = /(今天|今日|当天).{0,4}(哪些|什么|几个|几起|有没有)?.{0,2}(故障|事故|事件)|(incidents?|outages?) today|today'?s (incidents|outages)|what (broke|happened) today/i;
const ONE = /\b(INC-\d{8}-\d{3,})\b/i;

export function matchStatusQuestion(text: string): StatusQuestion | undefined {
  const q = text.trim().replace(/^[/!]/, '');
  const id = ONE.exec(q)?.[1];
  if (id && /^(status|状态|进展|情况)\b|^(status|状态|进展)\s|什么情况|怎么样|进展|status/i.test(q)) return { kind: 'one', id: id.toUpperCase() };
  if (TODAY.test(q)) return { kind: 'today' };
  if (OPEN.test(q)) return { kind: 'open' };
  return undefined;
}

async function systemNames(app: App): Promise<Map<string, string>> {
  const rows = await app.db.query<{ id: string; name: string }>('SELECT id, name FROM systems');
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * Answers from stored facts only: severity, impact, stage, elapsed time, last and next update.
 * In an incident room a bare `status` is about that room's incident.
 */
export async function answerStatus(app: App, q: StatusQuestion, lang: Lang, where?: { platform: Platform; roomId: string }): Promise<OutgoingMessage> {
  const now = app.clock();
  const policy = incidentPolicy(app.config);
  const tz = app.config.WARROOM_TIMEZONE;
  const names = await systemNames(app);
  if (q.kind === 'one') {
    const incident = await requireIncident(app.db, q.id);
    return statusListView([await incidentFacts(app.db, incident, now, policy)], lang, tz, { zh: `${incident.id} 现状`, en: `${incident.id} now` }, names);
  }
  if (q.kind === 'open' && where) {
    const here = await incidentOfRoom(app.db, where.platform, where.roomId);
    if (here) return statusListView([await incidentFacts(app.db, here, now, policy)], lang, tz, { zh: `${here.id} 现状`, en: `${here.id} now` }, names);
  }
  if (q.kind === 'today') {
    const day = localParts(now, tz).date;
    const rows = await incidentsOfDay(app.db, zonedTime(day, 0, 0, tz), zonedTime(addDays(day, 1), 0, 0, tz));
    const facts = await Promise.all(rows.map((r) => incidentFacts(app.db, r, now, policy)));
    return statusListView(facts, lang, tz, { zh: `今天（${day}）的故障`, en: `Incidents today (${day})` }, names);
  }
  const facts = await Promise.all((await openIncidents(app.db)).map((r) => incidentFacts(app.db, r, now, policy)));
  return statusListView(facts, lang, tz, { zh: '当前未解决的故障', en: 'Open incidents right now' }, names);
}
