import { errorMessage } from '../core/errors.js';
import type { Db } from '../db/db.js';
import type { StepRunner, StepSpec } from '../tools/tool.js';
import { finishStep, getAction, setStepProgress, startStep, stepsOfAction, type StepRecord } from './action-store.js';

/** Thrown between steps when an approver cancelled the action. */
export class ActionCancelledError extends Error {
  constructor(readonly actionId: string) {
    super(`${actionId} was cancelled by an approver before its next step`);
    this.name = 'ActionCancelledError';
  }
}

/** Thrown when a step that is not idempotent was interrupted and cannot be shown not to have taken effect. */
export class InterruptedStepError extends Error {
  constructor(
    readonly step: StepSpec,
    /** Why its probe could not tell (the probe failed); absent when the step has no probe. */
    readonly probeError?: string,
  ) {
    super(
      `step "${step.title}" (${step.id}) was interrupted by a crash and is not safe to run again${probeError ? `, and its probe could not tell whether it took effect (${probeError})` : ''}; check its effect by hand before retrying the action`,
    );
    this.name = 'InterruptedStepError';
  }
}

export interface DbStepRunnerOptions {
  db: Db;
  actionId: string;
  clock: () => Date;
  /** Called when a step starts or ends, and (throttled) with its progress detail. */
  onChange: (steps: StepRecord[]) => Promise<void>;
  /** Retries of an idempotent step that throws (a non-idempotent step never retries). */
  idempotentRetries?: number;
  /** Least time between two progress updates of a step, in ms. */
  progressEveryMs?: number;
  signal?: AbortSignal;
}

/**
 * The step runner behind an approved action: each step is recorded as running before it starts and
 * done (with its JSON result) after; on a rerun of the job (a worker killed mid-way), a done step
 * returns its recorded result without running, a failed step throws its recorded error again (the tool
 * takes the same path as before), an interrupted idempotent step runs again, and an
 * interrupted non-idempotent step runs again only when its probe says it did not take effect.
 * Before each step it checks whether an approver cancelled the action.
 */
export function dbStepRunner(options: DbStepRunnerOptions): StepRunner {
  const { db, actionId, clock, onChange } = options;
  const retries = options.idempotentRetries ?? 2;
  const every = options.progressEveryMs ?? 1000;
  const changed = async () => onChange(await stepsOfAction(db, actionId));

  return async <T>(spec: StepSpec, fn: (progress: (detail: string) => void) => Promise<T>, stepOptions: { probe?: () => Promise<T | undefined> } = {}): Promise<T> => {
    const recorded = (await stepsOfAction(db, actionId)).find((s) => s.step === spec.id);
    if (recorded?.status === 'done') return recorded.result as T;
    // A step that failed before the job was rerun fails the same way again, so the tool takes the same
    // path as the first time (a failover that moved on from B to C does not try B again).
    if (recorded?.status === 'failed') throw new Error(recorded.error ?? `step ${spec.id} failed`);
    const action = await getAction(db, actionId);
    if (action?.cancelRequestedAt || options.signal?.aborted) throw new ActionCancelledError(actionId);

    if (recorded?.status === 'running' && !spec.idempotent) {
      // Interrupted half-way: did it happen? Only a probe can say; without one a human must check.
      if (!stepOptions.probe) {
        await finishStep(db, actionId, spec.id, { status: 'failed', at: clock(), error: 'interrupted; not idempotent and no probe' });
        await changed();
        throw new InterruptedStepError(spec);
      }
      let effect: T | undefined;
      try {
        effect = await stepOptions.probe();
      } catch (err) {
        // A probe that cannot answer is no probe: fail cleanly, naming the step, rather than leave it running.
        await finishStep(db, actionId, spec.id, { status: 'failed', at: clock(), error: `interrupted; its probe failed: ${errorMessage(err)}` });
        await changed();
        throw new InterruptedStepError(spec, errorMessage(err));
      }
      if (effect !== undefined) {
        await finishStep(db, actionId, spec.id, { status: 'done', at: clock(), result: effect });
        await changed();
        return effect;
      }
    }

    await startStep(db, actionId, { step: spec.id, title: spec.title, idempotent: spec.idempotent, at: clock() });
    await changed();
    let last = 0;
    let pending: Promise<void> = Promise.resolve();
    const progress = (detail: string) => {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      pending = pending.then(() => setStepProgress(db, actionId, spec.id, detail)).then(changed).catch(() => undefined);
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn(progress);
        await pending;
        await finishStep(db, actionId, spec.id, { status: 'done', at: clock(), result: result === undefined ? null : result });
        await changed();
        return result;
      } catch (err) {
        if (spec.idempotent && attempt < retries && !options.signal?.aborted) {
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
          continue;
        }
        await pending;
        // The worker is shutting down (its signal aborted, no approver's cancel): a step that stopped for
        // it did not fail. It stays recorded as running, i.e. interrupted, and the next worker treats it
        // as after a crash (an idempotent step runs again; any other only if its probe says so).
        if (options.signal?.aborted && !(await getAction(db, actionId))?.cancelRequestedAt) throw err;
        await finishStep(db, actionId, spec.id, { status: 'failed', at: clock(), error: errorMessage(err) });
        await changed();
        throw err;
      }
    }
  };
}
