import type { z } from 'zod';
import { formatShort } from '../../core/time.js';
import type { localizationCardSchema } from '../../tools/change-intel/localize.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';

type Card = z.output<typeof localizationCardSchema>;

/** Set-aside items shown on the card; the rest are counted (the card stays short). */
const SET_ASIDE_SHOWN = 4;

export function localizationView(card: Card, lang: Lang, timeZone: string, options: { incidentId?: string } = {}): OutgoingMessage {
  const when = (iso: string) => formatShort(new Date(iso), timeZone, lang);
  const why = (x: { reasons: string[]; reasonsZh: string[] }) => (lang === 'zh' ? x.reasonsZh.join('；') : x.reasons.join('; '));
  const sections = [];
  const suspects = [
    ...card.changes.slice(0, 5).map((c) => ({ score: c.score, line: `${c.id} [${c.system}] ${c.title} · ${t(lang, '可疑度', 'suspicion')} ${c.score} — ${why(c)}` })),
    ...card.changeEvents.slice(0, 3).map((e) => ({ score: e.score, line: `${e.id} [${e.system}] ${when(e.at)} ${e.operator} ${e.action} ${e.object} · ${t(lang, '无变更单', 'no ticket')} · ${t(lang, '可疑度', 'suspicion')} ${e.score} — ${why(e)}` })),
  ].sort((a, b) => b.score - a.score);
  sections.push({
    title: card.onset
      ? t(lang, `故障起始前 ${card.window.tradingDays.length} 个交易日变更（${card.window.tradingDays.join('、')} 起至今），按可疑度排序`, `Changes from ${card.window.tradingDays.length} trading days before the onset until now (${card.window.tradingDays.join(', ')}), most suspicious first`)
      : t(lang, `近 ${card.window.tradingDays.length} 个交易日变更（${card.window.tradingDays.join('、')}），按可疑度排序`, `Changes in the last ${card.window.tradingDays.length} trading days (${card.window.tradingDays.join(', ')}), most suspicious first`),
    lines: suspects.length ? suspects.map((s) => s.line) : [t(lang, '窗口内无变更', 'No changes in the window')],
  });
  // Set aside for a stated reason (test-only, cancelled, after the onset…): not suspects, never silently dropped.
  const aside = card.setAside ?? [];
  if (aside.length) {
    const shown = aside.slice(0, SET_ASIDE_SHOWN);
    sections.push({
      title: t(lang, `已排除（${aside.length}）`, `Set aside (${aside.length})`),
      lines: [
        ...shown.map((a) => `${a.id} [${a.system}] ${a.title} — ${lang === 'zh' ? a.reasonZh : a.reason}`),
        ...(aside.length > shown.length ? [t(lang, `另有 ${aside.length - shown.length} 项（见卡片 JSON 的 setAside）`, `${aside.length - shown.length} more (setAside in the card's JSON)`)] : []),
      ],
    });
  }
  sections.push({
    title: card.onset
      ? t(lang, `告警：起始前 2 小时至今（${card.alerts.last2h}）`, `Alerts from 2 hours before the onset until now (${card.alerts.last2h})`)
      : t(lang, `近 2 小时告警（${card.alerts.last2h}）`, `Alerts in the last 2 hours (${card.alerts.last2h})`),
    lines: card.alerts.items.slice(0, 6).map((a) => `${when(a.startsAt)} ${a.severity} [${a.system}] ${a.title}${a.count > 1 ? ` ×${a.count}` : ''}${a.open ? '' : t(lang, '（已恢复）', ' (cleared)')}`),
  });
  if (card.similarIncidents.length) {
    sections.push({
      title: t(lang, '相似历史故障', 'Similar past incidents'),
      lines: card.similarIncidents.map((s) => `${s.id} ${s.title}${s.rootCause ? ` — ${t(lang, '根因', 'root cause')}: ${s.rootCause.slice(0, 80)}` : ''} (${why(s)})`),
    });
  }
  if (card.runbooks.length) {
    sections.push({ title: t(lang, '推荐应急手册', 'Recommended runbooks'), lines: card.runbooks.map((r) => `${r.title} [${r.id} § ${r.section}]`) });
  }
  const scope = [card.system.upstream.length ? t(lang, `上游 ${card.system.upstream.join('、')}`, `upstream ${card.system.upstream.join(', ')}`) : '', card.system.downstream.length ? t(lang, `下游 ${card.system.downstream.join('、')}`, `downstream ${card.system.downstream.join(', ')}`) : '']
    .filter(Boolean)
    .join(t(lang, '；', '; '));
  return {
    lang,
    title: t(lang, `故障定位：${card.system.name}${options.incidentId ? ` · ${options.incidentId}` : ''}`, `Fault localization: ${card.system.name}${options.incidentId ? ` · ${options.incidentId}` : ''}`),
    text: '',
    fields: [
      { label: t(lang, '健康度', 'Health'), value: `${card.health}/100` },
      { label: t(lang, '故障起始', 'Onset'), value: onsetText(card, lang, when) },
      { label: t(lang, '截至', 'As of'), value: when(card.at) },
      { label: t(lang, '关联系统', 'Neighbours'), value: scope || t(lang, '无', 'none') },
      ...(card.fpga?.shown ? [{ label: t(lang, 'FPGA 行情卡', 'FPGA decoder'), value: fpgaValue(card.fpga, lang) }] : []),
    ],
    sections,
    context: [
      lang === 'zh' ? card.disclaimer.zh : card.disclaimer.en,
      t(lang, '来源：变更单（ITSM）、变更操作事件、告警、历史故障库、运行手册', 'Sources: change tickets (ITSM), change operation events, alerts, incident history, runbooks'),
      // Left out for a market-data system: say why, so nobody reads its absence as "healthy".
      ...(card.fpga && !card.fpga.shown ? [lang === 'zh' ? card.fpga.zh : card.fpga.en] : []),
    ],
  };
}

/** Which moment the card counts back from, and why: people must be able to check it. */
function onsetText(card: Card, lang: Lang, when: (iso: string) => string): string {
  if (!card.onset) return t(lang, '无告警，按查询时刻计算', 'no alerts: counted from the time asked');
  if (card.onsetSource === 'given') return t(lang, `${when(card.onset)}（申报人给出）`, `${when(card.onset)} (given by the declarer)`);
  return t(lang, `${when(card.onset)}（首条告警 ${card.onsetAlert ?? ''}）`, `${when(card.onset)} (first alert ${card.onsetAlert ?? ''})`);
}

function fpgaValue(f: NonNullable<Card['fpga']>, lang: Lang): string {
  const reader = f.reader === 'addon' ? t(lang, 'C++ 插件读取', 'addon reader') : t(lang, 'TypeScript 读取器', 'TypeScript reader');
  return `${f.healthy ? '✅' : '⚠️'} ${lang === 'zh' ? f.zh : f.en}${t(lang, `（${reader}；详情：行情卡状态）`, ` (${reader}; details: \`fpga\`)`)}`;
}
