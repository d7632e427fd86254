import { formatShort } from '../../core/time.js';
import type { IncidentStatus } from '../../tools/incidents/incident-status.js';
import { t, type Lang, type MessageField, type OutgoingMessage } from '../messages.js';
import { durationLabel, roleLabel, severityLabel, statusLabel } from './vocabulary.js';

/** What the asker wanted first: the whole status, the impact, or the expected recovery. */
export type IncidentFocus = 'status' | 'impact' | 'eta';

const nameOf = (p: { id: string; name: string | null }) => (p.name ? `${p.name}（${p.id}）` : p.id);

/** The commander to ask for a fact nobody recorded yet. */
export function askCommanderText(s: IncidentStatus, lang: Lang): string {
  if (!s.commander) return t(lang, '还没有人担任指挥，也查不到值班指挥', 'nobody holds the commander role and no on-call commander is found');
  return s.commander.source === 'role'
    ? t(lang, `请问指挥 ${nameOf(s.commander)}`, `ask the commander, ${s.commander.name ?? s.commander.id}`)
    : t(lang, `请问值班指挥 ${nameOf(s.commander)}（尚无人担任本故障指挥）`, `ask the on-call commander, ${s.commander.name ?? s.commander.id} (nobody holds the commander role yet)`);
}

/** One incident's recorded facts; a fact nobody recorded says so and names who to ask, never a guess. */
export function incidentStatusView(s: IncidentStatus, lang: Lang, timeZone: string, focus: IncidentFocus = 'status'): OutgoingMessage {
  const notYet = () => t(lang, `尚未记录 — ${askCommanderText(s, lang)}`, `not recorded yet — ${askCommanderText(s, lang)}`);
  const recordHint = { impact: '/incident impact <…>', eta: '/incident eta <…>' };
  const eta: MessageField = {
    label: t(lang, '预计恢复', 'Expected recovery'),
    value: s.eta
      ? `${s.eta.text}${s.eta.by || s.eta.at ? t(lang, `（${[s.eta.by && nameOf(s.eta.by), s.eta.at && formatShort(new Date(s.eta.at), timeZone, lang)].filter(Boolean).join('，')} 记录）`, ` (recorded${s.eta.by ? ` by ${s.eta.by.name ?? s.eta.by.id}` : ''}${s.eta.at ? ` at ${formatShort(new Date(s.eta.at), timeZone, lang)}` : ''})`) : ''}`
      : notYet(),
  };
  const impact: MessageField = { label: t(lang, '影响', 'Impact'), value: s.impact ?? notYet() };
  const cause: MessageField = { label: t(lang, '根因', 'Root cause'), value: s.rootCause ?? t(lang, '尚未记录', 'not recorded yet') };
  const state: MessageField = {
    label: t(lang, '状态', 'Status'),
    value: `${severityLabel(s.severity, lang)} · ${statusLabel(s.status, lang)} · ${s.resolvedAt ? t(lang, `历时 ${durationLabel(s.elapsedMinutes, lang)}`, `lasted ${durationLabel(s.elapsedMinutes, lang)}`) : t(lang, `已持续 ${durationLabel(s.elapsedMinutes, lang)}`, `open for ${durationLabel(s.elapsedMinutes, lang)}`)}（${t(lang, '起始', 'onset')} ${formatShort(new Date(s.onset), timeZone, lang)}）`,
  };
  const roles: MessageField = {
    label: t(lang, '角色', 'Roles'),
    value: s.roles.length ? s.roles.map((r) => `${roleLabel(r.role, lang)} ${r.name ?? r.person}`).join(t(lang, '，', ', ')) : t(lang, '尚无人担任', 'none assigned yet'),
  };
  const order: MessageField[] = focus === 'eta' ? [eta, state, impact, roles, cause] : focus === 'impact' ? [impact, state, eta, roles, cause] : [state, impact, eta, cause, roles];
  const sections = s.timeline.length
    ? [{ title: t(lang, '最近的时间线', 'Latest on the timeline'), lines: s.timeline.map((e) => `${formatShort(new Date(e.at), timeZone, lang)} ${e.actor ? `${e.actor} · ` : ''}${e.text}`) }]
    : [];
  const missing = [!s.impact && recordHint.impact, !s.eta && recordHint.eta].filter(Boolean) as string[];
  return {
    lang,
    title: `${s.id} ${s.title} · ${s.systemName ?? s.system}`,
    text: '',
    fields: order,
    sections,
    context: [
      t(lang, '来源：故障记录与时间线（只列已记录的事实）', 'Source: the incident record and its timeline (recorded facts only)'),
      ...(missing.length && !s.resolvedAt ? [t(lang, `记录方式：${missing.join('、')}`, `To record: ${missing.join(', ')}`)] : []),
    ],
  };
}
