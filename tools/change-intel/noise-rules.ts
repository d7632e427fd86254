import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { addNoiseRule, listNoiseRules, removeNoiseRule } from './noise-rules-store.js';
import { builtinNoiseRules } from './diff/noise.js';
import { defineTool } from '../tool.js';

const ruleOut = z.object({
  id: z.number(),
  factor: z.string(),
  keyPattern: z.string(),
  reason: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
});

const factorGlob = z
  .string()
  .trim()
  .min(1, 'name the factor, e.g. os.listen')
  .max(200)
  .regex(/^[a-z0-9_.*?-]+$/, 'expected a factor id such as os.listen (globs * and ? allowed)');

const keyGlob = z
  .string()
  .trim()
  .min(1, 'give the key (or a glob over keys) as the diff shows it')
  .max(1000)
  .refine((p) => /[^*?]/.test(p), 'a pattern of only wildcards would hide every change of the factor; name the noisy keys');

export const noiseRulesTool = defineTool({
  name: 'noise_rules',
  description: 'List the noise rules applied to perception-factor diffs: the builtin ones (PIDs, ephemeral ports, timestamps, counters) and the ones people added.',
  risk: 'read',
  input: z.object({}),
  output: z.object({ builtin: z.array(z.object({ id: z.string(), description: z.object({ en: z.string(), zh: z.string() }) })), rules: z.array(ruleOut) }),
  async run(_input, ctx) {
    const rules = await listNoiseRules(ctx.db);
    return { data: { builtin: [...builtinNoiseRules], rules }, summary: `${builtinNoiseRules.length} builtin noise rule(s) and ${rules.length} added by people.` };
  },
});

/**
 * Risk class `read`, deliberately: a noise rule changes only what Warroom's diffs show, never a
 * system; it is audited (who, when, why), listed, removable, and every entry it hides is still
 * counted under `suppressedBy` in each diff. Requiring approval would defeat one-click denoise.
 */
export const noiseRuleAddTool = defineTool({
  name: 'noise_rule_add',
  description:
    'Mark diff entries as noise from now on ("one-click denoise"): entries of factors matching `factor` whose key matches `keyPattern` are left out of later diffs and counted as suppressed. Globs: * any characters, ? one character.',
  risk: 'read',
  input: z.object({ factor: factorGlob, keyPattern: keyGlob, reason: z.string().trim().max(500).optional() }),
  output: z.object({ rule: ruleOut, created: z.boolean() }),
  async run(input, ctx) {
    const r = await addNoiseRule(ctx.db, { factor: input.factor, keyPattern: input.keyPattern, reason: input.reason, createdBy: ctx.actor });
    return {
      data: r,
      summary: r.created
        ? `Noise rule ${r.rule.id} added: ${r.rule.factor} ${r.rule.keyPattern}.`
        : `Rule ${r.rule.id} already marks ${r.rule.factor} ${r.rule.keyPattern} as noise.`,
    };
  },
});

export const noiseRuleRemoveTool = defineTool({
  name: 'noise_rule_remove',
  description: 'Remove a noise rule by id; its entries show in diffs again.',
  risk: 'read',
  input: z.object({ id: z.coerce.number().int().positive() }),
  output: z.object({ rule: ruleOut }),
  async run(input, ctx) {
    const rule = await removeNoiseRule(ctx.db, input.id);
    if (!rule) throw new WarroomError('noise_rule_unknown', `There is no noise rule ${input.id}.`, { hint: '`noise list` shows the rules and their ids.' });
    return { data: { rule }, summary: `Noise rule ${rule.id} removed (${rule.factor} ${rule.keyPattern}).` };
  },
});
