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
}

/** What a typed call needs of a tool: its name and schemas (a definition is one). */
export type ToolRef<I extends z.ZodTypeAny = z.ZodTypeAny, O extends z.ZodTypeAny = z.ZodTypeAny> = Pick<ToolDefinition<I, O>, 'name' | 'input' | 'output'>;

export type ToolStatus = 'success' | 'no_data' | 'error' | 'approval_required';

export interface ToolResult<O = unknown> {
  tool: string;
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
