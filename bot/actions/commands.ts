import { WarroomError } from '../../core/errors.js';
import { toolContext } from '../../tools/services.js';
import { actionMessages, getAction } from '../../workers/action-store.js';
import type { ActionService } from '../../workers/actions.js';
import { appendAudit } from '../../db/audit.js';
import type { IncidentDeps } from '../incidents/deps.js';
import { incidentOfRoom } from '../incidents/store.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';
import type { BotReply, ChatEvent } from '../platforms/platform.js';
import { toolProblemView } from '../views/tool-views.js';
import { toolResultView } from '../views/tool-view-table.js';
import { ACTION_BUTTONS } from '../views/action-views.js';
import { currentCard } from './notifier.js';

/**
 * Approved actions from chat, the same on every platform, the terminal and `warroom ask`:
 *   /failover status POOL · /failover switch POOL [--to NODE] [reason]
 *   /action approve|reject|cancel|status ACT-… [reason] · /action list
 * and the Approve/Reject/Cancel buttons of request cards (their value is only the request id).
 */
export interface ActionChatContext {
  deps: IncidentDeps;
  actions: ActionService;
  event: ChatEvent;
  actorId: string;
  lang: Lang;
}

const ACTION_ID = /^ACT-\d{8}-\d{3,}$/i;
const SUB = {
  approve: ['approve', 'approved', 'ok', '批准', '同意', '通过'],
  reject: ['reject', 'deny', '驳回', '拒绝'],
  cancel: ['cancel', 'abort', 'stop', '取消', '中止'],
  status: ['status', 'show', '状态', '查看'],
  list: ['list', 'ls', 'open', '列表'],
} as const;

/** "fpga switch 0 …" / "行情卡切换 0 …": the path switch; any other "fpga …" is the status command (bot/commands.ts). */
const FPGA_SWITCH = /^[/!]?(?:fpga\s+(?:switch|切换)|行情卡切换|行情切换)(?:\s+|$)(.*)$/is;

/** "/action …", "action …", "操作 …" → the words after it; "/failover …", "切换 …" likewise; "fpga switch …" → ['switch', …]. */
export function matchActionCommand(event: ChatEvent, text: string): { command: 'action' | 'failover' | 'fpga'; words: string[] } | undefined {
  const split = (s: string) => s.split(/\s+/).filter(Boolean);
  if (event.kind === 'command' && (event.command === 'action' || event.command === 'failover')) return { command: event.command, words: split(text) };
  if (event.kind !== 'command' && event.kind !== 'message') return undefined;
  const body = event.kind === 'command' && event.command === 'warroom' ? text : event.kind === 'message' ? text : undefined;
  if (body === undefined) return undefined;
  const fpga = FPGA_SWITCH.exec(body.trim());
  if (fpga) return { command: 'fpga', words: ['switch', ...split(fpga[1] ?? '')] };
  const m = /^[/!]?(action|actions|操作|审批|failover|切换|主备切换)(?:\s+|$)(.*)$/is.exec(body.trim());
  if (!m) return undefined;
  const word = m[1]!.toLowerCase();
  const command = word === 'failover' || word === '切换' || word === '主备切换' ? 'failover' : 'action';
  const words = split(m[2] ?? '');
  // A bare "action" or "切换" in prose is a question, not a command: a command has a known subcommand.
  if (!event.kind.startsWith('command') && !/^[/!]/.test(body.trim()) && words.length === 0) return undefined;
  return { command, words };
}

const isSub = (word: string | undefined, sub: keyof typeof SUB) => word !== undefined && (SUB[sub] as readonly string[]).includes(word.toLowerCase());

function usage(lang: Lang): OutgoingMessage {
  return {
    lang,
    title: t(lang, '操作与审批', 'Actions and approvals'),
    text: t(lang, '写操作和高风险操作需要审批后才会执行：', 'Write and high-risk actions run only after approval:'),
    sections: [
      {
        lines: [
          t(lang, '/failover status <池> — 查看主备池（主节点、VIP、各节点健康）', '/failover status <pool> — a failover pool: primary, VIP, node health'),
          t(lang, '/failover switch <池> [--to <节点>] [原因] — 申请切换（高风险：两人审批）', '/failover switch <pool> [--to <node>] [reason] — request a switch (high risk: two approvers)'),
          t(lang, '行情卡切换 <卡号> [--to software|fpga] [原因] — 申请把该卡的下游切到软件解码路径（或切回 FPGA；高风险：两人审批）', '/fpga switch <card> [--to software|fpga] [reason] — request moving a card\'s consumers to the software decoder (or back; high risk: two approvers)'),
          t(lang, '/action approve <ACT-…> — 批准', '/action approve <ACT-…> — approve'),
          t(lang, '/action reject <ACT-…> [原因] — 驳回（申请人可撤回自己的申请）', '/action reject <ACT-…> [reason] — reject (the requester may withdraw their own)'),
          t(lang, '/action cancel <ACT-…> — 取消（执行中的操作在下一步之前停止）', '/action cancel <ACT-…> — cancel (a running action stops before its next step)'),
          t(lang, '/action status <ACT-…> — 状态、审批人、已完成的步骤', '/action status <ACT-…> — state, approvers, steps done'),
          t(lang, '/action list — 最近的操作申请', '/action list — recent action requests'),
        ],
      },
    ],
  };
}

function requireId(words: string[], lang: Lang): string {
  const id = words.find((w) => ACTION_ID.test(w));
  if (!id) throw new WarroomError('usage', t(lang, '请给出操作申请编号，例如 /action approve ACT-20261123-001。', 'Give the request id, e.g. /action approve ACT-20261123-001.'));
  return id.toUpperCase();
}

const reply = (lang: Lang, text: string, priv = true): BotReply[] => [{ private: priv, message: { lang, text } }];

export async function runActionCommand(c: ActionChatContext, command: 'action' | 'failover' | 'fpga', words: string[]): Promise<BotReply[]> {
  const { deps, actions, actorId, lang, event } = c;
  const [sub, ...rest] = words;
  if (command === 'fpga') {
    // fpga switch <card> [--to software|fpga] [reason]: to the software path unless told otherwise.
    const toFlag = rest.findIndex((w) => w === '--to' || w === '到' || w === '-t');
    const toWord = toFlag >= 0 ? rest[toFlag + 1]?.toLowerCase() : undefined;
    const left = rest.filter((_, i) => toFlag < 0 || (i !== toFlag && i !== toFlag + 1));
    const [cardWord, ...reasonWords] = left;
    const card = cardWord !== undefined && /^\d{1,2}$/.test(cardWord) ? Number(cardWord) : undefined;
    const to = toWord === undefined || /^(software|soft|软件)$/.test(toWord) ? 'software' : /^(fpga|card|卡)$/.test(toWord) ? 'fpga' : undefined;
    if (card === undefined || !to) return [{ private: true, message: usage(lang) }];
    const reason = reasonWords.join(' ') || undefined;
    return requestFromChat(c, 'fpga_switch_path', { card, to, ...(reason ? { reason } : {}) }, reason);
  }
  if (command === 'failover') {
    if (isSub(sub, 'status') || sub === undefined) {
      const pool = rest.join(' ');
      const r = await deps.app.tools.invoke('failover_status', pool ? { pool } : {}, toolContext(deps.app, actorId));
      return [{ message: r.status === 'error' ? toolProblemView(r, lang) : toolResultView(r, lang, deps.app.config.WARROOM_TIMEZONE) }];
    }
    if (/^(switch|switchover|切换|切)$/i.test(sub)) {
      const toFlag = rest.findIndex((w) => w === '--to' || w === '到' || w === '-t');
      const to = toFlag >= 0 ? rest[toFlag + 1] : undefined;
      const left = rest.filter((_, i) => toFlag < 0 || (i !== toFlag && i !== toFlag + 1));
      const [pool, ...reasonWords] = left;
      if (!pool) return [{ private: true, message: usage(lang) }];
      const reason = reasonWords.join(' ') || undefined;
      return requestFromChat(c, 'failover_switch', { pool, ...(to ? { to } : {}), ...(reason ? { reason } : {}) }, reason);
    }
    return [{ private: true, message: usage(lang) }];
  }
  if (isSub(sub, 'list')) {
    const list = await actions.list({ limit: 15 });
    return [{ message: { lang, title: t(lang, '最近的操作申请', 'Recent action requests'), text: list.length ? '' : t(lang, '（无）', '(none)'), sections: list.length ? [{ lines: list.map((a) => `${a.id} · ${a.tool} · ${a.status} · ${a.plan.summary}`) }] : [] } }];
  }
  if (isSub(sub, 'status')) {
    const { action } = await actions.status(requireId(rest, lang), lang);
    return [{ message: await currentCard(deps, action, { buttons: event.platform !== 'cli' }) }];
  }
  if (isSub(sub, 'approve')) {
    const { action, complete } = await actions.approve(requireId(rest, lang), actorId, lang);
    return reply(lang, complete ? t(lang, `已批准 ${action.id}（${action.approvals.length}/${action.approvalsNeeded}），即将执行。`, `Approved ${action.id} (${action.approvals.length}/${action.approvalsNeeded}); it runs next.`) : t(lang, `已记录你对 ${action.id} 的批准（${action.approvals.length}/${action.approvalsNeeded}），还需 ${action.approvalsNeeded - action.approvals.length} 位其他审批人。`, `Your approval of ${action.id} is recorded (${action.approvals.length}/${action.approvalsNeeded}); it needs ${action.approvalsNeeded - action.approvals.length} more, from someone else.`));
  }
  if (isSub(sub, 'reject')) {
    const id = requireId(rest, lang);
    const note = rest.filter((w) => !ACTION_ID.test(w)).join(' ') || undefined;
    const action = await actions.reject(id, actorId, lang, note);
    return reply(lang, action.requestedBy === actorId ? t(lang, `已撤回 ${id}。`, `Withdrew ${id}.`) : t(lang, `已驳回 ${id}。`, `Rejected ${id}.`));
  }
  if (isSub(sub, 'cancel')) {
    const action = await actions.cancel(requireId(rest, lang), actorId, lang);
    return reply(lang, action.status === 'cancelled' ? t(lang, `已取消 ${action.id}，不会执行。`, `Cancelled ${action.id}; it will not run.`) : t(lang, `已请求取消 ${action.id}：将在下一步之前停止。`, `Cancel requested for ${action.id}: it stops before its next step.`));
  }
  return [{ private: true, message: usage(lang) }];
}

/** A write/high tool asked for in chat becomes a request; the card with its buttons goes to the room. */
async function requestFromChat(c: ActionChatContext, tool: string, input: Record<string, unknown>, reason: string | undefined): Promise<BotReply[]> {
  const { deps, actions, event, actorId, lang } = c;
  const here = event.room.kind !== 'dm' || event.platform !== 'cli' ? await incidentOfRoom(deps.app.db, event.platform, event.room.id) : undefined;
  const action = await actions.request({
    tool,
    input,
    requestedBy: actorId,
    room: { platform: event.platform, id: event.room.id },
    incidentId: here?.id,
    reason,
    lang,
  });
  const posted = (await actionMessages(deps.app.db, action.id)).length > 0;
  if (posted) return reply(lang, t(lang, `已提交操作申请 ${action.id}，需 ${action.approvalsNeeded} 位其他人审批；申请卡片已发到群里。`, `Requested ${action.id}; it needs ${action.approvalsNeeded} approval(s) from others. The request card is in the room.`));
  // The terminal, or a room the bot cannot post to: the card is the answer.
  return [{ message: await currentCard(deps, action, { buttons: event.platform !== 'cli' }) }];
}

/**
 * A press of Approve, Reject or Cancel. The button's value is only the request id; the press counts
 * only from a message that carries this request's buttons (its room's card, or a card sent directly
 * to the presser), so a forged payload naming another room's request is refused and audited.
 */
export async function runActionButton(c: ActionChatContext): Promise<BotReply[]> {
  const { deps, event, actorId, lang } = c;
  if (event.kind !== 'action') return [];
  const id = event.value.trim().toUpperCase();
  const action = ACTION_ID.test(id) ? await getAction(deps.app.db, id) : undefined;
  if (!action) return reply(lang, t(lang, `这个按钮指向的操作申请（${event.value.slice(0, 40)}）不存在。`, `That button names no action request (${event.value.slice(0, 40)}).`));
  const lang2 = action.lang;
  const carriers = await actionMessages(deps.app.db, id);
  if (!carriers.some((m) => m.platform === event.platform && m.roomId === event.room.id)) {
    await appendAudit(deps.app.db, { actor: actorId, action: `action.button:${action.tool}`, target: id, outcome: 'denied', detail: { reason: 'other-room', platform: event.platform, room: event.room.id } });
    return reply(lang2, t(lang2, `这个按钮不属于本群的操作申请（${id}），已拒绝。请在申请卡片所在的群里操作。`, `That button does not belong to a request of this room (${id}); refused. Use the card in the room where it was posted.`));
  }
  const sub = event.actionId === ACTION_BUTTONS.approve ? 'approve' : event.actionId === ACTION_BUTTONS.reject ? 'reject' : 'cancel';
  return runActionCommand({ ...c, lang: lang2 }, 'action', [sub, id]);
}
