import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { readCaseItems } from './case-files.js';
import { validateDocument } from '../../db/import.js';
import type { ImportDocument } from '../../db/records.js';

/**
 * Localization scenarios: a system fails at a moment, the store holds the changes, operation events,
 * alerts and past incidents of that moment, and one of them is the culprit. Each scenario names its
 * decoys and their kind, so a miss says which trap the ranker fell into. Files are YAML or JSON, one
 * scenario or a list; the folder a file sits in (`tune/`, `heldout/`) is its split.
 */

export const SPLITS = ['tune', 'heldout'] as const;
export type Split = (typeof SPLITS)[number];

/** The traps a scenario sets beside its culprit (test/change-intel/localize-scenarios/README.md). */
export const DECOY_KINDS = [
  'nearest', // the latest change before the onset, unrelated
  'riskiest', // a high-risk change that did not cause it
  'lookalike-incident', // a past incident that resembles this one, pointing at a change of the same kind
  'title-match', // a change whose title shares words with the alert
  'downstream-consumer', // a change on a system that consumes the failing one
  'weekend', // work done on a non-trading day, unrelated
  'bastion-unticketed', // ticketless work through a bastion host, unrelated
  'test-only', // a change whose operation events all ran in test/UAT
  'cancelled', // cancelled or never executed
  'rolled-back', // rolled back before the onset
  'after-onset', // a change made after the trouble began
  'unrelated-object', // touched something the failing path does not use (log level vs TLS)
  'scheduled-later', // approved, scheduled for later, not started
] as const;
export type DecoyKind = (typeof DECOY_KINDS)[number];

const isoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 time with offset, e.g. 2026-11-23T09:40:00+08:00' });

export const localizeScenarioSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ -'),
    description: z.string().min(1),
    split: z.enum(SPLITS).optional(),
    /** The system that failed (id, name or alias). */
    system: z.string().min(1),
    /** The moment the card is asked for (the declaration); the clock is pinned there. */
    at: isoTime,
    /** When the trouble began, if the declarer gives it; otherwise the card finds it from the alerts. */
    onset: isoTime.optional(),
    symptom: z.string().max(500).optional(),
    /**
     * What lies under the scenario's data: `demo-systems` (the default) is the demo's systems, people
     * and on-call only, never its changes, events, alerts or incidents; `empty` is nothing at all.
     */
    base: z.enum(['demo-systems', 'empty']).default('demo-systems'),
    /** The scenario's own records in the import format (changes, changeEvents, alerts, incidents…). */
    data: z.record(z.unknown()),
    /** The change id or ticketless event id that caused the failure. */
    culprit: z.string().min(1),
    /** Other ticketless events of the culprit operation (the restart that applied a ticketless edit): they count as the culprit too. */
    culpritAlso: z.array(z.string().min(1)).default([]),
    decoys: z.array(z.object({ id: z.string().min(1), kind: z.enum(DECOY_KINDS), note: z.string().optional() }).strict()).min(1),
    tags: z.array(z.string()).default([]),
  })
  .strict();

export type LocalizeScenario = Omit<z.output<typeof localizeScenarioSchema>, 'data' | 'split'> & { split: Split; file: string; data: ImportDocument };

/** Every scenario under `dir`, validated (its data too); throws naming each bad file and field. */
export function loadLocalizeScenarios(dir: string): LocalizeScenario[] {
  const read = readCaseItems(dir, SPLITS, () =>
    new WarroomError('scenarios_missing', `No localization scenarios at ${dir}.`, { hint: 'Give the folder that holds tune/ and heldout/ (e.g. test/change-intel/localize-scenarios).' }),
  );
  const problems = read.problems;
  const out: LocalizeScenario[] = [];
  const seen = new Map<string, string>();
  for (const { item, where, label, split: folderSplit } of read.items) {
    const parsed = localizeScenarioSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label} ${issue.path.join('.') || '(scenario)'}: ${issue.message}`);
      continue;
    }
    const s = parsed.data;
    const split = s.split ?? folderSplit;
    if (!split) {
      problems.push(`${label}: no split (put the file under tune/ or heldout/, or set split:)`);
      continue;
    }
    let data: ImportDocument;
    try {
      data = validateDocument(s.data, `${label} data`);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const clash = seen.get(s.id);
    if (clash) problems.push(`${label}: id "${s.id}" is already used in ${clash}`);
    seen.set(s.id, label);
    const ids = new Set([...(data.changes ?? []).map((c) => c.id), ...(data.changeEvents ?? []).map((e) => e.id)]);
    for (const c of [s.culprit, ...s.culpritAlso]) if (!ids.has(c)) problems.push(`${label}: culprit "${c}" is neither a change nor an event of the scenario's data`);
    for (const d of s.decoys) {
      if (!ids.has(d.id)) problems.push(`${label}: decoy "${d.id}" (${d.kind}) is neither a change nor an event of the scenario's data`);
      if (d.id === s.culprit || s.culpritAlso.includes(d.id)) problems.push(`${label}: decoy "${d.id}" is the culprit`);
    }
    if (s.onset && Date.parse(s.onset) > Date.parse(s.at)) problems.push(`${label}: onset is after at`);
    const { data: _raw, split: _split, ...rest } = s;
    out.push({ ...rest, split, file: where, data });
  }
  if (problems.length) {
    throw new WarroomError('scenarios_invalid', `${problems.length} problem(s) in the localization scenarios:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      hint: 'See test/change-intel/localize-scenarios/README.md for the scenario format.',
    });
  }
  if (!out.length) throw new WarroomError('scenarios_missing', `No localization scenarios (.yaml, .yml, .json) under ${dir}.`);
  return out;
}
