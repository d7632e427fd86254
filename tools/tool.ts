import type { z } from 'zod';
import type { TradingCalendar } from '../core/calendar.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../db/db.js';
import type { Embedder } from '../knowledge/embedder.js';

/**
 * `read` tools run at once for anyone allowed in the room; `write` and `high` never run directly:
 * they become an action request that needs one (write) or two (high) approvers.
 */
export type RiskClass = 'read' | 'write' | 'high';

/** What a tool may use. Built once per call by the registry's caller. */
export interface ToolContext {
  db: Db;
  calendar: TradingCalendar;
  logger: Logger;
  embedder: Embedder;
  /** Who asked: a person id when known, otherwise `platform:user`. */
  actor: string;
  /** The moment the question is about; tests and replays pin it. */
  now: Date;
  timeZone: string;
  incidentId?: string;
  /** Set by the approval flow when a write/high tool has been approved. */
  approvedActionId?: string;
  /**
   * How a write/high tool runs its steps. Set by the worker (workers/steps.ts): each step is recorded
   * before and after it runs, so a job that dies mid-way resumes at its recorded step; progress shows
   * in the room; a cancelled action stops before its next step. Absent (tests, direct calls), steps
   * simply run in order: use `stepsOf(ctx)`.
   */
  steps?: StepRunner;
  /** Aborted when an approver cancels the action or the worker shuts down: long steps should stop. */
  signal?: AbortSignal;
}

/** One step of a write/high tool, as the plan preview and the progress message show it. */
export interface StepSpec {
  /** Stable id within the tool (`release-vip`), used to find the recorded step on resume. */
  id: string;
  /** What people read: "Release the VIP on fs-zd-01 and stop the service". */
  title: string;
  /**
   * True when running it again after a crash does no harm (a check, a read, a collection).
   * A step that is not idempotent and was interrupted is run again only if its `probe` says it did
   * not take effect; without a probe the job fails cleanly, naming the step, for a human to check.
   */
  idempotent: boolean;
}

export interface StepOptions<T> {
  /**
   * For a non-idempotent step interrupted by a crash: did it take effect? Returns its result when it
   * did (the step is then recorded as done without running again), undefined when it did not.
   */
  probe?: () => Promise<T | undefined>;
}

/**
 * Runs one step of an approved action. `fn` receives a `progress` callback for long steps
 * ("37 of 120 hosts") that updates the room's progress message (throttled by the runner).
 * The result must be JSON-serialisable: it is recorded, and returned as is on resume.
 */
export type StepRunner = <T>(spec: StepSpec, fn: (progress: (detail: string) => void) => Promise<T>, options?: StepOptions<T>) => Promise<T>;

/** The step runner of this call: the worker's, or one that just runs each step (direct calls, tests). */
export function stepsOf(ctx: ToolContext): StepRunner {
  return ctx.steps ?? (async (_spec, fn) => fn(() => undefined));
}

/** What a write/high tool will do, shown with the Approve/Reject buttons before anyone approves. */
export interface ActionPlan {
  /** The steps in order (a failover lists its first target's steps; the fallbacks are in `notes`). */
  steps: Array<Pick<StepSpec, 'id' | 'title'>>;
  /** The system the action touches (decides who is on call to approve it), when known. */
  system?: string;
  /** One line: "Switch 中登报盘 primary fs-zd-01 → fs-zd-02". */
  summary: string;
  /** Caveats and facts from the pre-checks ("standby fs-zd-03 unhealthy: skipped"). */
  notes?: string[];
}

export interface ToolOutput<O> {
  data: O;
  /** One or two lines for people; the renderer decides how the data looks. */
  summary: string;
  /** `no_data` when the tool ran fine but found nothing. */
  status?: 'success' | 'no_data';
}

export interface ToolDefinition<I extends z.ZodTypeAny = z.ZodTypeAny, O extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  description: string;
  input: I;
  output: O;
  risk: RiskClass;
  run(input: z.output<I>, ctx: ToolContext): Promise<ToolOutput<z.output<O>>>;
  /**
   * write/high tools: the plan preview and the pre-checks, run when the action is requested (and again
   * by the worker before it starts). Throw a WarroomError to refuse the request with a reason
   * (e.g. "heartbeat lost but the primary is healthy: not switching; page a human").
   */
  plan?(input: z.output<I>, ctx: ToolContext): Promise<ActionPlan>;
}

/** What a typed call needs of a tool: its name and schemas (a definition is one). */
export type ToolRef<I extends z.ZodTypeAny = z.ZodTypeAny, O extends z.ZodTypeAny = z.ZodTypeAny> = Pick<ToolDefinition<I, O>, 'name' | 'input' | 'output'>;

export type ToolStatus = 'success' | 'no_data' | 'error' | 'approval_required';

export interface ToolResult<O = unknown> {
  tool: string;
  /** The input the tool ran with (after validation), or the raw input it refused. */
  input?: unknown;
  status: ToolStatus;
  data?: O;
  summary: string;
  error?: string;
  durationMs: number;
  /** The audit log refused this call's row: the answer stands, but the call was not recorded (views say so). */
  notRecorded?: boolean;
}

/** Declare a tool with its types inferred from the schemas. */
export function defineTool<I extends z.ZodTypeAny, O extends z.ZodTypeAny>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}
