import { z } from 'zod';
import { buildLocalizationCard, localizationCardSchema } from './localization.js';
import type { ToolRegistry } from '../registry.js';
import { defineTool, type ToolDefinition } from '../tool.js';

export { localizationCardSchema };

const localizeInput = z.object({
  system: z.string().min(1),
  at: z.string().datetime({ offset: true }).optional(),
  onset: z.string().datetime({ offset: true }).optional().describe('when the trouble began, if known; otherwise the first alert of the current episode'),
  symptom: z.string().max(500).optional().describe('what is being seen, e.g. an incident title'),
});

/** The localization tool as typed calls see it (the definition itself is built with the registry). */
export const localizeToolRef = { name: 'localize', input: localizeInput, output: localizationCardSchema } as const;

/** The localization tool needs the registry itself (it calls change_lookup through it, audited). */
export function createLocalizeTool(registry: ToolRegistry): ToolDefinition {
  return defineTool({
    name: 'localize',
    description:
      'Fault-localization card for a system at a moment: changes and change operation events of the system and its neighbours in the 3 trading days before the onset (the first alert of the current episode, or a given time) ranked by suspicion with reasons (those that cannot be the cause set aside with the reason), health score, alerts from 2 hours before the onset, similar past incidents and recommended runbooks. A hint, not a verdict.',
    risk: 'read',
    input: localizeInput,
    output: localizationCardSchema,
    async run(input, ctx) {
      const card = await buildLocalizationCard(registry, ctx, { system: input.system, ...(input.at ? { at: new Date(input.at) } : {}), ...(input.onset ? { onset: new Date(input.onset) } : {}), ...(input.symptom ? { symptom: input.symptom } : {}) });
      // The ranking is both lists merged by score: a ticketless event can top it.
      const top = [...card.changes, ...card.changeEvents].sort((a, b) => b.score - a.score)[0];
      return {
        data: card,
        summary: `${card.system.name}: health ${card.health}, ${card.alerts.last2h} alert(s) since ${card.alerts.from}, ${card.changes.length} change(s)${card.setAside.length ? ` (${card.setAside.length} set aside)` : ''}${top ? `; most suspicious ${top.id}` : ''}.`,
      };
    },
  });
}
