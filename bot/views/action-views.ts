import { formatShort } from '../../core/time.js';
import type { ActionRequest, ActionStatus, StepRecord } from '../../workers/action-store.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';

/** Button action ids of a request card; the value is only the request id. */
export const ACTION_BUTTONS = {
  approve: 'action.approve',
  reject: 'action.reject',
  cancel: 'action.cancel',
} as const;

const STATUS_WORDS: Record<ActionStatus, { zh: string; en: string; icon: string }> = {
  pending: { zh: '待审批', en: 'waiting for approval', icon: '🟡' },
  approved: { zh: '已批准，等待执行', en: 'approved, waiting for a worker', icon: '🟢' },
  rejected: { zh: '已驳回', en: 'rejected', icon: '⛔' },
  expired: { zh: '已过期（未执行）', en: 'expired (did not run)', icon: '⌛' },
  queued: { zh: '已排队', en: 'queued', icon: '🟢' },
  running: { zh: '执行中', en: 'running', icon: '⏳' },
  succeeded: { zh: '已完成', en: 'succeeded', icon: '✅' },
  failed: { zh: '失败', en: 'failed', icon: '❌' },
  cancelled: { zh: '已取消', en: 'cancelled', icon: '🚫' },
};

export function actionStatusLabel(status: ActionStatus, lang: Lang): string {
  const w = STATUS_WORDS[status];
  return `${w.icon} ${lang === 'zh' ? w.zh : w.en}`;
}

const STEP_ICON: Record<StepRecord['status'], string> = { running: '⏳', done: '✅', failed: '❌' };

function elapsed(from: Date, to: Date, lang: Lang): string {
  const s = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  const text = s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return t(lang, `用时 ${text}`, `${text} elapsed`);
}

export interface ActionCardOptions {
  steps?: StepRecord[];
  /** Names of people by id, for the requester and approvers. */
  names?: Map<string, string>;
  /** Who may still approve (names), shown while pending. */
  canApprove?: string[];
  now: Date;
  timeZone: string;
  /** The audit chain's head after the last decision, e.g. "#1234 a1b2c3d4". */
  auditHead?: string;
  /** Buttons are left off where the message cannot carry them (the terminal). */
  buttons?: boolean;
}

/**
 * The request card: what will happen (the plan), who asked and why, the approvals so far and how
 * many are needed, then the steps as they run (step n of m, what is happening, elapsed), and the
 * buttons that still make sense. Posted once and updated in place with every decision and step.
 */
export function actionCard(a: ActionRequest, lang: Lang, o: ActionCardOptions): OutgoingMessage {
  const name = (id: string) => {
    const n = o.names?.get(id);
    return n ? `${n} (${id})` : id;
  };
  const at = (d: Date) => formatShort(d, o.timeZone, lang);
  const fields = [
    { label: t(lang, '状态', 'Status'), value: actionStatusLabel(a.status, lang) },
    { label: t(lang, '申请人', 'Requested by'), value: `${name(a.requestedBy)} · ${at(a.createdAt)}` },
    { label: t(lang, '风险', 'Risk'), value: a.risk === 'high' ? t(lang, '高（双人复核）', 'high (two-person review)') : t(lang, '写操作', 'write') },
    { label: t(lang, '审批', 'Approvals'), value: `${a.approvals.length}/${a.approvalsNeeded}${a.approvals.length ? ` — ${a.approvals.map((x) => name(x.by)).join(', ')}` : ''}` },
    ...(a.incidentId ? [{ label: t(lang, '故障', 'Incident'), value: a.incidentId }] : []),
    ...(a.reason ? [{ label: t(lang, '原因', 'Reason'), value: a.reason }] : []),
  ];
  const sections: OutgoingMessage['sections'] = [];
  const steps = o.steps ?? [];
  if (steps.length) {
    const total = Math.max(steps.length, a.plan.steps.length);
    const running = steps.find((s) => s.status === 'running');
    const done = steps.filter((s) => s.status === 'done').length;
    sections.push({
      title: running
        ? t(lang, `第 ${running.seq}/${total} 步：${running.title}`, `Step ${running.seq} of ${total}: ${running.title}`)
        : t(lang, `步骤（${done}/${total} 完成）`, `Steps (${done} of ${total} done)`),
      lines: steps.map((s) => `${STEP_ICON[s.status]} ${s.title}${s.progress && s.status === 'running' ? ` — ${s.progress}` : ''}${s.error ? ` — ${s.error.slice(0, 200)}` : ''}`),
    });
  } else if (a.plan.steps.length) {
    sections.push({ title: t(lang, '计划步骤', 'Plan'), lines: a.plan.steps.map((s, i) => `${i + 1}. ${s.title}`) });
  }
  if (a.plan.notes?.length) sections.push({ title: t(lang, '预检', 'Pre-checks'), lines: a.plan.notes });
  if (a.status === 'failed' && a.error) sections.push({ title: t(lang, '错误', 'Error'), lines: [a.error.slice(0, 500)] });
  const summary = resultSummary(a);
  if (summary && (a.status === 'succeeded' || a.status === 'failed')) sections.push({ title: t(lang, '结果', 'Result'), lines: [summary] });

  const context: string[] = [];
  if (a.status === 'pending') {
    context.push(
      t(lang, `还需 ${a.approvalsNeeded - a.approvals.length} 人审批（${a.approvalsRule ?? ''}）；申请人不能审批自己的申请。${at(a.expiresAt)} 过期。`, `Needs ${a.approvalsNeeded - a.approvals.length} more approval(s) (${a.approvalsRule ?? ''}); the requester cannot approve their own request. Expires ${at(a.expiresAt)}.`),
    );
    if (o.canApprove?.length) context.push(t(lang, `可审批：${o.canApprove.join('、')}`, `Can approve: ${o.canApprove.join(', ')}`));
    context.push(t(lang, `无按钮时：/action approve ${a.id} · /action reject ${a.id} [原因]`, `Without buttons: /action approve ${a.id} · /action reject ${a.id} [reason]`));
  }
  if (a.startedAt && (a.status === 'running' || a.finishedAt)) context.push(elapsed(a.startedAt, a.finishedAt ?? o.now, lang));
  if (a.cancelRequestedAt && a.status === 'running') context.push(t(lang, '已请求取消：将在下一步之前停止。', 'Cancel requested: it stops before its next step.'));
  if (a.decidedBy && (a.status === 'rejected' || a.status === 'cancelled')) context.push(t(lang, `${a.status === 'rejected' ? '驳回' : '取消'}：${name(a.decidedBy)}${a.decisionNote ? `（${a.decisionNote}）` : ''}`, `${a.status === 'rejected' ? 'Rejected' : 'Cancelled'} by ${name(a.decidedBy)}${a.decisionNote ? ` (${a.decisionNote})` : ''}`));
  if (o.auditHead) context.push(t(lang, `审计链 ${o.auditHead}`, `Audit chain ${o.auditHead}`));

  const buttons =
    o.buttons === false
      ? undefined
      : a.status === 'pending'
        ? [
            { actionId: ACTION_BUTTONS.approve, label: t(lang, '批准', 'Approve'), value: a.id, style: 'primary' as const },
            { actionId: ACTION_BUTTONS.reject, label: t(lang, '驳回', 'Reject'), value: a.id, style: 'danger' as const },
          ]
        : a.status === 'approved' || a.status === 'queued' || (a.status === 'running' && !a.cancelRequestedAt)
          ? [{ actionId: ACTION_BUTTONS.cancel, label: t(lang, '取消', 'Cancel'), value: a.id, style: 'danger' as const }]
          : undefined;
  return {
    lang,
    title: `${a.id} · ${a.plan.summary || a.tool}`,
    text: t(lang, `操作申请：\`${a.tool}\``, `Action request: \`${a.tool}\``),
    fields,
    ...(sections.length ? { sections } : {}),
    context,
    ...(buttons ? { buttons } : {}),
  };
}

export function resultSummary(a: ActionRequest): string | undefined {
  const r = a.result as { summary?: unknown } | null;
  return r && typeof r.summary === 'string' ? r.summary : undefined;
}

/** One line for the timeline: "ACT-… failover_switch approved by 谢平 (2/2)". */
export function actionTimelineText(a: ActionRequest, what: string, lang: Lang): string {
  return t(lang, `${a.id} \`${a.tool}\`（${a.plan.summary}）：${what}`, `${a.id} \`${a.tool}\` (${a.plan.summary}): ${what}`);
}
