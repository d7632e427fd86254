import type { z } from 'zod';
import { describeModification } from '../../tools/change-intel/diff/render.js';
import type { noiseRuleAddTool, noiseRulesTool } from '../../tools/change-intel/noise-rules.js';
import type { diffSnapshotsTool } from '../../tools/change-intel/snapshot-diff.js';
import { t, type Lang, type MessageButton, type OutgoingMessage } from '../messages.js';

type Out<T extends { output: z.ZodTypeAny }> = z.output<T['output']>;

const MAX_VALUE = 70;

function shortValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

/** Keys with spaces need quotes to survive the chat's word splitting. */
const quoted = (key: string) => (/\s/.test(key) ? `"${key.replace(/"/g, "'")}"` : key);

/**
 * A perception-factor diff for chat: per factor the added (+), removed (−) and modified (~)
 * entries, then how much noise was left out and how to mark more as noise in one step.
 */
export function diffView(data: Out<typeof diffSnapshotsTool>, lang: Lang): OutgoingMessage {
  const pair = data.afterHost ? `${data.host} ↔ ${data.afterHost}` : data.host;
  const total = data.totals.added + data.totals.removed + data.totals.modified;
  const when = (s: { takenAt: string; label: string | null; changeId: string | null }) =>
    `${s.takenAt.slice(0, 16).replace('T', ' ')}${s.label ? ` ${s.label}` : ''}${s.changeId ? ` ${s.changeId}` : ''}`;
  const sections = data.factors.map((f) => {
    const lines = [
      ...f.added.map((i) => `+ ${i.key}  ${shortValue(i.value)}`),
      ...f.removed.map((i) => `− ${i.key}  ${shortValue(i.value)}`),
      ...f.modified.map((m) => `~ ${m.key}  ${describeModification(m)}`),
    ];
    const more = f.more.added + f.more.removed + f.more.modified;
    if (more) lines.push(t(lang, `… 另有 ${more} 项未显示`, `… and ${more} more`));
    return { title: `${f.factor} (+${f.added.length + f.more.added} −${f.removed.length + f.more.removed} ~${f.modified.length + f.more.modified})`, lines };
  });
  // One-click denoise: the first few entries get a button that adds a rule for exactly that key.
  // Chat platforms cap button values (Slack: 2,000 characters), so very long keys get no button.
  const candidates = data.factors
    .flatMap((f) => [...f.added, ...f.removed, ...f.modified].map((e) => ({ factor: f.factor, key: e.key })))
    .filter((c) => c.key.length <= 1500)
    .slice(0, 3);
  const buttons: MessageButton[] = candidates.map((c) => ({
    actionId: 'noise_rule_add',
    label: t(lang, `标记为噪声：${c.factor} ${shortValue(c.key)}`, `Mark as noise: ${c.factor} ${shortValue(c.key)}`),
    value: JSON.stringify({ factor: c.factor, keyPattern: c.key }),
  }));
  const context = [
    t(lang, `对比：${when(data.before)} → ${when(data.after)}`, `Compared: ${when(data.before)} → ${when(data.after)}`),
    t(
      lang,
      `已过滤噪声 ${data.suppressed} 项（进程号、临时端口、时间戳、计数器及自定义规则）`,
      `${data.suppressed} noise entr${data.suppressed === 1 ? 'y' : 'ies'} left out (PIDs, ephemeral ports, timestamps, counters, rules)`,
    ),
  ];
  if (data.uncompared.length) {
    context.push(t(lang, `未对比：${data.uncompared.map((u) => `${u.factor}（${u.reason}）`).join('；')}`, `Not compared: ${data.uncompared.map((u) => `${u.factor} (${u.reason})`).join('; ')}`));
  }
  if (total) context.push(t(lang, '一键降噪：降噪 <因子> <键或通配>，例如 降噪 os.listen "udp 0.0.0.0:* chronyd"', 'One-click denoise: noise <factor> <key or glob>, e.g. noise os.listen "udp 0.0.0.0:* chronyd"'));
  return {
    lang,
    title: t(lang, `${pair} 感知因子差异`, `Perception-factor diff of ${pair}`),
    text: total
      ? t(lang, `新增 ${data.totals.added}，删除 ${data.totals.removed}，修改 ${data.totals.modified}（${data.factors.length} 个因子）。`, `${data.totals.added} added, ${data.totals.removed} removed, ${data.totals.modified} modified in ${data.factors.length} factor(s).`)
      : t(lang, '没有差异。', 'No differences.'),
    sections,
    ...(buttons.length ? { buttons } : {}),
    context,
  };
}

export function noiseRulesView(data: Out<typeof noiseRulesTool>, lang: Lang): OutgoingMessage {
  return {
    lang,
    title: t(lang, '降噪规则', 'Noise rules'),
    text: '',
    sections: [
      { title: t(lang, '内置', 'Builtin'), lines: data.builtin.map((b) => `${b.id}: ${lang === 'zh' ? b.description.zh : b.description.en}`) },
      {
        title: t(lang, `自定义（${data.rules.length}）`, `Added (${data.rules.length})`),
        lines: data.rules.length
          ? data.rules.map((r) => `${r.id}. ${r.factor} ${quoted(r.keyPattern)}${r.reason ? ` — ${r.reason}` : ''} (${r.createdBy}, ${r.createdAt.slice(0, 10)})`)
          : [t(lang, '暂无。在对比结果里用「降噪 <因子> <键>」添加。', 'None yet. Add one from a diff with `noise <factor> <key>`.')],
      },
    ],
    context: [t(lang, '删除：降噪 删除 <编号>', 'Remove one: noise rm <id>')],
  };
}

export function noiseAddedView(data: Out<typeof noiseRuleAddTool>, lang: Lang): OutgoingMessage {
  const r = data.rule;
  return {
    lang,
    text: data.created
      ? t(lang, `已添加降噪规则 ${r.id}：${r.factor} ${quoted(r.keyPattern)}，此后的对比会过滤并计数。`, `Noise rule ${r.id} added: ${r.factor} ${quoted(r.keyPattern)}; later diffs leave these entries out and count them.`)
      : t(lang, `规则 ${r.id} 已覆盖 ${r.factor} ${quoted(r.keyPattern)}。`, `Rule ${r.id} already covers ${r.factor} ${quoted(r.keyPattern)}.`),
    context: [t(lang, `撤销：降噪 删除 ${r.id}`, `Undo: noise rm ${r.id}`)],
  };
}
