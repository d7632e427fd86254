import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { readCaseItems } from './case-files.js';

/**
 * Evaluation cases: one question, the context it is asked in, the data it runs on and what the
 * answer must (and must not) contain or do. Files are YAML or JSON, one case or a list of cases;
 * the folder a file sits in (`dev/`, `heldout/`) is its split unless the case names one.
 */

const isoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 time with offset, e.g. 2026-11-23T09:40:00+08:00' });

/** Where a chat line is said: a DM with the bot, a plain channel, or the incident room a setup line declared. */
const roomKind = z.enum(['dm', 'channel', 'incident']);

const setupLine = z.object({
  /** The person (id in people) who says it. */
  as: z.string().min(1),
  text: z.string().min(1),
  /** Default: the incident room once one was declared in this case, else the asker's DM. */
  room: roomKind.optional(),
  at: isoTime.optional(),
});

/** A fact: a string the answer contains, or a list of which one will do. Case and spacing do not matter. */
const fact = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const scriptedCall = z.object({
  name: z.string().min(1),
  /** The arguments as the model sends them; a string is sent as is (e.g. broken JSON). */
  args: z.union([z.record(z.unknown()), z.string()]).default({}),
});

/** One reply of the stand-in model: tool calls, or a final text. */
export const scriptTurn = z.union([
  z.object({ toolCalls: z.array(scriptedCall).min(1), text: z.string().optional() }).strict(),
  z.object({ text: z.string() }).strict(),
]);
export type ScriptTurn = z.infer<typeof scriptTurn>;

const runbookFile = z.object({
  /** Path under the runbooks folder, e.g. `eval/rb-eval-injected.md`. */
  path: z.string().regex(/^[A-Za-z0-9_./-]+\.md$/, 'a relative .md path'),
  content: z.string().min(1),
});

export const evalCaseSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ -'),
    /** What the case is about, for people reading a failure. */
    about: z.string().optional(),
    question: z.string().min(1),
    lang: z.enum(['zh', 'en']),
    split: z.enum(['dev', 'heldout']).optional(),
    tags: z.array(z.string()).default([]),
    context: z
      .object({
        asker: z.string().min(1).default('songkai'),
        /** Where the question is asked. `incident` needs a setup line that declares one. */
        room: roomKind.default('dm'),
        at: isoTime.default('2026-11-23T09:40:00+08:00'),
        setup: z.array(setupLine).default([]),
        /** Earlier questions of the asker in the same room, asked first, through the bot. */
        history: z.array(z.string().min(1)).default([]),
      })
      .default({}),
    data: z
      .object({
        /** false: an empty store (no demo data). */
        demo: z.boolean().default(true),
        /** An import-format document (systems, people, changes, alerts…), loaded after the demo data. */
        import: z.record(z.unknown()).optional(),
        /** Extra runbooks, ingested beside the shipped ones. */
        runbooks: z.array(runbookFile).default([]),
        /** Perception-factor snapshots (the `warroom sense` format), stored before the question. */
        snapshots: z.array(z.record(z.unknown())).default([]),
        /** An FPGA decoder simulator with these faults ("login-rejected:card=1"), read by fpga_status. */
        fpga: z.object({ faults: z.array(z.string()).default([]), cards: z.number().int().min(1).max(8).optional() }).optional(),
      })
      .default({}),
    expect: z
      .object({
        facts: z.array(fact).default([]),
        /** Strings the answer must not contain (a secret from the data, an invented cause…). */
        absent: z.array(z.string().min(1)).default([]),
        tools: z.object({ must: z.array(z.string()).default([]), mustNot: z.array(z.string()).default([]) }).default({}),
        /** At most this many calls of a tool (e.g. 2 for a repeated identical call the guard should stop). */
        maxToolCalls: z.record(z.number().int().min(0)).default({}),
        /** The asker asked for no action: no action request may be made, none performed. */
        noActions: z.boolean().default(true),
        /** Checks on the conversation with the stand-in model (scripted LLM runs only). */
        model: z
          .object({
            /** The agent stops before the script runs out: at most this many model calls. */
            maxCalls: z.number().int().min(1).optional(),
            minCalls: z.number().int().min(0).optional(),
            /** Text that must reach the model in a tool message (e.g. the validation error). */
            toolMessagesContain: z.array(fact).default([]),
            /** Text that must never reach the model (secrets in the data). */
            neverSent: z.array(z.string().min(1)).default([]),
          })
          .optional(),
      })
      .default({}),
    /** The stand-in model's replies, in order, for the scripted LLM run. Ignored with a real model. */
    script: z.array(scriptTurn).optional(),
  })
  .strict();

export type EvalCase = z.output<typeof evalCaseSchema> & { split: 'dev' | 'heldout'; file: string };

/** Every case under `dir`, validated; throws naming each bad file and field. */
export function loadEvalCases(dir: string): EvalCase[] {
  const read = readCaseItems(dir, ['dev', 'heldout'] as const, () =>
    new WarroomError('eval_cases_missing', `No evaluation cases at ${dir}.`, { hint: 'Give the folder that holds dev/ and heldout/ (e.g. test/agents/eval/cases).' }),
  );
  const problems = read.problems;
  const cases: EvalCase[] = [];
  const seen = new Map<string, string>();
  for (const { item, where, label, split: folderSplit } of read.items) {
    const parsed = evalCaseSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label} ${issue.path.join('.') || '(case)'}: ${issue.message}`);
      continue;
    }
    const split = parsed.data.split ?? folderSplit;
    if (!split) {
      problems.push(`${where}: no split (put the file under dev/ or heldout/, or set split:)`);
      continue;
    }
    const clash = seen.get(parsed.data.id);
    if (clash) problems.push(`${where}: id "${parsed.data.id}" is already used in ${clash}`);
    seen.set(parsed.data.id, where);
    if (parsed.data.context.room === 'incident' && !parsed.data.context.setup.some((s) => /declare|申报|宣告|报障/i.test(s.text))) {
      problems.push(`${where}: case "${parsed.data.id}" is asked in an incident room, but no setup line declares one`);
    }
    cases.push({ ...parsed.data, split, file: where });
  }
  if (problems.length) {
    throw new WarroomError('eval_cases_invalid', `${problems.length} problem(s) in the evaluation cases:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      hint: 'See test/agents/eval/README.md for the case format.',
    });
  }
  if (!cases.length) throw new WarroomError('eval_cases_missing', `No evaluation cases (.yaml, .yml, .json) under ${dir}.`);
  return cases;
}
