import { z } from 'zod';
import { defineTool, stepsOf } from '../../tools/tool.js';

/**
 * A small high-risk tool for tests of the approval machinery: restart a service on a host, in two
 * steps (stop: idempotent; start: not), counting how often each step really ran.
 */
export const restartRuns: Record<string, number> = {};
export const restartTool = defineTool({
  name: 'restart_service',
  description: 'restart a service on a host (test tool)',
  risk: 'high',
  input: z.object({ host: z.string(), fail: z.boolean().optional() }),
  output: z.object({ restarted: z.string() }),
  async plan(input) {
    if (input.host === 'nowhere') throw new Error('host nowhere does not exist');
    return { summary: `Restart the service on ${input.host}`, system: 'jzjy', steps: [{ id: 'stop', title: `Stop on ${input.host}` }, { id: 'start', title: `Start on ${input.host}` }] };
  },
  async run(input, ctx) {
    const step = stepsOf(ctx);
    await step({ id: 'stop', title: `Stop on ${input.host}`, idempotent: true }, async () => {
      restartRuns[`stop:${input.host}`] = (restartRuns[`stop:${input.host}`] ?? 0) + 1;
    });
    await step({ id: 'start', title: `Start on ${input.host}`, idempotent: false }, async () => {
      restartRuns[`start:${input.host}`] = (restartRuns[`start:${input.host}`] ?? 0) + 1;
      if (input.fail) throw new Error(`service on ${input.host} did not come up`);
      return { up: true };
    });
    return { data: { restarted: input.host }, summary: `Restarted the service on ${input.host}` };
  },
});

