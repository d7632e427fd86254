import { errorMessage } from '../core/errors.js';
import { appendAuditIn } from '../db/audit.js';
import { toolContext, type App } from '../tools/services.js';
import { FINAL_STATUSES, getAction, transition, type ActionRequest } from './action-store.js';
import type { ActionEvent, ActionNotifier } from './events.js';
import type { ActionJob, ActionJobResult, ActionProcessor } from './queue.js';
import { dbStepRunner } from './steps.js';

export interface ProcessorDeps {
  app: App;
  notifier: ActionNotifier;
  afterAudit?: (() => Promise<void>) | undefined;
  /** How often a running job looks for a cancel request between progress updates, in ms. */
  cancelPollMs?: number;
  /** How often a job whose action another worker is running looks again, in ms. */
  leaseWaitMs?: number;
}

/** The database lock held while an action runs: one run at a time, whatever the queue thinks. */
export const actionLease = (actionId: string) => `warroom:action:${actionId}`;

/**
 * The processor of approved actions, in BullMQ's shape: a plain async function over a job whose
 * data is `{actionId}`. It runs the tool through the registry (validation, audit, timing) with the
 * action id as its approval and a step runner that records each step, so a rerun after a crash
 * resumes at the recorded step. It ends the action as succeeded, failed (with the error) or
 * cancelled. An action already finished, rejected or cancelled is left alone: a job that arrives
 * twice runs once.
 *
 * It throws only when the database itself fails (BullMQ then retries the job later); a failing
 * tool is a failed action, not a failed job.
 */
export function createActionProcessor(deps: ProcessorDeps): ActionProcessor {
  const { app, notifier } = deps;
  const notify = async (action: ActionRequest, event: ActionEvent) => {
    try {
      await notifier.changed(action, event);
    } catch (err) {
      app.logger.error({ action: action.id, event: event.kind, err: errorMessage(err) }, 'action notification failed');
    }
  };
  const anchored = async () => {
    try {
      await deps.afterAudit?.();
    } catch (err) {
      app.logger.error({ err: errorMessage(err) }, 'anchoring the audit head failed');
    }
  };

  /**
   * One run of an action at a time, across workers and processes. BullMQ's lock is a lease in Redis:
   * a worker that loses it while still running (a long pause, Redis away for longer than the lock)
   * carries on, and the stalled check hands the job to another worker meanwhile; two runs side by
   * side would both find the non-idempotent step unfinished and apply it twice. So a run holds a
   * database lock for its action (a session lock: a worker that dies loses it with its connection);
   * a second job for the same action waits for it, then finds the action ended (or resumes it, if
   * the first worker died).
   */
  return async (job, token, signal): Promise<ActionJobResult> => {
    const actionId = job.data.actionId;
    let release = await app.db.tryLock(actionLease(actionId));
    let waited = false;
    while (!release) {
      const a = await getAction(app.db, actionId);
      if (!a) return { actionId, status: 'missing' };
      if (FINAL_STATUSES.includes(a.status)) return { actionId, status: a.status };
      if (signal?.aborted) throw new Error(`${actionId}: the worker stopped while another worker was running the action`);
      if (!waited) app.logger.warn({ action: actionId, job: job.id ?? null }, 'another worker is running this action (its queue lock lapsed); waiting for that run to end');
      waited = true;
      await new Promise((r) => setTimeout(r, deps.leaseWaitMs ?? 1000));
      release = await app.db.tryLock(actionLease(actionId));
    }
    try {
      return await runAction(job, token, signal);
    } finally {
      await release();
    }
  };

  async function runAction(job: ActionJob, _token: string | undefined, signal: AbortSignal | undefined): Promise<ActionJobResult> {
    const actionId = job.data.actionId;
    const before = await getAction(app.db, actionId);
    if (!before) return { actionId, status: 'missing' };
    if (FINAL_STATUSES.includes(before.status) || before.status === 'pending' || before.status === 'rejected') return { actionId, status: before.status };

    const now = app.clock();
    // A cancel that arrived before the job started: it never runs.
    if (before.cancelRequestedAt) {
      const cancelled = await finish(before, 'cancelled', { error: null });
      return { actionId, status: cancelled?.status ?? before.status };
    }
    const resumed = before.status === 'running';
    const running = await app.db.transaction(async (tx) => {
      const a = await transition(tx, actionId, ['approved', 'queued', 'running'], 'running', now, { ...(before.startedAt ? {} : { started_at: now }), attemptsPlusOne: true });
      if (a) await appendAuditIn(tx, app.db.kind, { actor: 'worker', action: `action.run:${a.tool}`, target: actionId, outcome: resumed ? 'resumed' : 'started', detail: { attempt: a.attempts, job: job.id ?? null } });
      return a;
    });
    if (!running) return { actionId, status: (await getAction(app.db, actionId))?.status ?? 'missing' };
    await notify(running, { kind: 'started', resumed });

    // Cancellation: the approver's cancel (seen between steps and by polling) or the worker shutting down.
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const poll = setInterval(() => {
      getAction(app.db, actionId)
        .then((a) => {
          if (a?.cancelRequestedAt) abort.abort();
        })
        .catch(() => undefined);
    }, deps.cancelPollMs ?? 1000);
    poll.unref();

    const steps = dbStepRunner({
      db: app.db,
      actionId,
      clock: app.clock,
      signal: abort.signal,
      onChange: async (records) => {
        const done = records.filter((r) => r.status === 'done').length;
        await job.updateProgress({ done, steps: records.length, current: records.find((r) => r.status === 'running')?.title ?? null }).catch(() => undefined);
        const current = await getAction(app.db, actionId);
        if (current) await notify(current, { kind: 'progress', steps: records });
      },
    });
    try {
      const ctx = toolContext(app, running.requestedBy, { approvedActionId: actionId, steps, signal: abort.signal, ...(running.incidentId ? { incidentId: running.incidentId } : {}) });
      const result = await app.tools.invoke(running.tool, running.input, ctx);
      const latest = await getAction(app.db, actionId);
      // The worker is shutting down (not an approver's cancel): leave the action running, to resume.
      if (signal?.aborted && !latest?.cancelRequestedAt) throw new Error(`${actionId}: the worker stopped during the action; it resumes at its recorded step`);
      const cancelled = latest?.cancelRequestedAt !== null && latest?.cancelRequestedAt !== undefined && result.status === 'error';
      const status = result.status === 'success' || result.status === 'no_data' ? 'succeeded' : cancelled ? 'cancelled' : 'failed';
      const ended = await finish(running, status, {
        result: result.data === undefined ? { summary: result.summary } : { summary: result.summary, data: result.data },
        error: status === 'failed' ? (result.error ?? result.summary) : null,
      });
      return { actionId, status: ended?.status ?? status };
    } finally {
      // A throw reaching here is not the tool's (the registry turns those, cancellation and interrupted
      // steps included, into an error result): it is the bookkeeping's, the database going away, and
      // the queue retries the job.
      clearInterval(poll);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function finish(action: ActionRequest, status: 'succeeded' | 'failed' | 'cancelled', out: { result?: unknown; error: string | null }): Promise<ActionRequest | undefined> {
    const at = app.clock();
    const ended = await app.db.transaction(async (tx) => {
      const a = await transition(tx, action.id, ['approved', 'queued', 'running'], status, at, { finished_at: at, error: out.error, ...(out.result !== undefined ? { result: out.result } : {}) });
      if (a) await appendAuditIn(tx, app.db.kind, { actor: 'worker', action: `action.run:${a.tool}`, target: a.id, outcome: status, detail: { ...(out.error ? { error: out.error } : {}), ...(out.result && typeof out.result === 'object' && 'summary' in out.result ? { summary: (out.result as { summary: string }).summary } : {}) } });
      return a;
    });
    if (ended) {
      await anchored();
      await notify(ended, status === 'cancelled' ? { kind: 'cancelled', by: null } : { kind: 'finished' });
    }
    return ended;
  }
}
