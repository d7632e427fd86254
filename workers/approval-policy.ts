import { grantMatches, type ApprovalRules, type Grant, type PersonFacts } from '../core/policy-file.js';
import type { ActionRequest } from './action-store.js';

/**
 * Who may request and approve an action, and how many approvers it needs, decided from the policy
 * file's `approvals` section and stored facts. Pure: the facts are gathered by the caller.
 */

export type ApprovalReason =
  | 'allowed'
  /** Not in `people`: never acts. */
  | 'unknown-person'
  /** The requester never approves their own request. */
  | 'own-request'
  /** The policy's grants for this kind do not match. */
  | 'not-permitted'
  /** This person's approval is already counted. */
  | 'already-approved'
  /** Past its expiry: a new request is needed. */
  | 'expired'
  /** Already decided (approved, rejected, expired, running or finished). */
  | 'not-pending';

export interface ApprovalDecision {
  allowed: boolean;
  reason: ApprovalReason;
  /** The policy entry that decided, e.g. `approvals.approve.failover_switch`. */
  rule: string;
  /** Who qualifies under that entry. */
  need: Grant[];
}

const ok = (rule: string): ApprovalDecision => ({ allowed: true, reason: 'allowed', rule, need: [] });
const no = (reason: ApprovalReason, rule: string, need: Grant[] = []): ApprovalDecision => ({ allowed: false, reason, rule, need });

/** The grants for an action kind: its own entry, or `default`. */
export function grantsFor(table: Record<string, Grant[]>, tool: string): { rule: string; grants: Grant[] } {
  return tool in table ? { rule: tool, grants: table[tool]! } : { rule: 'default', grants: table['default'] ?? [] };
}

/** How many distinct approvers a request needs, and why ("high: 2 + 1 in a trading session"). */
export function approvalsNeededFor(rules: ApprovalRules, action: { tool: string; risk: 'write' | 'high' }, inTradingSession: boolean): { count: number; rule: string } {
  const base = rules.approvers_needed[action.risk];
  const extra = inTradingSession && rules.extra_approver_in_trading_sessions.includes(action.tool) ? 1 : 0;
  return { count: base + extra, rule: `${action.risk}: ${base}${extra ? ' + 1 (trading session)' : ''}` };
}

/** May this person request this kind of action? */
export function decideRequest(rules: ApprovalRules, tool: string, person: PersonFacts): ApprovalDecision {
  if (!person.known) return no('unknown-person', 'people');
  const { rule, grants } = grantsFor(rules.request, tool);
  return grants.some((g) => grantMatches(g, person)) ? ok(`approvals.request.${rule}`) : no('not-permitted', `approvals.request.${rule}`, grants);
}

/** May this person approve (or reject) this request now? Checked on the server against stored facts. */
export function decideApproval(
  rules: ApprovalRules,
  facts: { action: Pick<ActionRequest, 'tool' | 'status' | 'requestedBy' | 'approvals' | 'expiresAt'>; person: PersonFacts; now: Date; decision: 'approve' | 'reject' },
): ApprovalDecision {
  const { action, person, now } = facts;
  const { rule, grants } = grantsFor(rules.approve, action.tool);
  const entry = `approvals.approve.${rule}`;
  if (action.status !== 'pending') return no('not-pending', entry);
  if (now.getTime() >= action.expiresAt.getTime()) return no('expired', 'approvals.expire_after_minutes');
  if (!person.known) return no('unknown-person', 'people');
  // Rejecting your own request is withdrawing it: always allowed. Approving it never is.
  if (person.id === action.requestedBy) return facts.decision === 'reject' ? ok('own-request') : no('own-request', 'approvals (the requester never counts)');
  if (facts.decision === 'approve' && action.approvals.some((a) => a.by === person.id)) return no('already-approved', entry);
  return grants.some((g) => grantMatches(g, person)) ? ok(entry) : no('not-permitted', entry, grants);
}
