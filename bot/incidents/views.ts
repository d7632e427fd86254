import type { z } from 'zod';
import { formatShort } from '../../core/time.js';
import type { localizationCardSchema } from '../../tools/change-intel/localize.js';
import { t, type Lang, type MessageButton, type OutgoingMessage } from '../messages.js';
import { localizationView } from '../views/localization-view.js';
import type { IncidentFacts } from './facts.js';
import { durationLabel, minutesLabel, roleLabel, severityLabel, stageLabel, statusLabel } from '../views/vocabulary.js';
import type { Stage } from './policy.js';
import type { IncidentRow, RoleRow, TimelineRow } from './store.js';

export type LocalizationCard = z.output<typeof localizationCardSchema>;

/** Action ids of the incident buttons; the value always starts with the incident id. */
export const ACTIONS = {
  takeRole: 'incident.role',
  setStatus: 'incident.status',
  draftUpdate: 'incident.draft',
  postUpdate: 'incident.post_update',
  editUpdate: 'incident.edit_update',
  resolve: 'incident.resolve',
  declareAlert: 'incident.declare_alert',
  acknowledge: 'incident.ack',
} as const;

export function personLabel(r: { person: string; name: string | null }): string {
  return r.name ? `${r.name} (${r.person})` : r.person;
}

function rolesLine(roles: RoleRow[], lang: Lang): string {
  return roles.length ? roles.map((r) => `${roleLabel(r.role, lang)}：${personLabel(r)}`).join(t(lang, '；', '; ')) : t(lang, '未指定', 'none assigned');
}

function stageText(f: IncidentFacts, lang: Lang): string {
  if (f.stage === 'review') return t(lang, '已恢复，待复盘', 'recovered, review pending');
  const limit = f.stageLimit ?? 0;
  const over = f.stageOverdue ? t(lang, `（已超时 ${minutesLabel(f.elapsedMinutes - limit, lang)}）`, ` (overdue by ${minutesLabel(f.elapsedMinutes - limit, lang)})`) : t(lang, `（时限 ${minutesLabel(limit, lang)}）`, ` (limit ${minutesLabel(limit, lang)})`);
  return `${stageLabel(f.stage, lang)}${over}`;
}

/** The pinned card of an incident room: the incident's state on top, the localization card below. */
export function incidentCardView(f: IncidentFacts, card: LocalizationCard | undefined, systemName: string, lang: Lang, timeZone: string): OutgoingMessage {
  const i = f.incident;
  const when = (d: Date) => formatShort(d, timeZone, lang);
  const base = card ? localizationView(card, lang, timeZone, { incidentId: i.id }) : undefined;
  const fields = [
    { label: t(lang, '级别', 'Severity'), value: severityLabel(i.severity, lang) },
    { label: t(lang, '状态', 'Status'), value: statusLabel(i.status, lang) },
    { label: t(lang, '阶段', 'Stage'), value: stageText(f, lang) },
    { label: t(lang, '已持续', 'Elapsed'), value: durationLabel(f.elapsedMinutes, lang) },
    { label: t(lang, '申报时间', 'Declared'), value: `${when(i.opened_at)}${i.declared_by ? ` · ${i.declared_by}` : ''}` },
    ...f.roles.map((r) => ({ label: roleLabel(r.role, lang), value: personLabel(r) })),
    ...(i.impact ? [{ label: t(lang, '影响', 'Impact'), value: i.impact }] : []),
    ...(base?.fields ?? []),
  ];
  const open = i.status !== 'resolved';
  const buttons: MessageButton[] = open
    ? [
        { actionId: ACTIONS.takeRole, label: t(lang, '我来指挥', 'Take command'), value: `${i.id}|incident-commander`, style: 'primary' },
        ...(i.status === 'investigating' ? [{ actionId: ACTIONS.setStatus, label: t(lang, '已定位', 'Identified'), value: `${i.id}|identified` }] : []),
        ...(i.status !== 'mitigated' ? [{ actionId: ACTIONS.setStatus, label: t(lang, '已缓解', 'Mitigated'), value: `${i.id}|mitigated` }] : []),
        { actionId: ACTIONS.draftUpdate, label: t(lang, '起草通报', 'Draft update'), value: i.id },
        { actionId: ACTIONS.resolve, label: t(lang, '已解决', 'Resolve'), value: i.id, style: 'danger' },
      ]
    : [];
  return {
    lang,
    title: `${i.id} · ${severityLabel(i.severity, lang)} · ${systemName} — ${i.title}`,
    text: open
      ? t(lang, '先申报，后处理。命令：`/incident role|status|update|note|resolve|help`', 'Declare first, then fix. Commands: `/incident role|status|update|note|resolve|help`')
      : t(lang, `已于 ${i.resolved_at ? when(i.resolved_at) : '—'} 解决。复盘草稿已发到本群。`, `Resolved at ${i.resolved_at ? when(i.resolved_at) : '—'}. The postmortem draft is in this room.`),
    fields,
    sections: base?.sections ?? [],
    context: base?.context ?? [t(lang, '无定位卡：系统数据不足。', 'No localization card: not enough data for this system.')],
    buttons,
  };
}

/** The short announcement in the status channel. */
export function announcementView(i: IncidentRow, systemName: string, roomName: string | undefined, roles: RoleRow[], lang: Lang, timeZone: string): OutgoingMessage {
  return {
    lang,
    title: t(lang, `故障申报 ${i.id}`, `Incident declared: ${i.id}`),
    text: `${severityLabel(i.severity, lang)} · ${systemName} — ${i.title}`,
    fields: [
      { label: t(lang, '申报时间', 'Declared'), value: formatShort(i.opened_at, timeZone, lang) },
      { label: t(lang, '故障群', 'Room'), value: roomName ?? t(lang, '（未创建）', '(none)') },
      { label: t(lang, '角色', 'Roles'), value: rolesLine(roles, lang) },
    ],
  };
}

/** Managers' view: every incident in a few lines each. */
export function statusListView(list: IncidentFacts[], lang: Lang, timeZone: string, heading: { zh: string; en: string }, systemNames: Map<string, string>): OutgoingMessage {
  if (!list.length) return { lang, title: t(lang, heading.zh, heading.en), text: t(lang, '没有故障。', 'No incidents.') };
  return {
    lang,
    title: t(lang, heading.zh, heading.en),
    text: t(lang, `共 ${list.length} 起：`, `${list.length} in all:`),
    sections: list.map((f) => incidentSummarySection(f, lang, timeZone, systemNames)),
    context: [t(lang, '来源：Warroom 故障记录（申报、状态、通报）。`status INC-…` 查看单个故障。', 'Source: Warroom incident records (declarations, status, updates). `status INC-…` shows one.')],
  };
}

function incidentSummarySection(f: IncidentFacts, lang: Lang, timeZone: string, systemNames: Map<string, string>): { title: string; lines: string[] } {
  const i = f.incident;
  const when = (d: Date) => formatShort(d, timeZone, lang);
  const commander = f.roles.find((r) => r.role === 'incident-commander');
  const lines = [
    `${t(lang, '状态', 'Status')}：${statusLabel(i.status, lang)} · ${t(lang, '阶段', 'stage')}：${stageText(f, lang)} · ${t(lang, '已持续', 'open for')} ${durationLabel(f.elapsedMinutes, lang)}${i.resolved_at ? ` · ${t(lang, '解决于', 'resolved')} ${when(i.resolved_at)}` : ''}`,
    `${t(lang, '影响', 'Impact')}：${i.impact ?? t(lang, '待评估', 'being assessed')}`,
    `${t(lang, '指挥', 'Commander')}：${commander ? personLabel(commander) : t(lang, '未指定', 'none')}${i.room?.name ? ` · ${t(lang, '故障群', 'room')} ${i.room.name}` : ''}`,
    f.lastUpdate
      ? `${t(lang, '最近通报', 'Last update')} ${when(f.lastUpdate.posted_at ?? f.lastUpdate.drafted_at)}：${f.lastUpdate.text.split('\n')[0]!.slice(0, 160)}`
      : t(lang, '最近通报：尚无', 'Last update: none yet'),
  ];
  if (f.nextUpdateDue) lines.push(`${t(lang, '下次通报', 'Next update due')}：${when(f.nextUpdateDue)}`);
  return { title: `${i.id} · ${severityLabel(i.severity, lang)} · ${systemNames.get(i.system) ?? i.system} — ${i.title}`, lines };
}

export function timelineView(i: IncidentRow, rows: TimelineRow[], lang: Lang, timeZone: string): OutgoingMessage {
  return {
    lang,
    title: t(lang, `${i.id} 时间线`, `${i.id} timeline`),
    text: '',
    sections: [{ lines: rows.map((r) => `${formatShort(r.at, timeZone, lang)} ${r.actor ?? 'warroom'} · ${r.text}`) }],
  };
}

export function nudgeView(f: IncidentFacts, stage: Stage, commander: string | undefined, lang: Lang): OutgoingMessage {
  const limit = f.stageLimit ?? 0;
  return {
    lang,
    title: t(lang, `⏰ ${f.incident.id} ${stageLabel(stage, lang)}阶段超时`, `⏰ ${f.incident.id}: ${stageLabel(stage, lang)} stage overdue`),
    text: t(
      lang,
      `${severityLabel(f.incident.severity, lang)} 故障已持续 ${durationLabel(f.elapsedMinutes, lang)}，${stageLabel(stage, lang)}时限为 ${minutesLabel(limit, lang)}。${commander ? `请 ${commander} ` : '请故障指挥'}确认进展，必要时升级或采取标准应急措施（重启、切换、回退）。`,
      `This ${severityLabel(f.incident.severity, lang)} incident has been open ${durationLabel(f.elapsedMinutes, lang)}; the ${stageLabel(stage, lang)} limit is ${minutesLabel(limit, lang)}. ${commander ? `${commander}, please` : 'Commander, please'} confirm progress and escalate or take a standard first move (restart, switch over, roll back) if needed.`,
    ),
  };
}
