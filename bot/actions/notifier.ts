import { errorMessage } from '../../core/errors.js';
import { gatherPersonFacts } from '../../tools/oncall/person-facts.js';
import { actionMessages, recordActionMessage, stepsOfAction, type ActionRequest } from '../../workers/action-store.js';
import { decideApproval } from '../../workers/approval-policy.js';
import type { ActionEvent, ActionNotifier } from '../../workers/events.js';
import type { IncidentDeps } from '../incidents/deps.js';
import { addTimeline, getIncident } from '../incidents/store.js';
import { t, type Lang, type OutgoingMessage, type Platform } from '../messages.js';
import type { ChatPlatform, RoomRef } from '../platforms/platform.js';
import { actionCard, actionStatusLabel, actionTimelineText, resultSummary } from '../views/action-views.js';

/** Most people a request card is sent to directly where room messages carry no buttons (WeCom groups). */
const MAX_DIRECT = 5;

/** Names of people by id, for cards. */
async function namesOf(deps: IncidentDeps, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await deps.app.db.query<{ id: string; name: string }>('SELECT id, name FROM people WHERE id = ANY($1)', [ids]);
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * People who may approve this request now (not the requester, not those who already did): the
 * on-call people of its system, the incident's role holders and people whose roles the policy
 * names, each judged by the same decision the server makes when they press Approve.
 */
export async function eligibleApprovers(deps: IncidentDeps, a: ActionRequest): Promise<Array<{ id: string; name: string; slack: string | null; wecom: string | null }>> {
  const { app } = deps;
  const now = app.clock();
  const roleGrants = Object.values(app.policy.approvals.approve)
    .flat()
    .filter((g) => g.kind === 'role')
    .map((g) => (g as { role: string }).role);
  const candidates = await app.db.query<{ id: string; name: string; slack: string | null; wecom: string | null }>(
    `SELECT DISTINCT p.id, p.name, p.slack, p.wecom FROM people p
      WHERE p.id IN (SELECT person FROM oncall o WHERE (o.system = $1 OR o.system = ANY(COALESCE((SELECT depends_on FROM systems WHERE id = $1), '{}')))
                       AND (o.starts_at IS NULL OR o.starts_at <= $3) AND (o.ends_at IS NULL OR o.ends_at > $3))
         OR p.id IN (SELECT person FROM incident_roles WHERE incident_id = $2)
         OR p.roles && $4::text[]
      ORDER BY p.id LIMIT 200`,
    [a.system ?? '', a.incidentId ?? '', now, roleGrants],
  );
  const out: typeof candidates = [];
  for (const c of candidates) {
    const person = await gatherPersonFacts(app.db, c.id, { system: a.system, incidentId: a.incidentId, at: now });
    if (decideApproval(app.policy.approvals, { action: a, person, now, decision: 'approve' }).allowed) out.push(c);
  }
  return out;
}

/** The card as it stands now, for one platform (buttons where that platform's messages carry them). */
export async function currentCard(deps: IncidentDeps, a: ActionRequest, options: { buttons?: boolean; auditHead?: string } = {}): Promise<OutgoingMessage> {
  const steps = await stepsOfAction(deps.app.db, a.id);
  const approvers = a.status === 'pending' ? await eligibleApprovers(deps, a) : [];
  const names = await namesOf(deps, [a.requestedBy, ...a.approvals.map((x) => x.by), ...(a.decidedBy ? [a.decidedBy] : [])]);
  return actionCard(a, a.lang, {
    steps,
    names,
    canApprove: approvers.map((p) => `${p.name} (${p.id})`).slice(0, 8),
    now: deps.app.clock(),
    timeZone: deps.app.config.WARROOM_TIMEZONE,
    ...(options.buttons === false ? { buttons: false } : {}),
    ...(options.auditHead ? { auditHead: options.auditHead } : {}),
  });
}

function timelineWords(a: ActionRequest, e: ActionEvent, lang: Lang, names: Map<string, string>): string | undefined {
  const who = (id: string | null) => (id ? (names.get(id) ? `${names.get(id)} (${id})` : id) : 'warroom');
  switch (e.kind) {
    case 'requested':
      return t(lang, `${who(a.requestedBy)} 申请，需 ${a.approvalsNeeded} 人审批`, `requested by ${who(a.requestedBy)}; needs ${a.approvalsNeeded} approval(s)`);
    case 'approval':
      return t(lang, `${who(e.by)} 批准（${a.approvals.length}/${a.approvalsNeeded}）`, `approved by ${who(e.by)} (${a.approvals.length}/${a.approvalsNeeded})`);
    case 'approved':
      return t(lang, `${who(e.by)} 批准（${a.approvals.length}/${a.approvalsNeeded}），进入执行队列`, `approved by ${who(e.by)} (${a.approvals.length}/${a.approvalsNeeded}); on its way to a worker`);
    case 'rejected':
      return t(lang, `${who(e.by)} 驳回${a.decisionNote ? `：${a.decisionNote}` : ''}`, `rejected by ${who(e.by)}${a.decisionNote ? `: ${a.decisionNote}` : ''}`);
    case 'expired':
      return t(lang, '过期未审批，未执行', 'expired without approval; did not run');
    case 'cancel-requested':
      return t(lang, `${who(e.by)} 请求取消`, `cancel requested by ${who(e.by)}`);
    case 'cancelled':
      return t(lang, `已取消${e.by ? `（${who(e.by)}）` : ''}`, `cancelled${e.by ? ` by ${who(e.by)}` : ''}`);
    case 'started':
      return e.resumed ? t(lang, '执行中断后恢复，从已记录的步骤继续', 'resumed after an interruption, from its recorded step') : t(lang, '开始执行', 'started');
    case 'finished':
      return `${actionStatusLabel(a.status, lang)}${resultSummary(a) ? ` — ${resultSummary(a)}` : ''}${a.error && a.status === 'failed' ? ` — ${a.error.slice(0, 300)}` : ''}`;
    case 'queued':
    case 'progress':
      return undefined;
  }
}

/**
 * What the room sees of an action: the request card posted where it was asked (and in its
 * incident's room), sent directly to the people who may approve it where room messages carry no
 * buttons, updated in place after every decision and step; and a timeline entry for every decision
 * and result of an incident's action.
 */
export function createActionNotifier(deps: IncidentDeps, options: { auditHead?: () => Promise<string | undefined> } = {}): ActionNotifier {
  const { app } = deps;
  const platformOf = (name: string): ChatPlatform | undefined => deps.platforms.get(name as Platform);

  async function post(a: ActionRequest): Promise<void> {
    const incident = a.incidentId ? await getIncident(app.db, a.incidentId) : undefined;
    const rooms: RoomRef[] = [];
    if (a.room && a.room.platform !== 'cli') rooms.push({ platform: a.room.platform as Platform, id: a.room.id });
    if (incident?.room && !rooms.some((r) => r.platform === incident.room!.platform && r.id === incident.room!.id)) rooms.push({ platform: incident.room.platform, id: incident.room.id });
    let first = true;
    for (const room of rooms) {
      const platform = platformOf(room.platform);
      if (!platform) continue;
      const card = await currentCard(deps, a);
      const ref = await platform.post(room, card);
      await recordActionMessage(app.db, a.id, { platform: ref.platform, roomId: ref.roomId, id: ref.id }, first ? 'card' : 'direct');
      first = false;
      // Where room messages carry no buttons, the people who may approve get the card with its buttons directly.
      if (platform.roomButtons === false) {
        for (const person of (await eligibleApprovers(deps, a)).slice(0, MAX_DIRECT)) {
          const userId = platform.userIdOf(person);
          if (!userId) continue;
          try {
            const dm = await platform.sendDirect(userId, card);
            await recordActionMessage(app.db, a.id, { platform: dm.platform, roomId: dm.roomId, id: dm.id }, 'direct');
          } catch (err) {
            app.logger.warn({ action: a.id, person: person.id, err: errorMessage(err) }, 'sending the request card directly failed');
          }
        }
      }
    }
  }

  async function update(a: ActionRequest): Promise<void> {
    const head = options.auditHead ? await options.auditHead().catch(() => undefined) : undefined;
    const card = await currentCard(deps, a, head ? { auditHead: head } : {});
    for (const ref of await actionMessages(app.db, a.id)) {
      const platform = platformOf(ref.platform);
      if (!platform) continue;
      try {
        await platform.update({ platform: ref.platform as Platform, roomId: ref.roomId, id: ref.id }, card);
      } catch (err) {
        app.logger.warn({ action: a.id, platform: ref.platform, err: errorMessage(err) }, 'updating the request card failed');
      }
    }
  }

  return {
    async changed(a, event) {
      if (a.incidentId && event.kind !== 'progress' && event.kind !== 'queued') {
        const names = await namesOf(deps, [a.requestedBy, ...a.approvals.map((x) => x.by), ...('by' in event && event.by ? [event.by] : [])]);
        const text = timelineWords(a, event, a.lang, names);
        if (text) {
          const actor = 'by' in event ? event.by : event.kind === 'requested' ? a.requestedBy : null;
          await addTimeline(app.db, a.incidentId, { at: app.clock(), actor: actor ?? 'warroom', kind: 'action', text: actionTimelineText(a, text, a.lang), data: { action: a.id, event: event.kind, status: a.status } });
        }
      }
      if (event.kind === 'requested') await post(a);
      else await update(a);
    },
  };
}
