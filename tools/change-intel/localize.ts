import { z } from 'zod';
import { buildLocalizationCard } from './localization.js';
import type { ToolRegistry } from '../registry.js';
import { defineTool, type ToolDefinition } from '../tool.js';

/** `reasons` in English (the documented JSON key), `reasonsZh` the same reasons in Chinese. */
const scored = { score: z.number(), reasons: z.array(z.string()), reasonsZh: z.array(z.string()) };

export const localizationCardSchema = z.object({
  system: z.object({ id: z.string(), name: z.string(), upstream: z.array(z.string()), downstream: z.array(z.string()) }),
  at: z.string(),
  onset: z.string().nullable(),
  onsetSource: z.enum(['given', 'alert']).nullable(),
  onsetAlert: z.string().nullable(),
  window: z.object({ from: z.string(), to: z.string(), tradingDays: z.array(z.string()) }),
  changes: z.array(z.object({ id: z.string(), title: z.string(), system: z.string(), risk: z.string().nullable(), plannedStart: z.string().nullable(), source: z.string(), ...scored })),
  changeEvents: z.array(
    z.object({ id: z.string(), at: z.string(), system: z.string(), operator: z.string(), action: z.string(), object: z.string(), changeId: z.string().nullable(), flags: z.array(z.string()), source: z.string(), ...scored }),
  ),
  alerts: z.object({
    last2h: z.number(),
    from: z.string(),
    items: z.array(z.object({ id: z.string(), system: z.string(), severity: z.string(), title: z.string(), startsAt: z.string(), open: z.boolean(), count: z.number() })),
  }),
  health: z.number(),
  similarIncidents: z.array(z.object({ id: z.string(), title: z.string(), system: z.string(), rootCause: z.string().nullable(), resolution: z.string().nullable(), ...scored })),
  runbooks: z.array(z.object({ id: z.string(), title: z.string(), section: z.string(), score: z.number(), source: z.string() })),
  disclaimer: z.object({ zh: z.string(), en: z.string() }),
});

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
      'Fault-localization card for a system at a moment: changes and change operation events of the system and its neighbours in the 3 trading days before the onset (the first alert of the current episode, or a given time) ranked by suspicion with reasons, health score, alerts from 2 hours before the onset, similar past incidents and recommended runbooks. A hint, not a verdict.',
    risk: 'read',
    input: localizeInput,
    output: localizationCardSchema,
    async run(input, ctx) {
      const card = await buildLocalizationCard(registry, ctx, { system: input.system, ...(input.at ? { at: new Date(input.at) } : {}), ...(input.onset ? { onset: new Date(input.onset) } : {}), ...(input.symptom ? { symptom: input.symptom } : {}) });
      const top = card.changes[0] ?? card.changeEvents[0];
      return {
        data: card,
        summary: `${card.system.name}: health ${card.health}, ${card.alerts.last2h} alert(s) since ${card.alerts.from}, ${card.changes.length} change(s)${top ? `; most suspicious ${top.id}` : ''}.`,
      };
    },
  });
}
