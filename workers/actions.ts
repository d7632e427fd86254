import { errorMessage, isWarroomError, WarroomError } from '../core/errors.js';
import { grantText } from '../core/policy-file.js';
import { t, type Lang } from '../core/lang.js';
import { appendAudit, appendAuditIn } from '../db/audit.js';
import type { Queryable } from '../db/db.js';
import { gatherPersonFacts } from '../tools/oncall/person-facts.js';
import { toolContext, type App } from '../tools/services.js';
import type { ActionPlan } from '../tools/tool.js';
import {
  addToOutbox,
  getAction,
  insertAction,
  listActions,
  nextActionId,
  outboxEntries,
  outboxFailed,
  removeFromOutbox,
  requestCancel,
  stepsOfAction,
  transition,
  type ActionRequest,
  type ActionRoom,
  type StepRecord,
} from './action-store.js';
import { approvalsNeededFor, decideApproval, decideRequest, type ApprovalDecision } from './approval-policy.js';
import type { ActionEvent, ActionNotifier } from './events.js';
import type { ActionQueue } from './queue.js';

/**
 * Action requests from request to queue: `request` stores a write/high tool call with its plan and
 * the approvals it needs; `approve`/`reject`/`cancel` are checked on the server against the stored
 * request and the policy (a button carries only the request id); the approval that completes a
 * request writes an outbox row in the same transaction, and the outbox is swept onto the queue,
 * so a crash or Redis away between approval and enqueue delays the job but never loses or doubles it.
 */
export interface ActionServiceDeps {
  app: App;
  notifier: ActionNotifier;
  /** Absent in a process that only records decisions (the sweeper of a process with a queue enqueues). */
  queue?: ActionQueue | undefined;
  /** Called after each decision is recorded (anchors the audit chain's head outside the database). */
  afterAudit?: (() => Promise<void>) | undefined;
}

export interface RequestSpec {
  tool: string;
  input: unknown;
  requestedBy: string;
  room?: ActionRoom | undefined;
  incidentId?: string | undefined;
  reason?: string | undefined;
  lang: Lang;
}

export interface ActionStatusView {
  action: ActionRequest;
  steps: StepRecord[];
}

const PENDING_OR_QUEUED = ['approved', 'queued'] as const;

export class ActionService {
  constructor(private readonly deps: ActionServiceDeps) {}

  private get app(): App {
    return this.deps.app;
  }

  private async notify(action: ActionRequest, event: ActionEvent): Promise<void> {
    try {
      await this.deps.notifier.changed(action, event);
    } catch (err) {
      this.app.logger.error({ action: action.id, event: event.kind, err: errorMessage(err) }, 'action notification failed');
    }
  }

  private async anchored(): Promise<void> {
    try {
      await this.deps.afterAudit?.();
    } catch (err) {
      this.app.logger.error({ err: errorMessage(err) }, 'anchoring the audit head failed');
    }
  }

  /** Store a write/high tool call as a pending request, after its input, the requester and the plan's pre-checks pass. */
  async request(spec: RequestSpec): Promise<ActionRequest> {
    const { app } = this;
    const lang = spec.lang;
    const tool = app.tools.get(spec.tool);
    if (!tool) throw new WarroomError('unknown_tool', t(lang, `没有名为 ${spec.tool} 的操作。`, `There is no action called ${spec.tool}.`), { hint: `Known: ${app.tools.list().filter((x) => x.risk !== 'read').map((x) => x.name).join(', ')}` });
    if (tool.risk === 'read') throw new WarroomError('not_an_action', t(lang, `${spec.tool} 是只读工具，直接运行即可，无需审批。`, `${spec.tool} only reads: it runs directly, without approval.`));
    const parsed = tool.input.safeParse(spec.input ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
      throw new WarroomError('invalid_input', t(lang, `${spec.tool} 的参数有误：${problems}`, `Invalid input for ${spec.tool}: ${problems}`));
    }
    const input = parsed.data as Record<string, unknown>;
    const now = app.clock();
    const ctx = toolContext(app, spec.requestedBy, spec.incidentId ? { incidentId: spec.incidentId } : {});
    const incidentSystem = spec.incidentId ? (await app.db.query<{ system: string }>('SELECT system FROM incidents WHERE id = $1', [spec.incidentId]))[0]?.system : undefined;

    const requester = await gatherPersonFacts(app.db, spec.requestedBy, { system: incidentSystem ?? null, incidentId: spec.incidentId ?? null, at: now });
    const mayRequest = decideRequest(app.policy.approvals, tool.name, requester);
    if (!mayRequest.allowed) {
      await appendAudit(app.db, { actor: spec.requestedBy, action: `action.request:${tool.name}`, outcome: 'denied', detail: { reason: mayRequest.reason, rule: mayRequest.rule, input } });
      throw new WarroomError(mayRequest.reason === 'unknown-person' ? 'unknown_person' : 'forbidden', refusalText(mayRequest, 'request', tool.name, spec.requestedBy, lang), { status: 403 });
    }

    let plan: ActionPlan;
    try {
      plan = tool.plan ? await tool.plan(input, ctx) : { summary: `${tool.name} ${JSON.stringify(input)}`, steps: [] };
    } catch (err) {
      // A pre-check that refuses (no healthy standby; heartbeat lost but primary healthy) is recorded, then said.
      await appendAudit(app.db, { actor: spec.requestedBy, action: `action.request:${tool.name}`, target: spec.incidentId, outcome: 'refused', detail: { input, error: isWarroomError(err) ? err.message : errorMessage(err) } });
      throw err;
    }
    const system = plan.system ?? incidentSystem;
    const needed = approvalsNeededFor(app.policy.approvals, { tool: tool.name, risk: tool.risk }, app.calendar.isTradingHours(now));
    const expiresAt = new Date(now.getTime() + app.policy.approvals.expire_after_minutes * 60_000);
    const id = await app.db.transaction(async (tx) => {
      const id = await nextActionId(tx, now, app.config.WARROOM_TIMEZONE);
      await insertAction(tx, {
        id,
        tool: tool.name,
        input,
        risk: tool.risk as 'write' | 'high',
        requestedBy: spec.requestedBy,
        incidentId: spec.incidentId,
        room: spec.room,
        system,
        reason: spec.reason,
        plan,
        lang,
        approvalsNeeded: needed.count,
        approvalsRule: needed.rule,
        createdAt: now,
        expiresAt,
      });
      await appendAuditIn(tx, app.db.kind, {
        actor: spec.requestedBy,
        action: `action.request:${tool.name}`,
        target: id,
        outcome: 'pending',
        detail: { input, risk: tool.risk, incident: spec.incidentId ?? null, reason: spec.reason ?? null, approvalsNeeded: needed.count, rule: needed.rule, plan: plan.summary, expiresAt: expiresAt.toISOString() },
      });
      return id;
    });
    await this.anchored();
    const action = (await getAction(app.db, id))!;
    await this.notify(action, { kind: 'requested' });
    return action;
  }

  /**
   * One approval. Refusals (the requester, an approver the policy does not list, the same approver
   * twice, an expired or decided request) throw a 403 that says why, and are audited. The approval
   * that completes the request moves it to approved and writes the outbox row in one transaction;
   * then the job is enqueued.
   */
  async approve(id: string, by: string, lang: Lang): Promise<{ action: ActionRequest; complete: boolean }> {
    const result = await this.decide(id, by, lang, 'approve');
    if (result.complete) await this.enqueueApproved(result.action.id);
    return { action: (await getAction(this.app.db, id)) ?? result.action, complete: result.complete };
  }

  /** Reject a pending request (an approver), or withdraw it (its requester). */
  async reject(id: string, by: string, lang: Lang, note?: string): Promise<ActionRequest> {
    return (await this.decide(id, by, lang, 'reject', note)).action;
  }

  private async decide(id: string, by: string, lang: Lang, decision: 'approve' | 'reject', note?: string): Promise<{ action: ActionRequest; complete: boolean }> {
    const { app } = this;
    const now = app.clock();
    type Outcome = { kind: 'refused'; decision: ApprovalDecision; action: ActionRequest } | { kind: 'done'; action: ActionRequest; complete: boolean; event: ActionEvent } | { kind: 'expired'; action: ActionRequest };
    const outcome = await app.db.transaction(async (tx): Promise<Outcome> => {
      const action = await getAction(tx, id, { forUpdate: true });
      if (!action) throw notFound(id, lang);
      const person = await gatherPersonFacts(tx, by, { system: action.system, incidentId: action.incidentId, at: now });
      const verdict = decideApproval(app.policy.approvals, { action, person, now, decision });
      if (!verdict.allowed) {
        if (verdict.reason === 'expired') {
          const expired = await transition(tx, id, ['pending'], 'expired', now, { decided_at: now });
          if (expired) {
            await appendAuditIn(tx, app.db.kind, { actor: 'warroom', action: `action.expire:${action.tool}`, target: id, outcome: 'expired', detail: { expiresAt: action.expiresAt.toISOString() } });
            return { kind: 'expired', action: expired };
          }
        }
        return { kind: 'refused', decision: verdict, action };
      }
      if (decision === 'reject') {
        const rejected = await transition(tx, id, ['pending'], 'rejected', now, { decided_at: now, decided_by: by, decision_note: note ?? null });
        if (!rejected) return { kind: 'refused', decision: { allowed: false, reason: 'not-pending', rule: verdict.rule, need: [] }, action };
        await appendAuditIn(tx, app.db.kind, { actor: by, action: `action.reject:${action.tool}`, target: id, outcome: by === action.requestedBy ? 'withdrawn' : 'rejected', detail: { note: note ?? null, rule: verdict.rule } });
        return { kind: 'done', action: rejected, complete: false, event: { kind: 'rejected', by } };
      }
      const approvals = [...action.approvals, { by, at: now.toISOString() }];
      const complete = approvals.length >= action.approvalsNeeded;
      const updated = await transition(tx, id, ['pending'], complete ? 'approved' : 'pending', now, { approvals, ...(complete ? { decided_at: now } : {}) });
      if (!updated) return { kind: 'refused', decision: { allowed: false, reason: 'not-pending', rule: verdict.rule, need: [] }, action };
      if (complete) await addToOutbox(tx, id);
      await appendAuditIn(tx, app.db.kind, {
        actor: by,
        action: `action.approve:${action.tool}`,
        target: id,
        outcome: complete ? 'approved' : 'approval-recorded',
        detail: { approvals: approvals.length, needed: action.approvalsNeeded, rule: verdict.rule },
      });
      return { kind: 'done', action: updated, complete, event: complete ? { kind: 'approved', by } : { kind: 'approval', by } };
    });
    if (outcome.kind === 'expired') {
      await this.anchored();
      await this.notify(outcome.action, { kind: 'expired' });
      throw new WarroomError('action_expired', t(lang, `${id} 已过期（${fmt(outcome.action.expiresAt)}），未执行。如仍需要，请重新申请。`, `${id} expired at ${fmt(outcome.action.expiresAt)} and did not run. Request it again if it is still needed.`), { status: 409 });
    }
    if (outcome.kind === 'refused') {
      await appendAudit(app.db, { actor: by, action: `action.${decision}:${outcome.action.tool}`, target: id, outcome: 'denied', detail: { reason: outcome.decision.reason, rule: outcome.decision.rule } });
      await this.anchored();
      throw new WarroomError(outcome.decision.reason === 'unknown-person' ? 'unknown_person' : 'forbidden', refusalText(outcome.decision, decision, outcome.action.tool, by, lang, outcome.action), { status: 403 });
    }
    await this.anchored();
    await this.notify(outcome.action, outcome.event);
    return { action: outcome.action, complete: outcome.complete };
  }

  /**
   * Cancel: a pending request (its requester or an approver), an approved one not yet started (it
   * will not run), or a running one (an approver: it stops before its next step, and its steps'
   * signal is aborted).
   */
  async cancel(id: string, by: string, lang: Lang): Promise<ActionRequest> {
    const { app } = this;
    const now = app.clock();
    const action = await getAction(app.db, id);
    if (!action) throw notFound(id, lang);
    const person = await gatherPersonFacts(app.db, by, { system: action.system, incidentId: action.incidentId, at: now });
    const asApprover = decideApproval(app.policy.approvals, { action: { ...action, status: 'pending', expiresAt: new Date(8.64e15), approvals: [] }, person, now, decision: 'approve' });
    const mayCancel = asApprover.allowed || (action.status === 'pending' && by === action.requestedBy && person.known);
    if (!mayCancel) {
      await appendAudit(app.db, { actor: by, action: `action.cancel:${action.tool}`, target: id, outcome: 'denied', detail: { reason: asApprover.reason, rule: asApprover.rule } });
      await this.anchored();
      throw new WarroomError('forbidden', refusalText(asApprover, 'cancel', action.tool, by, lang, action), { status: 403 });
    }
    const cancelled = await app.db.transaction(async (tx) => {
      const done = await transition(tx, id, ['pending', ...PENDING_OR_QUEUED], 'cancelled', now, { decided_by: by, finished_at: now, cancel_requested_at: now });
      if (done) {
        await tx.query('DELETE FROM action_outbox WHERE action_id = $1', [id]);
        await appendAuditIn(tx, app.db.kind, { actor: by, action: `action.cancel:${action.tool}`, target: id, outcome: 'cancelled', detail: { was: action.status } });
        return done;
      }
      return undefined;
    });
    if (cancelled) {
      await this.anchored();
      await this.notify(cancelled, { kind: 'cancelled', by });
      return cancelled;
    }
    if (action.status === 'running' && (await requestCancel(app.db, id, now))) {
      await appendAudit(app.db, { actor: by, action: `action.cancel:${action.tool}`, target: id, outcome: 'cancel-requested', detail: {} });
      await this.anchored();
      const after = (await getAction(app.db, id))!;
      await this.notify(after, { kind: 'cancel-requested', by });
      return after;
    }
    const now2 = (await getAction(app.db, id))!;
    throw new WarroomError('not_cancellable', t(lang, `${id} 当前状态为 ${now2.status}，无法取消。`, `${id} is ${now2.status}: there is nothing to cancel.`), { status: 409 });
  }

  async status(id: string, lang: Lang): Promise<ActionStatusView> {
    const action = await getAction(this.app.db, id);
    if (!action) throw notFound(id, lang);
    return { action, steps: await stepsOfAction(this.app.db, id) };
  }

  async list(filter: Parameters<typeof listActions>[1] = {}): Promise<ActionRequest[]> {
    return listActions(this.app.db, filter);
  }

  /** Pending requests past their expiry become expired (the timers call this). */
  async expireDue(): Promise<string[]> {
    const { app } = this;
    const now = app.clock();
    const due = await app.db.query<{ id: string }>("SELECT id FROM action_requests WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT 100", [now.toISOString()]);
    const expired: string[] = [];
    for (const { id } of due) {
      const action = await app.db.transaction(async (tx) => {
        const a = await transition(tx, id, ['pending'], 'expired', now, { decided_at: now });
        if (a) await appendAuditIn(tx, app.db.kind, { actor: 'warroom', action: `action.expire:${a.tool}`, target: id, outcome: 'expired', detail: { expiresAt: a.expiresAt.toISOString() } });
        return a;
      });
      if (action) {
        expired.push(id);
        await this.notify(action, { kind: 'expired' });
      }
    }
    if (expired.length) await this.anchored();
    return expired;
  }

  /** Enqueue one approved action now (its outbox row stays until the queue has it). */
  async enqueueApproved(id: string): Promise<boolean> {
    const { app } = this;
    const queue = this.deps.queue;
    if (!queue) return false;
    try {
      await queue.enqueue(id);
    } catch (err) {
      await outboxFailed(app.db, id, errorMessage(err)).catch(() => undefined);
      app.logger.warn({ action: id, err: errorMessage(err) }, 'enqueue failed; the outbox sweeper will retry');
      return false;
    }
    await removeFromOutbox(app.db, id);
    const queued = await transition(app.db, id, ['approved'], 'queued', app.clock());
    if (queued) await this.notify(queued, { kind: 'queued' });
    return true;
  }

  /** Enqueue every approved action still in the outbox (after a crash, or while Redis was away). */
  async sweepOutbox(): Promise<string[]> {
    if (!this.deps.queue) return [];
    const done: string[] = [];
    for (const entry of await outboxEntries(this.app.db)) {
      if (await this.enqueueApproved(entry.actionId)) done.push(entry.actionId);
    }
    return done;
  }
}

export function notFound(id: string, lang: Lang): WarroomError {
  return new WarroomError('action_not_found', t(lang, `没有操作申请 ${id}。`, `There is no action request ${id}.`), { status: 404, hint: t(lang, '操作申请编号形如 ACT-20261123-001。', 'Action request ids look like ACT-20261123-001.') });
}

const fmt = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** Why a request, approval or cancel was refused, in the asker's language. */
export function refusalText(d: ApprovalDecision, what: 'request' | 'approve' | 'reject' | 'cancel', tool: string, who: string, lang: Lang, action?: Pick<ActionRequest, 'id' | 'status' | 'requestedBy'>): string {
  const verb = { request: t(lang, '申请', 'request'), approve: t(lang, '审批', 'approve'), reject: t(lang, '驳回', 'reject'), cancel: t(lang, '取消', 'cancel') }[what];
  const target = action ? action.id : tool;
  switch (d.reason) {
    case 'unknown-person':
      return t(lang, `你（${who}）不在 Warroom 的人员名单中，不能${verb} ${target}。请管理员用 \`warroom import\` 把你加入 people。`, `You (${who}) are not known to Warroom, so you cannot ${verb} ${target}. Ask an admin to add you to people (\`warroom import\`).`);
    case 'own-request':
      return t(lang, `${target} 是你申请的：申请人不能审批自己的申请，需要其他人审批。`, `You requested ${target}: the requester never approves their own request; someone else must.`);
    case 'already-approved':
      return t(lang, `你已经审批过 ${target}，同一人只计一次，还需要其他审批人。`, `You have already approved ${target}; each approver counts once, so it needs someone else.`);
    case 'expired':
      return t(lang, `${target} 已过期，未执行。如仍需要，请重新申请。`, `${target} has expired and did not run. Request it again if it is still needed.`);
    case 'not-pending':
      return t(lang, `${target} 当前状态为 ${action?.status ?? '?'}，不再接受审批。`, `${target} is ${action?.status ?? '?'}: it no longer takes decisions.`);
    case 'not-permitted':
    case 'allowed': {
      const who2 = d.need.map(grantText).join(', ');
      return who2
        ? t(lang, `你不能${verb} ${target}：按策略 ${d.rule}，只有 ${who2} 可以。`, `You cannot ${verb} ${target}: under ${d.rule} only ${who2} may.`)
        : t(lang, `按策略 ${d.rule}，没有人可以${verb} ${target}。`, `Under ${d.rule} nobody may ${verb} ${target}.`);
    }
  }
}

/** Used by the processor to record its own transitions in the audit log in the same transaction. */
export async function auditIn(tx: Queryable, app: App, entry: Parameters<typeof appendAuditIn>[2]): Promise<void> {
  await appendAuditIn(tx, app.db.kind, entry);
}
