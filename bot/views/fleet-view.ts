import type { SenseFleetOutput } from '../../tools/change-intel/sense-fleet.js';
import { t, type Lang, type MessageSection, type OutgoingMessage } from '../messages.js';

/** Hosts listed per section in chat; the counts above them are exact. */
const LINES_PER_SECTION = 15;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * A fleet collection for chat: the counts, the commonest reasons hosts failed, which hosts failed
 * or timed out (the first few), and how to diff what was stored.
 */
export function fleetView(data: SenseFleetOutput, lang: Lang): OutgoingMessage {
  const tag = [data.label, data.changeId].filter(Boolean).join(' ');
  const failed = data.hosts.filter((h) => h.status === 'failed');
  const timedOut = data.hosts.filter((h) => h.status === 'timeout');
  const sections: MessageSection[] = [];
  if (data.failureReasons.length) {
    sections.push({
      title: t(lang, '失败原因', 'Why hosts failed'),
      lines: data.failureReasons.map((r) => t(lang, `${r.hosts} 台：${r.error}（如 ${r.example}）`, `${r.hosts} host${r.hosts === 1 ? '' : 's'}: ${r.error} (e.g. ${r.example})`)),
    });
  }
  const hostLines = (list: typeof data.hosts, total: number) => {
    const lines = list.slice(0, LINES_PER_SECTION).map((h) => `${h.host}: ${h.error ?? '?'} (${seconds(h.ms)})`);
    if (total > lines.length) lines.push(t(lang, `… 另有 ${total - lines.length} 台`, `… and ${total - lines.length} more`));
    return lines;
  };
  if (data.failed) sections.push({ title: t(lang, `失败（${data.failed}）`, `Failed (${data.failed})`), lines: hostLines(failed, data.failed) });
  if (data.timedOut) sections.push({ title: t(lang, `超时（${data.timedOut}）`, `Timed out (${data.timedOut})`), lines: hostLines(timedOut, data.timedOut) });
  const renamed = data.hosts.filter((h) => h.reportedAs);
  if (renamed.length) {
    sections.push({
      title: t(lang, '以其他主机名上报', 'Reported under another name'),
      lines: renamed.slice(0, LINES_PER_SECTION).map((h) => `${h.host} → ${h.reportedAs}`),
    });
  }
  const stored = data.stored.inserted + data.stored.updated + data.stored.unchanged;
  const example = data.hosts.find((h) => h.status === 'ok');
  const exampleName = example?.reportedAs ?? example?.host;
  const context = [
    t(
      lang,
      `驱动 ${data.driver}，用时 ${seconds(data.durationMs)}；已保存 ${stored} 份快照（新增 ${data.stored.inserted}，更新 ${data.stored.updated}，未变 ${data.stored.unchanged}）`,
      `Driver ${data.driver}, ${seconds(data.durationMs)}; ${stored} snapshot${stored === 1 ? '' : 's'} stored (${data.stored.inserted} new, ${data.stored.updated} updated, ${data.stored.unchanged} unchanged)`,
    ),
  ];
  if (exampleName) {
    context.push(
      data.changeId
        ? t(lang, `对比变更前后：对比 ${exampleName} ${data.changeId}`, `Compare before/after: diff ${exampleName} ${data.changeId}`)
        : t(lang, `与上一份快照对比：对比 ${exampleName}`, `Compare with the previous snapshot: diff ${exampleName}`),
    );
  }
  return {
    lang,
    title: t(lang, `批量采集感知因子${tag ? `（${tag}）` : ''}`, `Fleet collection of perception factors${tag ? ` (${tag})` : ''}`),
    text: t(
      lang,
      `${data.total} 台主机：成功 ${data.ok}，失败 ${data.failed}，超时 ${data.timedOut}。`,
      `${data.total} host${data.total === 1 ? '' : 's'}: ${data.ok} ok, ${data.failed} failed, ${data.timedOut} timed out.`,
    ),
    ...(sections.length ? { sections } : {}),
    context,
  };
}
