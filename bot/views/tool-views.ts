import type { z } from 'zod';
import { formatShort } from '../../core/time.js';
import type { changeLookupTool } from '../../tools/change-intel/change-lookup.js';
import type { listSystemsTool } from '../../tools/oncall/list-systems.js';
import type { oncallTool } from '../../tools/oncall/oncall.js';
import type { openIncidentsTool } from '../../tools/incidents/open-incidents.js';
import type { ToolResult } from '../../tools/tool.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';
import { changeFlagLabel, durationLabel, riskLabel, roleLabel, severityLabel, statusLabel } from './vocabulary.js';

type Out<T extends { output: z.ZodTypeAny }> = z.output<T['output']>;

/** A call the audit log did not take says so under its answer. */
export function withAuditNote(result: ToolResult, message: OutgoingMessage, lang: Lang): OutgoingMessage {
  if (!result.notRecorded) return message;
  const note = t(lang, '⚠️ 未记录：审计日志写入失败，这次调用没有留下审计记录。', '⚠️ Not recorded: the audit log could not be written, so this call left no audit record.');
  return { ...message, context: [...(message.context ?? []), note] };
}

/** A failed or empty tool call, said plainly. */
export function toolProblemView(result: ToolResult, lang: Lang): OutgoingMessage {
  if (result.status === 'error') {
    return withAuditNote(result, { lang, title: t(lang, '出错了', 'Something went wrong'), text: result.error === 'audit_unavailable' ? result.summary : (result.error ?? result.summary) }, lang);
  }
  return withAuditNote(result, { lang, text: result.summary }, lang);
}

export function systemsView(data: Out<typeof listSystemsTool>, lang: Lang): OutgoingMessage {
  const named = (ids: string[]) => ids.map((id) => (data.names[id] && data.names[id] !== id ? `${data.names[id]} (${id})` : id)).join(t(lang, '、', ', '));
  if (data.systems.length === 1) {
    // One system: its dependencies both ways, which is what "what does X depend on" asks.
    const s = data.systems[0]!;
    return {
      lang,
      title: `${s.name} (${s.id})${s.tier ? t(lang, ` · ${s.tier} 级`, ` · tier ${s.tier}`) : ''}`,
      text: '',
      fields: [
        { label: t(lang, '依赖（上游）', 'Depends on (upstream)'), value: s.dependsOn.length ? named(s.dependsOn) : t(lang, '无', 'nothing recorded') },
        { label: t(lang, '被依赖（下游）', 'Used by (downstream)'), value: s.dependents.length ? named(s.dependents) : t(lang, '无', 'nothing recorded') },
        ...(s.aliases.length ? [{ label: t(lang, '别名', 'Also called'), value: s.aliases.join(', ') }] : []),
      ],
      context: [t(lang, '故障从上游传到下游：先看它依赖的系统。', 'Failures travel from upstream to downstream: look at what it depends on first.')],
    };
  }
  return {
    lang,
    title: t(lang, `系统（${data.systems.length}）`, `Systems (${data.systems.length})`),
    text: '',
    sections: [
      {
        lines: data.systems.map((s) => {
          const deps = s.dependsOn.length ? t(lang, `，依赖 ${named(s.dependsOn)}`, `, depends on ${named(s.dependsOn)}`) : '';
          const aliases = s.aliases.length ? ` [${s.aliases.join(', ')}]` : '';
          return `${s.name} (${s.id}) ${s.tier ? t(lang, `${s.tier} 级`, `tier ${s.tier}`) : ''}${aliases}${deps}`;
        }),
      },
    ],
  };
}

export function oncallView(data: Out<typeof oncallTool>, lang: Lang): OutgoingMessage {
  const until = (to: string | null) => (to ? t(lang, `（至 ${to.slice(5, 16).replace('T', ' ')}）`, ` (until ${to.slice(5, 16).replace('T', ' ')})`) : '');
  const who = (e: Out<typeof oncallTool>['entries'][number]) => `${e.person.name}${e.person.slack ? ` <@${e.person.slack}>` : ''}${until(e.to)}`;
  if (!data.system) {
    // Everyone on call now, one line per system: what a manager asks before knowing which system.
    const bySystem = new Map<string, { name: string; lines: string[] }>();
    for (const e of data.entries) {
      const g = bySystem.get(e.system.id) ?? { name: e.system.name, lines: [] };
      g.lines.push(`${roleLabel(e.role, lang)} ${who(e)}`);
      bySystem.set(e.system.id, g);
    }
    return {
      lang,
      title: t(lang, '当前值班（全部系统）', 'On call now, every system'),
      text: data.entries.length ? '' : t(lang, '此时没有值班安排。', 'Nobody is on call at this time.'),
      sections: [{ lines: [...bySystem.values()].map((g) => `${g.name}：${g.lines.join(t(lang, '；', '; '))}`) }],
      context: [t(lang, `时间：${data.at}；问某个系统可以说「两融谁值班」`, `As of ${data.at}; ask "who is on call for 两融" for one system`)],
    };
  }
  return {
    lang,
    title: t(lang, `${data.system.name} 当前值班`, `On call for ${data.system.name}`),
    text: data.entries.length ? '' : t(lang, '此时没有值班安排。', 'Nobody is on call at this time.'),
    fields: data.entries.map((e) => ({ label: roleLabel(e.role, lang), value: who(e) })),
    context: [t(lang, `时间：${data.at}`, `As of ${data.at}`)],
  };
}

/** Who made a system's changes: executors and reviewers of tickets, operators of events, busiest first. */
export function changePeopleLines(data: Out<typeof changeLookupTool>, lang: Lang): string[] {
  const people = new Map<string, { name: string; executed: string[]; reviewed: string[]; events: number; untracked: number }>();
  const entry = (id: string, name: string | null) => {
    let p = people.get(id);
    if (!p) people.set(id, (p = { name: name ?? id, executed: [], reviewed: [], events: 0, untracked: 0 }));
    return p;
  };
  for (const c of data.changes) {
    if (c.executor) entry(c.executor, c.executorName).executed.push(c.id);
    if (c.reviewer) entry(c.reviewer, c.reviewerName).reviewed.push(c.id);
  }
  for (const e of data.events) {
    const p = entry(e.operator, e.operatorName);
    p.events++;
    if (!e.changeId) p.untracked++;
  }
  return [...people.entries()]
    .sort((a, b) => b[1].events + b[1].executed.length - (a[1].events + a[1].executed.length) || a[0].localeCompare(b[0]))
    .map(([id, p]) => {
      const parts = [
        p.executed.length && t(lang, `执行 ${p.executed.join('、')}`, `executed ${p.executed.join(', ')}`),
        p.events && t(lang, `操作 ${p.events} 次${p.untracked ? `（${p.untracked} 次无变更单）` : ''}`, `${p.events} operation${p.events > 1 ? 's' : ''}${p.untracked ? ` (${p.untracked} without a ticket)` : ''}`),
        p.reviewed.length && t(lang, `复核 ${p.reviewed.join('、')}`, `reviewed ${p.reviewed.join(', ')}`),
      ].filter(Boolean);
      return `${t(lang, `${p.name}（${id}）：`, `${p.name} (${id}): `)}${parts.join(t(lang, '；', '; '))}`;
    });
}

export function changesView(data: Out<typeof changeLookupTool>, lang: Lang, timeZone: string): OutgoingMessage {
  const days = data.window.tradingDays;
  const range = data.window.kind === 'range';
  const span = `${data.window.from.slice(0, 16).replace('T', ' ')} – ${data.window.to.slice(0, 16).replace('T', ' ')}`;
  const windowText = range
    ? t(lang, `窗口：${span}${days.length ? `（交易日 ${days.join('、')}）` : '（无交易日）'}`, `Window: ${span}${days.length ? ` (trading days ${days.join(', ')})` : ' (no trading day)'}`)
    : t(
        lang,
        `窗口：最近 ${days.length} 个交易日（${days.join('、')}）${data.window.includesToday ? '及今日' : ''}，至 ${data.window.to.slice(0, 16).replace('T', ' ')}，已跳过周末和节假日`,
        `Window: the last ${days.length} trading days (${days.join(', ')})${data.window.includesToday ? ' and today' : ''}, up to ${data.window.to.slice(0, 16).replace('T', ' ')}; weekends and holidays skipped`,
      );
  const changeLines = data.changes.map((c) => {
    const when = c.plannedStart ? formatShort(new Date(c.plannedStart), timeZone, lang) : t(lang, '时间未定', 'time unset');
    const sys = data.systems.length > 1 ? ` [${c.system}]` : '';
    const executor = c.executorName ?? c.executor;
    const reviewer = c.reviewerName ?? c.reviewer;
    const who = [executor && t(lang, `执行 ${executor}`, `by ${executor}`), reviewer && t(lang, `复核 ${reviewer}`, `reviewed by ${reviewer}`)]
      .filter(Boolean)
      .join(t(lang, '，', ', '));
    // The risk label already says "high risk"; the other flags follow it.
    const flags = c.flags.filter((f) => f !== 'high-risk').map((f) => `⚠ ${changeFlagLabel(f, lang)}`);
    return `${c.id}${sys} ${c.title} · ${riskLabel(c.risk, lang)} · ${when}${who ? ` · ${who}` : ''}${flags.length ? ` · ${flags.join(' ')}` : ''}`;
  });
  const eventLines = data.events.map((e) => {
    const ticket = e.changeId ?? t(lang, '⚠ 无变更单', '⚠ no ticket');
    const flags = e.flags.filter((f) => f !== 'no-ticket').map((f) => `⚠ ${changeFlagLabel(f, lang)}`);
    return `${formatShort(new Date(e.at), timeZone, lang)} ${e.operatorName ?? e.operator} ${e.action} ${e.object} [${e.system}${e.environment ? `/${e.environment}` : ''}]${e.scene ? ` (${e.scene})` : ''} · ${ticket}${e.source ? ` · ${e.source}` : ''}${flags.length ? ` · ${flags.join(' ')}` : ''}`;
  });
  const sections = [];
  if (changeLines.length) sections.push({ title: t(lang, `变更单（${changeLines.length}）`, `Change tickets (${changeLines.length})`), lines: changeLines });
  if (eventLines.length) sections.push({ title: t(lang, `变更操作事件（${eventLines.length}）`, `Change operation events (${eventLines.length})`), lines: eventLines });
  const who = changePeopleLines(data, lang);
  if (who.length) sections.push({ title: t(lang, '谁动过', 'Who made them'), lines: who });
  // "In trading hours" alone is context, not a finding: the summary lists the flags that ask for action.
  const highlightLines = data.highlights
    .filter((h) => h.flag !== 'in-trading-hours')
    .map((h) => `${changeFlagLabel(h.flag, lang)}：${[...h.changes, ...h.events].join(t(lang, '、', ', '))}`.replace('：', lang === 'zh' ? '：' : ': '));
  if (highlightLines.length) sections.push({ title: t(lang, '需要关注', 'Needs attention'), lines: highlightLines });
  const scope = data.systems.length > 1 ? t(lang, `${data.system.name} 及上下游`, `${data.system.name} and its neighbours`) : data.system.name;
  return {
    lang,
    title: range
      ? t(lang, `${scope} 的变更（${span}）`, `Changes to ${scope} (${span})`)
      : t(lang, `${scope} 最近 ${days.length} 个交易日的变更`, `Changes to ${scope} in the last ${days.length} trading days`),
    text: sections.length ? '' : t(lang, '窗口内没有变更单或变更操作事件。', 'No change tickets or change operation events in the window.'),
    sections,
    context: [windowText, t(lang, '来源：变更单（ITSM）与变更操作事件', 'Source: change tickets (ITSM) and change operation events')],
  };
}

export function incidentsView(data: Out<typeof openIncidentsTool>, lang: Lang): OutgoingMessage {
  if (data.incidents.length === 0) return { lang, text: t(lang, '当前没有未恢复的故障。', 'No open incidents right now.') };
  return {
    lang,
    title: t(lang, `未恢复的故障（${data.incidents.length}）`, `Open incidents (${data.incidents.length})`),
    text: '',
    sections: [
      {
        lines: data.incidents.map(
          (i) =>
            `${severityLabel(i.severity, lang)} ${i.id} ${i.title} · ${i.systemName ?? i.system} · ${statusLabel(i.status, lang)} · ${t(lang, '已持续', 'open for')} ${durationLabel(i.openMinutes, lang)}`,
        ),
      },
    ],
  };
}
