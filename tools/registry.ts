import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { errorMessage, isWarroomError } from '../core/errors.js';
import { toolCalls, toolDuration } from '../core/metrics.js';
import { appendAudit } from '../db/audit.js';
import type { ToolContext, ToolDefinition, ToolRef, ToolResult } from './tool.js';

function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
}

/**
 * The one door to every tool. The agent, chat commands, the CLI and workers all call `invoke`, so
 * validation, the approval gate, audit and timing happen in one fixed order:
 * validate input → approval gate → (write/high: audit the start, or refuse) → run → validate output → audit → metrics.
 * A read whose audit row cannot be written still answers, marked `notRecorded`.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  register(tool: ToolDefinition): this {
    if (this.tools.has(tool.name)) throw new Error(`tool "${tool.name}" is registered twice`);
    this.tools.set(tool.name, tool);
    return this;
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  async invoke<O = unknown>(name: string, rawInput: unknown, ctx: ToolContext): Promise<ToolResult<O>> {
    const started = performance.now();
    const tool = this.tools.get(name);
    /** One audit row; false (and logged loudly) when the audit store refused it. */
    const audit = async (outcome: string, detail: Record<string, unknown>): Promise<boolean> => {
      try {
        await appendAudit(ctx.db, { actor: ctx.actor, action: `tool:${name}`, target: ctx.incidentId, outcome, detail: { ...detail, ...(ctx.approvedActionId ? { actionId: ctx.approvedActionId } : {}) } });
        return true;
      } catch (err) {
        ctx.logger.error({ tool: name, outcome, err: errorMessage(err) }, 'audit write failed');
        return false;
      }
    };
    const finish = async (result: Omit<ToolResult<O>, 'durationMs' | 'tool'>, input: unknown): Promise<ToolResult<O>> => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const full: ToolResult<O> = { tool: name, input, durationMs, ...result };
      // A read answer is still useful when the audit write fails, but it says it was not recorded.
      if (!(await audit(full.status, { input, durationMs, ...(full.error ? { error: full.error } : {}) }))) full.notRecorded = true;
      toolCalls.inc({ tool: name, status: full.status });
      toolDuration.observe({ tool: name }, durationMs / 1000);
      ctx.logger.debug({ tool: name, status: full.status, durationMs, ...(full.notRecorded ? { notRecorded: true } : {}) }, 'tool call');
      return full;
    };

    if (!tool) {
      return finish({ status: 'error', summary: `Unknown tool "${name}".`, error: `unknown tool; known tools: ${this.names().join(', ')}` }, rawInput);
    }
    const parsed = tool.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      const error = describeZodError(parsed.error);
      return finish({ status: 'error', summary: `Invalid input for ${name}: ${error}`, error }, rawInput);
    }
    if (tool.risk !== 'read' && !ctx.approvedActionId) {
      return finish(
        { status: 'approval_required', summary: `${name} is a ${tool.risk}-risk action: it needs approval before it runs.` },
        parsed.data,
      );
    }
    // A write or high action is recorded before it runs: when the audit log cannot take the row,
    // the action does not happen (an unaudited change is worse than a refused one).
    if (tool.risk !== 'read' && !(await audit('started', { input: parsed.data }))) {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      toolCalls.inc({ tool: name, status: 'error' });
      return {
        tool: name,
        durationMs,
        status: 'error',
        summary: `${name} was not run: the audit log could not be written, and a ${tool.risk}-risk action never runs unrecorded. Try again once the database accepts writes.`,
        error: 'audit_unavailable',
        notRecorded: true,
      };
    }
    try {
      const out = await tool.run(parsed.data, ctx);
      const checked = tool.output.safeParse(out.data);
      if (!checked.success) {
        const error = `tool returned data that does not match its output schema: ${describeZodError(checked.error)}`;
        return finish({ status: 'error', summary: `${name} failed: ${error}`, error }, parsed.data);
      }
      return finish({ status: out.status ?? 'success', data: checked.data as O, summary: out.summary }, parsed.data);
    } catch (err) {
      const error = isWarroomError(err) ? err.toUserText() : errorMessage(err);
      if (!isWarroomError(err)) ctx.logger.error({ tool: name, err: errorMessage(err) }, 'tool failed');
      return finish({ status: 'error', summary: `${name} failed: ${error}`, error }, parsed.data);
    }
  }

  /**
   * The typed door: input and result types come from the tool's definition (or a reference with the
   * same name and schemas), so callers need no casts. Runs through `invoke`, in the same fixed order.
   */
  async call<I extends z.ZodTypeAny, O extends z.ZodTypeAny>(tool: ToolRef<I, O>, input: z.input<I>, ctx: ToolContext): Promise<ToolResult<z.output<O>>> {
    return this.invoke<z.output<O>>(tool.name, input, ctx);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }
}
