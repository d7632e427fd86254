import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WarroomError } from './errors.js';
import { shippedPolicyFile } from './paths.js';

/**
 * The role and permission policy: one file (YAML or JSON) that says who may do what. Its path is
 * WARROOM_POLICY_FILE; unset, the shipped `policy/warroom-policy.yaml`. Each concern has its own
 * top-level section: `incidents` now; the approved-actions issue adds `approvals` to the same file.
 * A key this version does not know is refused (a typo must not silently drop a rule).
 *
 * Pure: parsing and validation only. The decisions live with the domain that makes them
 * (bot/incidents/permissions.ts for incidents).
 */

export const POLICY_SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export const INCIDENT_ROLES = ['incident-commander', 'communications-lead', 'operations-lead', 'scribe'] as const;
/** What people do to an incident once it exists, besides taking roles. */
export const INCIDENT_ACTIONS = ['assign', 'takeover', 'severity', 'status', 'resolve', 'update', 'cause', 'impact', 'note', 'draft'] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];
/** Sections this version of Warroom reads; a new one is added here with its schema. */
export const POLICY_SECTIONS = ['version', 'incidents', 'approvals'] as const;

/**
 * A grant names who qualifies:
 * - `known`: anyone in `people` (people unknown to Warroom never act, whatever the policy says)
 * - `on-call`: on call now, in any role, for the system or a system it depends on
 * - `on-call:<role>`: on call now in that rota role (e.g. `on-call:incident-commander`, `on-call:ops`)
 * - `role:<role>`: the person's `people.roles` has it (e.g. `role:duty-manager`)
 * - `incident:<role>`: holds that role in this incident (e.g. `incident:incident-commander`)
 */
export type Grant =
  | { kind: 'known' }
  | { kind: 'on-call'; role?: string }
  | { kind: 'role'; role: string }
  | { kind: 'incident'; role: (typeof INCIDENT_ROLES)[number] };

const WORD = /^[a-z0-9][a-z0-9_-]*$/i;

const grantSchema = z.string().transform((s, ctx): Grant => {
  const text = s.trim();
  if (text === 'known') return { kind: 'known' };
  if (text === 'on-call') return { kind: 'on-call' };
  const [prefix, rest] = [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)];
  if (text.includes(':') && WORD.test(rest)) {
    if (prefix === 'on-call') return { kind: 'on-call', role: rest };
    if (prefix === 'role') return { kind: 'role', role: rest };
    if (prefix === 'incident') {
      if ((INCIDENT_ROLES as readonly string[]).includes(rest)) return { kind: 'incident', role: rest as (typeof INCIDENT_ROLES)[number] };
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}": the incident role must be one of ${INCIDENT_ROLES.join(', ')}` });
      return z.NEVER;
    }
  }
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}" is not a grant; write known, on-call, on-call:<rota role>, role:<people role> or incident:<incident role>` });
  return z.NEVER;
});

const grants = z.array(grantSchema);
/** Grants per action kind (a tool name such as `failover_switch`), with `default` for kinds not listed. */
const perKind = z
  .record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'an action kind is a tool name such as failover_switch, or default'), grants)
  .refine((r) => 'default' in r, { message: 'needs a `default` entry for action kinds not listed' });

export const approvalsSchema = z
  .object({
    /** A request nobody decided within this many minutes expires; a new request is needed. */
    expire_after_minutes: z.number().int().min(1).max(7 * 24 * 60),
    /** Distinct approvers each risk needs; the requester never counts. High is the two-person review. */
    approvers_needed: z
      .object({
        write: z.number().int().min(1).max(5),
        high: z.number().int().min(2, { message: 'high-risk actions need at least 2 approvers (the two-person review)' }).max(5),
      })
      .strict(),
    /** Action kinds that need one more approver while trading is live (call auction, continuous trading). */
    extra_approver_in_trading_sessions: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'an action kind is a tool name such as failover_switch')),
    /** Who may request each action kind. */
    request: perKind,
    /** Who may approve (or reject, or cancel) each action kind. */
    approve: perKind,
  })
  .strict();
const perKey = <K extends string>(keys: readonly K[]) => z.object(Object.fromEntries(keys.map((k) => [k, grants])) as Record<K, typeof grants>).strict();

export const policyFileSchema = z
  .object({
    version: z.literal(1, { errorMap: () => ({ message: 'must be 1' }) }),
    incidents: z
      .object({
        /** Who may declare an incident of each severity (people only; alerts that declare by themselves are not checked). */
        declare: perKey(POLICY_SEVERITIES),
        /** Who may take each vacant incident role for themselves. */
        take: perKey(INCIDENT_ROLES),
        /** Who may do each thing to an open incident. */
        act: perKey(INCIDENT_ACTIONS),
      })
      .strict(),
    /** Optional so that a policy written before approved actions keeps working: the shipped rules apply. */
    approvals: approvalsSchema.optional(),
  })
  .strict();

export type ApprovalRules = z.output<typeof approvalsSchema>;
export type WarroomPolicy = Omit<z.output<typeof policyFileSchema>, 'approvals'> & {
  approvals: ApprovalRules;
  /** Where the approval rules came from: this file, or the shipped policy when the file has no `approvals` section. */
  approvalsFrom: 'file' | 'shipped';
};
export type IncidentPolicyRules = WarroomPolicy['incidents'];

/** What the store says about a person, as the grants see it (gathered by the domain that decides). */
export interface PersonFacts {
  /** Warroom person id, or `platform:user` for someone unknown. */
  id: string;
  /** In `people`. Unknown people never act. */
  known: boolean;
  /** Their `people.roles`. */
  peopleRoles: string[];
  /** Rota roles they are on call in now, for the system concerned or a system it depends on. */
  onCallRoles: string[];
  /** Roles they hold in the incident concerned (none without one). */
  incidentRoles: Array<(typeof INCIDENT_ROLES)[number]>;
}

export function grantMatches(g: Grant, p: PersonFacts): boolean {
  if (!p.known) return false;
  switch (g.kind) {
    case 'known':
      return true;
    case 'on-call':
      return g.role ? p.onCallRoles.includes(g.role) : p.onCallRoles.length > 0;
    case 'role':
      return p.peopleRoles.includes(g.role);
    case 'incident':
      return p.incidentRoles.includes(g.role);
  }
}

/** Parse and validate a policy file's text; errors name the file and the path of each bad entry. */
export function parsePolicy(text: string, source: string): WarroomPolicy {
  let raw: unknown;
  try {
    raw = source.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new WarroomError('policy_invalid', `Policy file ${source} is not valid ${source.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, {
      hint: 'Fix the file (see "Roles and permissions" in README.md), or unset WARROOM_POLICY_FILE to use the shipped policy.',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new WarroomError('policy_invalid', `Policy file ${source} must be a mapping with the sections ${POLICY_SECTIONS.join(', ')}.`, { hint: 'Start from the shipped policy/warroom-policy.yaml.' });
  }
  const parsed = policyFileSchema.safeParse(raw);
  if (parsed.success) {
    const { approvals, ...rest } = parsed.data;
    if (approvals) return { ...rest, approvals, approvalsFrom: 'file' };
    if (source === shippedPolicyFile) throw new WarroomError('policy_invalid', `The shipped policy ${source} has no approvals section.`, { hint: 'Reinstall Warroom.' });
    return { ...rest, approvals: loadPolicy(undefined).approvals, approvalsFrom: 'shipped' };
  }
  const lines = parsed.error.issues.map((issue) => {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      const where = issue.path.length ? pathOf(issue.path) : '(top level)';
      const known = issue.path.length === 0 ? `; this version of Warroom reads the sections ${POLICY_SECTIONS.join(', ')}` : '';
      return `  ${where}: unknown ${issue.keys.length > 1 ? 'keys' : 'key'} ${issue.keys.map((k) => `"${k}"`).join(', ')}${known}`;
    }
    const message = issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined' ? 'is missing' : issue.message;
    return `  ${pathOf(issue.path)}: ${message}`;
  });
  throw new WarroomError('policy_invalid', `Policy file ${source} is invalid:\n${lines.join('\n')}`, {
    hint: 'Fix these entries (see "Roles and permissions" in README.md and the shipped policy/warroom-policy.yaml), or unset WARROOM_POLICY_FILE to use the shipped policy.',
  });
}

function pathOf(path: Array<string | number>): string {
  return path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

/** Read the policy file (WARROOM_POLICY_FILE, or the shipped one). */
export function loadPolicy(file: string | undefined): WarroomPolicy {
  const path = file ?? shippedPolicyFile;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new WarroomError('policy_invalid', `Cannot read the policy file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: file ? 'Check WARROOM_POLICY_FILE, or unset it to use the shipped policy.' : 'The shipped policy/warroom-policy.yaml is missing from the installation.',
    });
  }
  return parsePolicy(text, path);
}

/** The grant as written in the file (for messages and logs). */
export function grantText(g: Grant): string {
  if (g.kind === 'known') return 'known';
  if (g.kind === 'on-call') return g.role ? `on-call:${g.role}` : 'on-call';
  return `${g.kind}:${g.role}`;
}
