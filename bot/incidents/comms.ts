import { formatShort } from '../../core/time.js';
import { t, type Lang } from '../messages.js';
import type { IncidentFacts } from './facts.js';
import { durationLabel, severityLabel, stageLabel, statusLabel } from '../views/vocabulary.js';
import type { TimelineRow } from './store.js';

/** Timeline kinds that tell stakeholders something happened (not bot bookkeeping). */
const NEWSWORTHY = new Set(['status', 'severity', 'note', 'cause', 'impact', 'eta', 'action', 'update', 'resolved']);

/**
 * A status update for stakeholders, drafted from stored facts only: what is affected, where the
 * work stands, what changed since the last update, and when the next one comes. The
 * communications lead edits and posts it; Warroom never posts a draft on its own.
 */
export function draftStatusUpdate(f: IncidentFacts, systemName: string, timeline: TimelineRow[], lang: Lang, timeZone: string, now: Date): string {
  const i = f.incident;
  const since = f.lastUpdate?.posted_at ?? i.opened_at;
  const news = timeline.filter((r) => NEWSWORTHY.has(r.kind) && r.at > since).slice(-5);
  const when = (d: Date) => formatShort(d, timeZone, lang);
  const stage = f.stage === 'review' ? t(lang, '已恢复', 'recovered') : stageLabel(f.stage, lang);
  const lines = [
    t(lang, `【故障通报】${i.id} ${severityLabel(i.severity, lang)} ${systemName} — ${i.title}`, `[Status update] ${i.id} ${severityLabel(i.severity, lang)} ${systemName} — ${i.title}`),
    t(
      lang,
      `状态：${statusLabel(i.status, lang)}；当前阶段：${stage}；已持续 ${durationLabel(f.elapsedMinutes, lang)}（${when(f.onset)} 起，${when(i.opened_at)} 申报）`,
      `Status: ${statusLabel(i.status, lang)}; stage: ${stage}; going on for ${durationLabel(f.elapsedMinutes, lang)} (since ${when(f.onset)}, declared ${when(i.opened_at)})`,
    ),
    t(lang, `影响：${i.impact ?? '正在评估'}`, `Impact: ${i.impact ?? 'being assessed'}`),
  ];
  if (news.length) {
    lines.push(t(lang, '进展：', 'Progress:'));
    for (const r of news) lines.push(`- ${when(r.at)} ${r.text}`);
  } else {
    lines.push(t(lang, '进展：处置中，暂无新的结论。', 'Progress: work continues; nothing new to report yet.'));
  }
  if (i.root_cause) lines.push(t(lang, `初步原因：${i.root_cause}`, `Likely cause: ${i.root_cause}`));
  if (f.nextUpdateDue && i.status !== 'resolved') {
    // An update that is due now is this one: the next comes one interval after it.
    const next = f.nextUpdateDue > now ? f.nextUpdateDue : new Date(now.getTime() + f.updateInterval * 60000);
    lines.push(t(lang, `下次通报：${when(next)} 前`, `Next update: by ${when(next)}`));
  }
  return lines.join('\n');
}
