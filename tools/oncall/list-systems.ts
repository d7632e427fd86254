import { z } from 'zod';
import { listSystems, matchSystem, neighboursOf } from './systems.js';
import { defineTool } from '../tool.js';

export const listSystemsTool = defineTool({
  name: 'list_systems',
  description: 'List the systems Warroom knows (CMDB subset): id, name, aliases, tier, what each depends on (upstream) and what depends on it (downstream). Optionally one system (its dependencies both ways) or a filter word.',
  risk: 'read',
  input: z.object({
    query: z.string().optional().describe('a word to filter names, ids and aliases by'),
    system: z.string().min(1).optional().describe('one system (id, name or alias): it alone, with its dependencies both ways'),
  }),
  output: z.object({
    systems: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        aliases: z.array(z.string()),
        tier: z.string().nullable(),
        dependsOn: z.array(z.string()),
        dependents: z.array(z.string()),
      }),
    ),
    /** Names of every system the list refers to (dependencies included), by id. */
    names: z.record(z.string()),
  }),
  async run(input, ctx) {
    const all = await listSystems(ctx.db);
    const q = input.query?.trim().toLowerCase();
    const picked = input.system
      ? [matchSystem(all, input.system)]
      : q
        ? all.filter((s) => [s.id, s.name, ...s.aliases].some((n) => n.toLowerCase().includes(q)))
        : all;
    const systems = picked.map((s) => ({
      id: s.id,
      name: s.name,
      aliases: s.aliases,
      tier: s.tier,
      dependsOn: s.depends_on,
      dependents: neighboursOf(all, s.id).downstream,
    }));
    return {
      data: { systems, names: Object.fromEntries(all.map((s) => [s.id, s.name])) },
      status: systems.length ? 'success' : 'no_data',
      summary: systems.length ? `${systems.length} system(s).` : q ? `No system matches "${input.query}".` : 'No systems loaded.',
    };
  },
});
