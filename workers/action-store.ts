import { nextDailyId } from '../db/daily-ids.js';
import type { Queryable } from '../db/db.js';
import type { ActionPlan } from '../tools/tool.js';

/**
 * Action requests as stored: the one record of a write or high-risk tool call, from request through
 * approvals to the job's end. Every state change is a conditional UPDATE (`WHERE status = …`), so
 * two people pressing at the same moment, or two workers picking up the same job, change it once.
 */
export const ACTION_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
/** No further decision or step changes these. */
export const FINAL_STATUSES: readonly ActionStatus[] = ['rejected', 'expired', 'succeeded', 'failed', 'cancelled'];

/** Where the request was made and its card posted (a chat platform's own ids; `cli` has no room). */
export interface ActionRoom {
  platform: string;
  id: string;
}

/** The request card as posted, so it can be updated with decisions and progress. */
export interface ActionMessageRef {
  platform: string;
  roomId: string;
  id: string;
}

export interface Approval {
  by: string;
  at: string;
}

export interface ActionRequest {
  id: string;
  tool: string;
  input: Record<string, unknown>;
  risk: 'write' | 'high';
  requestedBy: string;
  incidentId: string | null;
  room: ActionRoom | null;
  system: string | null;
  reason: string | null;
  plan: ActionPlan;
  lang: 'zh' | 'en';
  status: ActionStatus;
  approvals: Approval[];
  approvalsNeeded: number;
  approvalsRule: string | null;
  message: ActionMessageRef | null;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionNote: string | null;
  cancelRequestedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  attempts: number;
  result: unknown;
  error: string | null;
}

type ActionRow = {
  id: string;
  tool: string;
  input: Record<string, unknown>;
  risk: 'write' | 'high';
  requested_by: string;
  incident_id: string | null;
  room: ActionRoom | null;
  system: string | null;
  reason: string | null;
  plan: ActionPlan;
  lang: string;
  status: ActionStatus;
  approvals: Approval[];
  approvals_needed: number;
  approvals_rule: string | null;
  message: ActionMessageRef | null;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  cancel_requested_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  attempts: number;
  result: unknown;
  error: string | null;
};

const date = (d: Date | string | null): Date | null => (d === null ? null : new Date(d));

function fromRow(r: ActionRow): ActionRequest {
  return {
    id: r.id,
    tool: r.tool,
    input: r.input,
    risk: r.risk,
    requestedBy: r.requested_by,
    incidentId: r.incident_id,
    room: r.room,
    system: r.system,
    reason: r.reason,
    plan: r.plan,
    lang: r.lang === 'en' ? 'en' : 'zh',
    status: r.status,
    approvals: r.approvals ?? [],
    approvalsNeeded: r.approvals_needed,
    approvalsRule: r.approvals_rule,
    message: r.message,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    decidedAt: date(r.decided_at),
    decidedBy: r.decided_by,
    decisionNote: r.decision_note,
    cancelRequestedAt: date(r.cancel_requested_at),
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
    attempts: r.attempts,
    result: r.result,
    error: r.error,
  };
}

const COLUMNS =
  'id, tool, input, risk, requested_by, incident_id, room, system, reason, plan, lang, status, approvals, approvals_needed, approvals_rule, message, created_at, expires_at, decided_at, decided_by, decision_note, cancel_requested_at, started_at, finished_at, attempts, result, error';

/** The next id of the day, ACT-YYYYMMDD-NNN (the day in the exchange's time zone), taken atomically. */
export async function nextActionId(db: Queryable, at: Date, timeZone: string): Promise<string> {
  return nextDailyId(db, 'ACT', at, timeZone);
}

export interface NewAction {
  id: string;
  tool: string;
  input: Record<string, unknown>;
  risk: 'write' | 'high';
  requestedBy: string;
  incidentId: string | undefined;
  room: ActionRoom | undefined;
  system: string | undefined;
  reason: string | undefined;
  plan: ActionPlan;
  lang: 'zh' | 'en';
  approvalsNeeded: number;
  approvalsRule: string;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertAction(db: Queryable, a: NewAction): Promise<void> {
  await db.query(
    `INSERT INTO action_requests (id, tool, input, risk, requested_by, incident_id, room, system, reason, plan, lang, status, approvals, approvals_needed, approvals_rule, created_at, expires_at, updated_at)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb, $11, 'pending', '[]'::jsonb, $12, $13, $14, $15, $14)`,
    [
      a.id,
      a.tool,
      JSON.stringify(a.input),
      a.risk,
      a.requestedBy,
      a.incidentId ?? null,
      a.room ? JSON.stringify(a.room) : null,
      a.system ?? null,
      a.reason ?? null,
      JSON.stringify(a.plan),
      a.lang,
      a.approvalsNeeded,
      a.approvalsRule,
      a.createdAt.toISOString(),
      a.expiresAt.toISOString(),
    ],
  );
}

export async function getAction(db: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<ActionRequest | undefined> {
  const rows = await db.query<ActionRow>(`SELECT ${COLUMNS} FROM action_requests WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listActions(db: Queryable, filter: { incidentId?: string; statuses?: readonly ActionStatus[]; limit?: number } = {}): Promise<ActionRequest[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.incidentId) where.push(`incident_id = $${params.push(filter.incidentId)}`);
  if (filter.statuses) where.push(`status = ANY($${params.push([...filter.statuses])}::text[])`);
  const rows = await db.query<ActionRow>(
    `SELECT ${COLUMNS} FROM action_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.push(filter.limit ?? 50)}`,
    params,
  );
  return rows.map(fromRow);
}

/**
 * Move an action from one of `from` to `to`, with the given column changes, only if it is still
 * in one of `from`: the returned row says this caller made the change; undefined, someone else did.
 */
export async function transition(
  db: Queryable,
  id: string,
  from: readonly ActionStatus[],
  to: ActionStatus,
  at: Date,
  set: Partial<Record<'decided_at' | 'decided_by' | 'decision_note' | 'started_at' | 'finished_at' | 'result' | 'error' | 'approvals' | 'message' | 'cancel_requested_at', unknown>> & { attemptsPlusOne?: boolean } = {},
): Promise<ActionRequest | undefined> {
  const params: unknown[] = [id, [...from], to, at.toISOString()];
  const sets = ['status = $3', 'updated_at = $4'];
  const { attemptsPlusOne, ...columns } = set;
  for (const [column, value] of Object.entries(columns)) {
    const json = column === 'result' || column === 'approvals' || column === 'message';
    const value2 = value instanceof Date ? value.toISOString() : json ? JSON.stringify(value ?? null) : value;
    sets.push(`${column} = $${params.push(value2)}${json ? '::jsonb' : ''}`);
  }
  if (attemptsPlusOne) sets.push('attempts = attempts + 1');
  const rows = await db.query<ActionRow>(`UPDATE action_requests SET ${sets.join(', ')} WHERE id = $1 AND status = ANY($2::text[]) RETURNING ${COLUMNS}`, params);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Record where the request card was posted (set once: the first post wins). */
export async function setActionMessage(db: Queryable, id: string, ref: ActionMessageRef): Promise<void> {
  await db.query('UPDATE action_requests SET message = $2::jsonb WHERE id = $1 AND message IS NULL', [id, JSON.stringify(ref)]);
}

/** Ask a queued or running action to stop before its next step; false when it is past that. */
export async function requestCancel(db: Queryable, id: string, at: Date): Promise<boolean> {
  const rows = await db.query(
    "UPDATE action_requests SET cancel_requested_at = $2, updated_at = $2 WHERE id = $1 AND status IN ('approved', 'queued', 'running') AND cancel_requested_at IS NULL RETURNING id",
    [id, at.toISOString()],
  );
  return rows.length > 0;
}

// ——— steps ———

export type StepStatus = 'running' | 'done' | 'failed';

export interface StepRecord {
  step: string;
  seq: number;
  title: string;
  idempotent: boolean;
  status: StepStatus;
  startedAt: Date;
  finishedAt: Date | null;
  result: unknown;
  error: string | null;
  progress: string | null;
}

type StepRow = { step: string; seq: number; title: string; idempotent: boolean; status: StepStatus; started_at: Date; finished_at: Date | null; result: unknown; error: string | null; progress: string | null };

export async function stepsOfAction(db: Queryable, actionId: string): Promise<StepRecord[]> {
  const rows = await db.query<StepRow>('SELECT step, seq, title, idempotent, status, started_at, finished_at, result, error, progress FROM action_steps WHERE action_id = $1 ORDER BY seq', [actionId]);
  return rows.map((r) => ({
    step: r.step,
    seq: r.seq,
    title: r.title,
    idempotent: r.idempotent,
    status: r.status,
    startedAt: new Date(r.started_at),
    finishedAt: date(r.finished_at),
    result: r.result,
    error: r.error,
    progress: r.progress,
  }));
}

export async function startStep(db: Queryable, actionId: string, s: { step: string; title: string; idempotent: boolean; at: Date }): Promise<void> {
  await db.query(
    `INSERT INTO action_steps (action_id, step, seq, title, idempotent, status, started_at)
     VALUES ($1, $2, (SELECT COALESCE(max(seq), 0) + 1 FROM action_steps WHERE action_id = $1), $3, $4, 'running', $5)
     ON CONFLICT (action_id, step) DO UPDATE SET status = 'running', started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL, progress = NULL`,
    [actionId, s.step, s.title, s.idempotent, s.at.toISOString()],
  );
}

export async function finishStep(db: Queryable, actionId: string, step: string, outcome: { status: 'done' | 'failed'; at: Date; result?: unknown; error?: string }): Promise<void> {
  await db.query('UPDATE action_steps SET status = $3, finished_at = $4, result = $5::jsonb, error = $6 WHERE action_id = $1 AND step = $2', [
    actionId,
    step,
    outcome.status,
    outcome.at.toISOString(),
    outcome.result === undefined ? null : JSON.stringify(outcome.result),
    outcome.error ?? null,
  ]);
}

export async function setStepProgress(db: Queryable, actionId: string, step: string, progress: string): Promise<void> {
  await db.query('UPDATE action_steps SET progress = $3 WHERE action_id = $1 AND step = $2', [actionId, step, progress.slice(0, 500)]);
}

// ——— outbox ———

export async function addToOutbox(db: Queryable, actionId: string): Promise<void> {
  await db.query('INSERT INTO action_outbox (action_id) VALUES ($1) ON CONFLICT (action_id) DO NOTHING', [actionId]);
}

export async function outboxEntries(db: Queryable, limit = 100): Promise<Array<{ actionId: string; attempts: number }>> {
  const rows = await db.query<{ action_id: string; attempts: number }>('SELECT action_id, attempts FROM action_outbox ORDER BY created_at LIMIT $1', [limit]);
  return rows.map((r) => ({ actionId: r.action_id, attempts: r.attempts }));
}

export async function removeFromOutbox(db: Queryable, actionId: string): Promise<void> {
  await db.query('DELETE FROM action_outbox WHERE action_id = $1', [actionId]);
}

export async function outboxFailed(db: Queryable, actionId: string, error: string): Promise<void> {
  await db.query('UPDATE action_outbox SET attempts = attempts + 1, last_error = $2 WHERE action_id = $1', [actionId, error.slice(0, 500)]);
}

// ——— messages carrying the request's buttons ———

export async function recordActionMessage(db: Queryable, actionId: string, ref: ActionMessageRef, kind: 'card' | 'direct'): Promise<void> {
  await db.query('INSERT INTO action_messages (action_id, platform, room_id, message_id, kind) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [actionId, ref.platform, ref.roomId, ref.id, kind]);
  if (kind === 'card') await setActionMessage(db, actionId, ref);
}

export async function actionMessages(db: Queryable, actionId: string): Promise<Array<ActionMessageRef & { kind: 'card' | 'direct' }>> {
  const rows = await db.query<{ platform: string; room_id: string; message_id: string; kind: 'card' | 'direct' }>('SELECT platform, room_id, message_id, kind FROM action_messages WHERE action_id = $1', [actionId]);
  return rows.map((r) => ({ platform: r.platform, roomId: r.room_id, id: r.message_id, kind: r.kind }));
}
