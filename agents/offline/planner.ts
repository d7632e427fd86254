import { t } from '../../core/lang.js';
import { recentAlertsTool } from '../../tools/alerts/recent-alerts.js';
import { changeLookupTool } from '../../tools/change-intel/change-lookup.js';
import { localizeToolRef } from '../../tools/change-intel/localize.js';
import { diffSnapshotsTool } from '../../tools/change-intel/snapshot-diff.js';
import { failoverStatusTool } from '../../tools/failover/failover-status.js';
import { loadPools, type Pool } from '../../tools/failover/pool-store.js';
import { fpgaStatusToolRef } from '../../tools/fpga/fpga-status.js';
import { incidentStatusTool } from '../../tools/incidents/incident-status.js';
import { openIncidentsTool } from '../../tools/incidents/open-incidents.js';
import { getRunbookTool, searchRunbooksTool } from '../../tools/knowledge-search/search-runbooks.js';
import { listSystemsTool } from '../../tools/oncall/list-systems.js';
import { noiseRulesTool } from '../../tools/change-intel/noise-rules.js';
import { oncallTool } from '../../tools/oncall/oncall.js';
import { listSystems, type SystemRow } from '../../tools/oncall/systems.js';
import { toolContext, type App } from '../../tools/services.js';
import type { ToolContext, ToolResult } from '../../tools/tool.js';
import { readIntent, type Intent } from '../intents.js';
import type { AgentAnswer, Question, Turn } from '../types.js';
import { capabilityNotes, fallbackNotes, unsupportedNotes } from './capabilities.js';
import { mentionedSystems, withPoolNames } from './systems.js';
import { parseWindow, WINDOW_WORDS, type Window } from './windows.js';

/** The intent names answers carry (AgentAnswer.intent, Turn.intent). */
export function intentName(intent: Intent): string {
  if (intent.kind === 'incident-status') return intent.focus === 'status' ? 'incident-status' : `incident-${intent.focus}`;
  return intent.kind;
}

// "那昨天呢", "and yesterday?", "what about 两融", "who did it?": a turn that leans on the one before.
const FOLLOW_UP = /^\s*(?:那|那么|还有|再看|再查|换成|and\b|what about\b|how about\b|same for\b|also\b|now\b)|呢\s*[?？]?\s*$|who did (?:it|that|this)|(?:是)?谁(?:干|做|弄)的/i;

/**
 * The offline agent: a deterministic planner over the same tools the LLM agent uses. It reads the
 * question's intent (with the asker's previous turn for follow-ups and the room's incident for
 * context), calls the tools for it through the registry, and returns their results as data.
 * Nothing is made up: facts not recorded are said to be missing, and questions it cannot answer
 * get the closest runbooks and a line saying what it does answer.
 */
export async function answerOffline(app: App, q: Question): Promise<AgentAnswer> {
  const incidentId = q.incidentId ?? q.incident?.id;
  const ctx = toolContext(app, q.actor, incidentId ? { incidentId } : {});
  const pools = await loadPools(app.db).catch(() => [] as Pool[]);
  const systems = withPoolNames(await listSystems(app.db), pools);
  const defaultDays = app.config.WARROOM_CHANGE_WINDOW_DAYS;
  const last = q.history?.at(-1);
  let intent = readIntent(q.text, systems, defaultDays);
  const named = mentionedSystems(systems, q.text);
  const followed = followUp(intent, q.text, last, systems, named, defaultDays);
  if (followed) intent = followed;
  // The window: from this question, or from the one it follows up when it names none.
  const windowText = WINDOW_WORDS.test(q.text) || !followed ? q.text : (last?.question ?? q.text);
  const window = parseWindow(windowText, ctx.now, app.calendar, defaultDays);
  // A question that needs a system and names none: the one of the turn before, else the room's incident.
  const contextSystem = byId(systems, last?.system) ?? byId(systems, q.incident?.system);

  const base = (extra: Partial<AgentAnswer> = {}): AgentAnswer => ({ planner: 'offline', intent: intentName(intent), toolCalls: [], citations: [], hypotheses: [], proposedActions: [], ...extra });
  const answer = (toolCalls: ToolResult[], extra: Partial<AgentAnswer> = {}): AgentAnswer => base({ toolCalls, ...extra });
  const clarify = (about: string) => base({ clarify: { about, systems: systems.map((s) => s.name) } });
  const about = (s: SystemRow | undefined) => (s ? { system: s.id } : {});

  switch (intent.kind) {
    case 'capabilities':
      return base({ notes: capabilityNotes(app.config, q.lang) });
    case 'unsupported':
      return base({ notes: unsupportedNotes(intent.feature, q.lang) });
    case 'changes': {
      const system = intent.system ?? contextSystem;
      if (!system) return clarify('changes');
      const input = { system: system.id, includeNeighbours: intent.includeNeighbours, ...windowInput(window) };
      const result = await app.tools.call(changeLookupTool, input, ctx);
      // "谁动过…": the people first, by name; the tickets and events below say what each did.
      const who = intent.who && result.data ? whoChanged(result.data, q.lang) : undefined;
      return answer([result], { ...about(system), ...(who ? { notes: [who] } : {}) });
    }
    case 'alerts': {
      const system = intent.system ?? contextSystem;
      const input = { ...(system ? { system: system.id } : {}), ...windowInput(window), ...(intent.minSeverity ? { minSeverity: intent.minSeverity } : {}), ...(intent.firingOnly ? { firingOnly: true } : {}) };
      return answer([await app.tools.call(recentAlertsTool, input, ctx)], about(system));
    }
    case 'oncall': {
      // "谁是指挥" in an incident's room: who holds its roles.
      if (intent.role && !intent.system && incidentId) return incidentAnswer(app, q, ctx, { kind: 'incident-status', focus: 'status' }, base);
      // No system named and none from context: everyone on call now, system by system.
      const system = intent.system ?? contextSystem;
      return answer([await app.tools.call(oncallTool, system ? { system: system.id } : {}, ctx)], about(system));
    }
    case 'incidents':
      // In an incident's room, "status" is about that incident.
      if (incidentId && !intent.system) return incidentAnswer(app, q, ctx, { kind: 'incident-status', focus: 'status' }, base);
      return answer([await app.tools.call(openIncidentsTool, intent.system ? { system: intent.system.id } : {}, ctx)], about(intent.system));
    case 'incident-status':
      return incidentAnswer(app, q, ctx, intent, base);
    case 'systems':
      return answer([await app.tools.call(listSystemsTool, {}, ctx)]);
    case 'dependencies': {
      const system = intent.system ?? contextSystem;
      return answer([await app.tools.call(listSystemsTool, system ? { system: system.id } : {}, ctx)], about(system));
    }
    case 'noise-rules':
      return answer([await app.tools.call(noiseRulesTool, {}, ctx)]);
    case 'fpga': {
      // The card's own status block answers; the runbook passages for what is wrong come with it.
      const status = await app.tools.call(fpgaStatusToolRef, intent.card !== undefined ? { card: intent.card } : {}, ctx);
      return answer([status], { citations: (status.data?.citations ?? []).map((c) => ({ runbookId: c.runbookId, section: c.section, source: c.source })), system: 'fpga-md' });
    }
    case 'localize': {
      const system = intent.system ?? contextSystem;
      if (!system) return clarify('localize');
      const symptom = q.incident && q.incident.system === system.id ? { symptom: q.incident.title } : {};
      return answer([await app.tools.call(localizeToolRef, { system: system.id, ...symptom }, ctx)], about(system));
    }
    case 'diff':
      return diffAnswer(app, q, ctx, intent, base);
    case 'failover': {
      const system = intent.system ?? contextSystem;
      const pool = system ? pools.find((p) => p.system === system.id) : undefined;
      const status = await app.tools.call(failoverStatusTool, pool ? { pool: pool.id } : {}, ctx);
      const notes = intent.switchAsked
        ? [
            t(q.lang, '我不会从提问里发起切换，也不会替你申请。', 'I do not switch from a question, nor request one on your behalf.'),
            t(
              q.lang,
              `要切换请用命令申请：\`/failover switch ${pool?.id ?? '<池>'} [--to <节点>] [原因]\`，需两人审批后才执行。切换前请先看上面的池状态：心跳丢失但主机健康时不要切换。`,
              `To switch, request it with \`/failover switch ${pool?.id ?? '<pool>'} [--to <node>] [reason]\`: it runs only after two people approve. Check the pool state above first: a lost heartbeat with a healthy primary is no reason to switch.`,
            ),
          ]
        : [];
      return answer([status], { ...about(system), ...(notes.length ? { notes } : {}) });
    }
    case 'runbook': {
      const preferred = intent.systems.length ? intent.systems : named;
      const query = runbookQuery(q.text);
      const search = await app.tools.call(searchRunbooksTool, { query, top: 4, ...(preferred.length ? { systems: preferred.map((s) => s.id) } : {}) }, ctx);
      const hits = search.data?.hits ?? [];
      const notes = intent.fallback && !looksLikeSymptom(q.text) ? fallbackNotes(q.lang) : undefined;
      if (search.status === 'error' || hits.length === 0) return answer([search], { ...about(preferred[0]), ...(notes ? { notes } : {}) });
      const full = await app.tools.call(getRunbookTool, { id: hits[0]!.runbookId }, ctx);
      return answer([search, full], { citations: hits.map((h) => ({ runbookId: h.runbookId, section: h.section, source: h.source })), ...about(preferred[0]), ...(notes ? { notes } : {}) });
    }
  }
}

/** One line naming who made a system's changes in the window, busiest first; or that nobody did. */
function whoChanged(data: { changes: Array<{ executor: string | null; executorName: string | null }>; events: Array<{ operator: string; operatorName: string | null }> }, lang: Question['lang']): string {
  const count = new Map<string, { name: string; n: number }>();
  const add = (id: string | null, name: string | null) => {
    if (!id) return;
    const e = count.get(id) ?? { name: name ?? id, n: 0 };
    e.n++;
    count.set(id, e);
  };
  for (const c of data.changes) add(c.executor, c.executorName);
  for (const e of data.events) add(e.operator, e.operatorName);
  const people = [...count.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0])).map(([id, p]) => t(lang, `${p.name}（${id}）`, `${p.name} (${id})`));
  if (!people.length) return t(lang, '这段时间没有人动过（没有变更单，也没有变更操作事件）。', 'Nobody changed it in that window (no change tickets, no change operation events).');
  return t(lang, `动过的人：${people.join('、')}（详见下方「谁动过」）。`, `Made by: ${people.join(', ')} (details under "Who made them").`);
}

function byId(systems: SystemRow[], id: string | undefined): SystemRow | undefined {
  return id ? systems.find((s) => s.id === id) : undefined;
}

function windowInput(window: Window): { days: number } | { from: string; to: string } {
  return window.kind === 'range' ? { from: window.from.toISOString(), to: window.to.toISOString() } : { days: window.days };
}

/** "fail over" is one verb ("failover"); split, its "fail" reads as a failure to the search. */
export function runbookQuery(text: string): string {
  return text.replace(/\bfail(?:ing|ed|s)?[\s-]+over\b/gi, 'failover').replace(/\bswitch(?:ing|ed|es)?[\s-]+over\b/gi, 'switchover');
}

/** A pasted log line or an error code is a symptom: the runbooks are the answer, no apology needed. */
function looksLikeSymptom(text: string): boolean {
  return /\b(?:ERROR|WARN|FATAL|Exception|ORA-\d+|errno|timeout|timed out|refused|failed|failure)\b|报错|失败|超时|异常|告警|不通|中断|卡住|延迟|不跳|不动|挂了|宕机|满了/i.test(text);
}

/**
 * A turn that only makes sense with the one before ("那昨天呢", "and for 两融?", "who did it?"):
 * the earlier intent again, with this turn's system or window. Undefined when this turn stands alone.
 */
function followUp(intent: Intent, text: string, last: Turn | undefined, systems: SystemRow[], named: SystemRow[], defaultDays: number): Intent | undefined {
  if (!last?.intent) return undefined;
  const bare = intent.kind === 'runbook' && intent.fallback;
  const whoAsk = intent.kind === 'changes' && intent.who && !intent.system;
  if (!bare && !whoAsk) return undefined;
  if (bare && !FOLLOW_UP.test(text) && !WINDOW_WORDS.test(text) && !(named.length && text.trim().length <= 24)) return undefined;
  const system = named[0] ?? byId(systems, last.system);
  const sys = system ? { system } : {};
  if (whoAsk) return { ...intent, ...sys };
  switch (last.intent) {
    case 'changes':
      return { kind: 'changes', ...sys, days: defaultDays, includeNeighbours: false, ...(/谁|who/i.test(text) ? { who: true } : {}) };
    case 'alerts':
      return { kind: 'alerts', ...sys };
    case 'oncall':
      return { kind: 'oncall', ...sys };
    case 'localize':
      return { kind: 'localize', ...sys };
    case 'failover':
      return { kind: 'failover', ...sys, switchAsked: false };
    case 'incidents':
      return { kind: 'incidents', ...sys };
    case 'incident-status':
    case 'incident-impact':
    case 'incident-eta':
      return { kind: 'incident-status', focus: last.intent === 'incident-status' ? 'status' : last.intent === 'incident-eta' ? 'eta' : 'impact' };
    default:
      return undefined;
  }
}

type Base = (extra?: Partial<AgentAnswer>) => AgentAnswer;

/**
 * One incident's recorded facts; what nobody recorded yet is said, with who to ask. Which incident:
 * the one named, the room's, else the only open one; none or several open → the open list and a line.
 */
async function incidentAnswer(app: App, q: Question, ctx: ToolContext, intent: Extract<Intent, { kind: 'incident-status' }>, base: Base): Promise<AgentAnswer> {
  let id = intent.incident ?? ctx.incidentId;
  const looked: ToolResult[] = [];
  if (!id) {
    const open = await app.tools.call(openIncidentsTool, intent.system ? { system: intent.system.id } : {}, ctx);
    looked.push(open);
    const list = open.data?.incidents ?? [];
    if (list.length !== 1) {
      const scope = intent.system ? t(q.lang, `${intent.system.name} `, `on ${intent.system.name} `) : '';
      const note =
        open.status === 'error'
          ? []
          : list.length === 0
            ? [t(q.lang, `当前${scope}没有未解决的故障，没有可回答的恢复时间或影响。问已结束的故障请写上故障号（INC-…）。`, `No incident ${scope}is open right now, so there is no recovery time or impact to give. To ask about a past one, name it (INC-…).`)]
            : [t(q.lang, `当前有 ${list.length} 个未解决的故障：请写上故障号（INC-…），或在故障群里问。`, `${list.length} incidents are open: name one (INC-…), or ask in its room.`)];
      return base({ toolCalls: [open], ...(intent.system ? { system: intent.system.id } : {}), notes: note });
    }
    id = list[0]!.id;
  }
  const status = await app.tools.call(incidentStatusTool, { incident: id }, ctx);
  const s = status.data;
  const notes: string[] = [];
  if (s) {
    const who = s.commander
      ? s.commander.source === 'role'
        ? t(q.lang, `请问指挥 ${s.commander.name ?? s.commander.id}`, `ask the commander (${s.commander.name ?? s.commander.id})`)
        : t(q.lang, `请问值班指挥 ${s.commander.name ?? s.commander.id}`, `ask the on-call commander (${s.commander.name ?? s.commander.id})`)
      : t(q.lang, '还没有人担任指挥', 'nobody holds the commander role yet');
    if (intent.focus === 'eta' && !s.eta && !s.resolvedAt) notes.push(t(q.lang, `${s.id} 的预计恢复时间尚未记录，${who}；记录后（/incident eta <时间或说明>）我就能回答。`, `${s.id}: the expected recovery is not recorded yet, ${who}; once recorded (/incident eta <when>) I can answer it.`));
    if (intent.focus === 'eta' && s.resolvedAt) notes.push(t(q.lang, `${s.id} 已于 ${s.resolvedAt.slice(0, 16).replace('T', ' ')} 解决。`, `${s.id} was resolved at ${s.resolvedAt.slice(0, 16).replace('T', ' ')}.`));
    if (intent.focus === 'impact' && !s.impact) notes.push(t(q.lang, `${s.id} 的影响尚未记录，${who}；记录后（/incident impact <影响>）我就能回答。`, `${s.id}: the impact is not recorded yet, ${who}; once recorded (/incident impact <text>) I can answer it.`));
  }
  return base({ toolCalls: [...looked, status], ...(s ? { system: s.system } : {}), ...(notes.length ? { notes } : {}) });
}

/** The perception-factor diff around a change: its hosts with snapshots labelled for it first. */
async function diffAnswer(app: App, q: Question, ctx: ToolContext, intent: Extract<Intent, { kind: 'diff' }>, base: Base): Promise<AgentAnswer> {
  const changeId = intent.changeId!;
  const [change] = await app.db.query<{ system: string; objects: string[] }>('SELECT system, objects FROM changes WHERE upper(id) = upper($1)', [changeId]);
  const snapped = (await app.db.query<{ host: string }>('SELECT DISTINCT host FROM snapshots WHERE upper(change_id) = upper($1) ORDER BY host', [changeId])).map((r) => r.host);
  const objectHosts = (change?.objects ?? []).filter((o) => o.startsWith('host:')).map((o) => o.slice(5));
  const named = [...snapped, ...objectHosts].filter((h) => q.text.toLowerCase().includes(h.toLowerCase()));
  const hosts = [...new Set(named.length ? named : snapped.length ? snapped : objectHosts)].slice(0, 3);
  const system = change ? { system: change.system } : {};
  if (!hosts.length) {
    return base({
      ...system,
      notes: [
        change
          ? t(q.lang, `${changeId} 没有登记主机对象，也没有为它采集的快照，无法对比感知因子。`, `${changeId} names no host and no snapshot was taken for it, so there is nothing to diff.`)
          : t(q.lang, `没有找到变更单 ${changeId}。`, `No change ticket ${changeId} is known.`),
        t(q.lang, '变更前后用 `warroom sense --label before|after --change <变更单> --store` 采集快照后再问我。', 'Take snapshots before and after with `warroom sense --label before|after --change <ticket> --store`, then ask again.'),
      ],
    });
  }
  const calls: ToolResult[] = [];
  for (const host of hosts) calls.push(await app.tools.call(diffSnapshotsTool, { host, changeId }, ctx));
  return base({ toolCalls: calls, ...system });
}
