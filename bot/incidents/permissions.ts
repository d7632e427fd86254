import type { App } from '../../tools/services.js';
import { WarroomError } from '../../core/errors.js';
import { grantMatches, grantText, type Grant, type IncidentAction, type PersonFacts, type WarroomPolicy } from '../../core/policy-file.js';
export { grantMatches, type PersonFacts };
import { appendAudit } from '../../db/audit.js';
import { t, type Lang } from '../messages.js';
import { roleLabel, severityLabel } from '../views/vocabulary.js';
import { SEVERITIES, type Role, type Severity } from './policy.js';
import { peopleByIds, rolesOf, type RoleRow } from './store.js';
import { gatherPersonFacts } from '../../tools/oncall/person-facts.js';

/**
 * Who may do what to an incident, decided from the policy file's `incidents` section and facts
 * from the store (never from the chat text): `decide` is pure; `authorize` gathers the facts,
 * decides, and on a refusal audits it and throws a reply that says who may and how to get there.
 */

/** The thing asked for. Acts are the policy's `incidents.act` entries other than the two about roles. */
export type PermissionRequest =
  | { kind: 'declare'; severity: Severity }
  /** Take `role` (forSelf) or give it to someone else; `heldBy` is its current holder. */
  | { kind: 'role'; role: Role; forSelf: boolean; heldBy: string | null }
  | { kind: 'act'; action: Exclude<IncidentAction, 'assign' | 'takeover'> };

export interface Decision {
  allowed: boolean;
  /** `unknown-person`: not in people; `not-permitted`: the rule's grants do not match; `role-held`: someone else holds the role. */
  reason: 'allowed' | 'unknown-person' | 'not-permitted' | 'role-held';
  /** The policy entry that decided, e.g. `incidents.act.severity`. */
  rule: string;
  /** Who qualifies under that entry (empty when allowed, or when nobody does). */
  need: Grant[];
}

const qualifies = (grants: Grant[], p: PersonFacts) => grants.some((g) => grantMatches(g, p));

const allowed = (rule: string): Decision => ({ allowed: true, reason: 'allowed', rule, need: [] });
const refused = (reason: Decision['reason'], rule: string, need: Grant[]): Decision => ({ allowed: false, reason, rule, need });

/** The decision for one person and one request, under the policy. Pure. */
export function decide(policy: WarroomPolicy, facts: { person: PersonFacts; request: PermissionRequest }): Decision {
  const { person, request } = facts;
  const rules = policy.incidents;
  if (!person.known) return refused('unknown-person', 'people', []);
  switch (request.kind) {
    case 'declare': {
      const rule = `incidents.declare.${request.severity}`;
      const grants = rules.declare[request.severity];
      return qualifies(grants, person) ? allowed(rule) : refused('not-permitted', rule, grants);
    }
    case 'act': {
      const rule = `incidents.act.${request.action}`;
      const grants = rules.act[request.action];
      return qualifies(grants, person) ? allowed(rule) : refused('not-permitted', rule, grants);
    }
    case 'role': {
      // Whoever may assign (the commander) places anyone, themselves included.
      if (qualifies(rules.act.assign, person)) return allowed('incidents.act.assign');
      if (!request.forSelf) return refused('not-permitted', 'incidents.act.assign', rules.act.assign);
      const takeRule = `incidents.take.${request.role}`;
      if (request.heldBy === person.id) return allowed(takeRule);
      // A role someone else holds moves only through the commander, or the policy's takeover grant.
      if (request.heldBy && !qualifies(rules.act.takeover, person)) return refused('role-held', 'incidents.act.takeover', rules.act.takeover);
      const grants = rules.take[request.role];
      return qualifies(grants, person) ? allowed(takeRule) : refused('not-permitted', takeRule, grants);
    }
  }
}

/** Each grant in words, with its own article so they join with "or". */
function grantWords(g: Grant, lang: Lang, system: string): string {
  switch (g.kind) {
    case 'known':
      return t(lang, 'Warroom 人员名单中的任何人', 'anyone known to Warroom');
    case 'on-call':
      return g.role ? t(lang, `${system} 的值班${roleLabel(g.role, lang)}`, `the on-call ${roleLabel(g.role, lang)} of ${system}`) : t(lang, `${system}（及其依赖系统）的当前值班人员`, `whoever is on call for ${system} (or what it depends on)`);
    case 'role':
      return t(lang, `具有「${roleLabel(g.role, lang)}」角色的人员`, `people with the ${roleLabel(g.role, lang)} role`);
    case 'incident':
      return t(lang, roleLabel(g.role, lang), `the ${roleLabel(g.role, lang)}`);
  }
}

function whoMay(need: Grant[], lang: Lang, system: string): string {
  const words = need.map((g) => grantWords(g, lang, system));
  return words.join(t(lang, '或', ' or '));
}

/** The words for what was asked: "change the severity", "take the Scribe role", "declare a P0 incident". */
function whatWords(request: PermissionRequest, lang: Lang): string {
  switch (request.kind) {
    case 'declare':
      return t(lang, `申报 ${severityLabel(request.severity, lang)} 故障`, `declare a ${severityLabel(request.severity, lang)} incident`);
    case 'role':
      return request.forSelf ? t(lang, `担任${roleLabel(request.role, lang)}`, `take the ${roleLabel(request.role, lang)} role`) : t(lang, '指派他人角色', 'assign roles to others');
    case 'act':
      return ACT_WORDS[request.action][lang];
  }
}

const ACT_WORDS: Record<Exclude<IncidentAction, 'assign' | 'takeover'>, Record<Lang, string>> = {
  severity: { zh: '修改级别', en: 'change the severity' },
  status: { zh: '修改状态', en: 'change the status' },
  resolve: { zh: '解决故障', en: 'resolve the incident' },
  update: { zh: '发布通报', en: 'post a status update' },
  cause: { zh: '记录根因', en: 'record the root cause' },
  impact: { zh: '记录影响', en: 'record the impact' },
  note: { zh: '记入时间线', en: 'add to the timeline' },
  draft: { zh: '起草通报', en: 'draft a status update' },
};

export interface RefusalContext {
  /** The incident, or the system for a declaration. */
  target: string;
  system: string;
  /** The incident's commander, if any (who can assign roles). */
  commander?: { id: string; name: string | null } | undefined;
  /** For a held role: who holds it. */
  holder?: { id: string; name: string | null } | undefined;
  /** For a declaration: the severities this person may declare. */
  mayDeclare?: Severity[];
}

/** The refusal a person reads: what they may not do, who may, and how to get there. */
export function refusalText(decision: Decision, request: PermissionRequest, person: PersonFacts, lang: Lang, ctx: RefusalContext): { message: string; hint: string } {
  const what = whatWords(request, lang);
  const named = (p: { id: string; name: string | null }) => (p.name ? t(lang, `${p.name}（${p.id}）`, `${p.name} (${p.id})`) : p.id);
  const commanderHint = (role: string) =>
    ctx.commander
      ? t(lang, `故障指挥${named(ctx.commander)}可以用 \`/incident role ${role} <人>\` 把角色交给你。`, `The incident commander, ${named(ctx.commander)}, can give you the role with \`/incident role ${role} <person>\`.`)
      : t(lang, `${ctx.target} 暂无故障指挥：值班故障指挥可用 \`/incident role ic me\` 接手，之后可指派角色。`, `${ctx.target} has no commander yet: the on-call commander can take it with \`/incident role ic me\` and then assign roles.`);
  const roleWord = (role: Role) => ({ 'incident-commander': 'ic', 'communications-lead': 'comms', 'operations-lead': 'ops', scribe: 'scribe' })[role];

  if (decision.reason === 'unknown-person') {
    return {
      message: t(lang, `你（${person.id}）不在 Warroom 的人员名单中，不能${what}（${ctx.target}）。`, `You (${person.id}) are not known to Warroom, so you cannot ${what} (${ctx.target}).`),
      hint: t(
        lang,
        '请管理员把你加入人员名单（people，用 `warroom import` 导入，填上你的 Slack 或企业微信账号）。在此之前你仍可查询：帮助、状态、搜索和提问。',
        'Ask an admin to add you to people (`warroom import`, with your Slack or WeCom id). Until then you can still read: help, status, search and questions.',
      ),
    };
  }
  if (decision.reason === 'role-held' && request.kind === 'role') {
    const holder = ctx.holder ? named(ctx.holder) : request.heldBy ?? '';
    return {
      message: t(lang, `${roleLabel(request.role, lang)}由${holder}担任，只有故障指挥可以改派（${ctx.target}）。`, `The ${roleLabel(request.role, lang)} role is held by ${holder}; only the incident commander can move it (${ctx.target}).`),
      hint: commanderHint(roleWord(request.role)),
    };
  }
  const who = decision.need.length ? whoMay(decision.need, lang, ctx.system) : '';
  const message = who
    ? t(lang, `只有${who}可以${what}（${ctx.target}）。`, `Only ${who} can ${what} (${ctx.target}).`)
    : t(lang, `按当前策略（${decision.rule}）没有人可以${what}（${ctx.target}）。`, `Under the policy (${decision.rule}) nobody can ${what} (${ctx.target}).`);
  let hint: string;
  if (request.kind === 'declare') {
    const lower = ctx.mayDeclare ?? [];
    hint = lower.length
      ? t(lang, `你可以按 ${lower.map((s) => severityLabel(s, lang)).join('/')} 申报，之后由故障指挥调整级别；或请 ${ctx.system} 的值班人员申报。`, `You may declare it as ${lower.map((s) => severityLabel(s, lang)).join('/')} and let the incident commander raise the severity, or ask whoever is on call for ${ctx.system} to declare it.`)
      : t(lang, `请 ${ctx.system} 的值班人员申报。`, `Ask whoever is on call for ${ctx.system} to declare it.`);
  } else if (request.kind === 'role' && request.forSelf) {
    hint = commanderHint(roleWord(request.role));
  } else if (decision.need.some((g) => g.kind === 'incident')) {
    const roles = decision.need.filter((g): g is Extract<Grant, { kind: 'incident' }> => g.kind === 'incident').map((g) => g.role);
    hint = commanderHint(roleWord(roles.find((r) => r !== 'incident-commander') ?? roles[0]!));
  } else {
    hint = t(lang, `规则见策略文件的 ${decision.rule}（WARROOM_POLICY_FILE）。`, `The rule is ${decision.rule} in the policy file (WARROOM_POLICY_FILE).`);
  }
  return { message, hint };
}

/** Facts about a person, for a system (and the incident's roles, when there is one). */
export async function personFacts(app: App, personId: string, scope: { system: string; roles?: RoleRow[] }): Promise<PersonFacts> {
  const facts = await gatherPersonFacts(app.db, personId, { system: scope.system, at: app.clock() });
  return facts.known ? { ...facts, incidentRoles: (scope.roles ?? []).filter((r) => r.person === personId).map((r) => r.role) } : facts;
}

const auditAction = (request: PermissionRequest): string =>
  request.kind === 'declare' ? 'incident.declare' : request.kind === 'role' ? (request.forSelf ? 'incident.role' : 'incident.assign') : `incident.${request.action}`;

/**
 * Decide, and on a refusal record it (`denied` in the audit log) and throw a 403 whose text says
 * who may and how to get there. `incident` is the incident's id (absent for a declaration).
 */
export async function authorize(app: App, actor: { id: string; lang: Lang }, request: PermissionRequest, scope: { system: string; incident?: string }): Promise<void> {
  const roles = scope.incident ? await rolesOf(app.db, scope.incident) : [];
  const person = await personFacts(app, actor.id, { system: scope.system, roles });
  const decision = decide(app.policy, { person, request });
  if (decision.allowed) return;
  const commander = roles.find((r) => r.role === 'incident-commander');
  const holder = request.kind === 'role' && request.heldBy ? roles.find((r) => r.person === request.heldBy) : undefined;
  const mayDeclare = request.kind === 'declare' ? SEVERITIES.filter((severity) => decide(app.policy, { person, request: { kind: 'declare', severity } }).allowed) : undefined;
  const target = scope.incident ?? scope.system;
  const { message, hint } = refusalText(decision, request, person, actor.lang, {
    target,
    system: scope.system,
    commander: commander ? { id: commander.person, name: commander.name } : undefined,
    holder: holder ? { id: holder.person, name: holder.name } : undefined,
    ...(mayDeclare ? { mayDeclare } : {}),
  });
  await appendAudit(app.db, {
    actor: actor.id,
    action: auditAction(request),
    target,
    outcome: 'denied',
    detail: {
      reason: decision.reason,
      rule: decision.rule,
      ...(request.kind === 'declare' ? { severity: request.severity } : request.kind === 'role' ? { role: request.role, forSelf: request.forSelf } : {}),
    },
  });
  throw new WarroomError(decision.reason === 'unknown-person' ? 'unknown_person' : 'forbidden', message, { status: 403, hint });
}

/** Whether this id is a person in `people` (unknown platform users are `platform:user`). */
export async function isKnownPerson(app: App, id: string): Promise<boolean> {
  return (await peopleByIds(app.db, [id])).length > 0;
}

export { grantText };
