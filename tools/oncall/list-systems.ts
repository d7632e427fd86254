import { z } from 'zod';
import { listSystems, neighboursOf } from './systems.js';
import { defineTool } from '../tool.js';

export const listSystemsTool = defineTool({
  name: 'list_systems',
  description: 'List the systems Warroom knows (CMDB subset): id, name, aliases, tier and dependencies. Optionally filter by a word.',
  risk: 'read',
  input: z.object({ query: z.string().optional().describe('a word to filter names, ids and aliases by') }),
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
  }),
  async run(input, ctx) {
    const all = await listSystems(ctx.db);
    const q = input.query?.trim().toLowerCase();
    const picked = q ? all.filter((s) => [s.id, s.name, ...s.aliases].some((n) => n.toLowerCase().includes(q))) : all;
    const systems = picked.map((s) => ({
      id: s.id,
      name: s.name,
      aliases: s.aliases,
      tier: s.tier,
      dependsOn: s.depends_on,
      dependents: neighboursOf(all, s.id).downstream,
    }));
    return {
      data: { systems },
      status: systems.length ? 'success' : 'no_data',
      summary: systems.length ? `${systems.length} system(s).` : q ? `No system matches "${input.query}".` : 'No systems loaded.',
    };
  },
});
