import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../bot/bot.js';
import { decide, type PermissionRequest, type PersonFacts } from '../../bot/incidents/permissions.js';
import type { Role, Severity } from '../../bot/incidents/policy.js';
import { shippedPolicyFile } from '../../core/paths.js';
import { loadPolicy, parsePolicy, type WarroomPolicy } from '../../core/policy-file.js';
import type { Db } from '../../db/db.js';
import { createDemoApp, createTestApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

/**
 * The role and permission policy as tables: each kind of person × each thing they may ask for →
 * allowed or refused, under the shipped policy/warroom-policy.yaml and under a custom file; and
 * what a wrong policy file gets (an error naming the file and the entry).
 */

/** Kinds of people, as the store describes them (people.roles, rota roles on call now for the system). */
const PEOPLE = {
  /** Not in `people`: a Slack or WeCom user Warroom does not know. */
  stranger: { known: false, peopleRoles: [], onCallRoles: [] },
  /** xieping on Mon 11-23: the rota's incident commander for jzjy, and a duty manager. */
  onCallCommander: { known: true, peopleRoles: ['incident-commander', 'duty-manager'], onCallRoles: ['incident-commander'] },
  /** zhangwei that week: a commander by people.roles, off the rota. */
  offDutyCommander: { known: true, peopleRoles: ['incident-commander', 'duty-manager'], onCallRoles: [] },
  /** songkai: on call for jzjy as ops. */
  onCallOps: { known: true, peopleRoles: ['operations-lead', 'ops'], onCallRoles: ['ops'] },
  /** wangfang: on call as communications lead, and a duty manager. */
  dutyManagerComms: { known: true, peopleRoles: ['communications-lead', 'duty-manager'], onCallRoles: ['communications-lead'] },
  /** yangguang: a manager, on no rota. */
  manager: { known: true, peopleRoles: ['manager'], onCallRoles: [] },
} satisfies Record<string, Omit<PersonFacts, 'id' | 'incidentRoles'>>;
type Kind = keyof typeof PEOPLE;

const person = (kind: Kind, incidentRoles: Role[] = []): PersonFacts => ({ id: kind, ...PEOPLE[kind], incidentRoles });
const verdict = (policy: WarroomPolicy, p: PersonFacts, request: PermissionRequest) => (decide(policy, { person: p, request }).allowed ? 'allowed' : 'refused');

const shipped = loadPolicy(undefined);

/** A stricter house policy: P2 needs the rota, nobody takes over, the scribe is an ops engineer and only the commander moves status. */
const CUSTOM_YAML = `
version: 1
incidents:
  declare:
    P0: [on-call:incident-commander]
    P1: [on-call:incident-commander, role:duty-manager]
    P2: [on-call]
    P3: [known]
  take:
    incident-commander: [on-call:incident-commander]
    communications-lead: [role:communications-lead]
    operations-lead: [role:operations-lead]
    scribe: [role:ops]
  act:
    assign: [incident:incident-commander]
    takeover: []
    severity: [incident:incident-commander]
    status: [incident:incident-commander]
    resolve: [incident:incident-commander]
    update: [incident:communications-lead]
    cause: [incident:incident-commander, incident:operations-lead]
    impact: [incident:scribe, incident:incident-commander]
    note: [known]
    draft: [incident:communications-lead, incident:incident-commander]
`;

describe('incident policy: the shipped default', () => {
  it('is the file the package ships, and reads cleanly', () => {
    expect(shippedPolicyFile).toMatch(/policy[/\\]warroom-policy\.yaml$/);
    expect(Object.keys(shipped)).toEqual(['version', 'incidents', 'approvals', 'approvalsFrom']);
    expect(shipped.approvalsFrom).toBe('file');
  });

  it.each<[Kind, Severity, 'allowed' | 'refused']>([
    ['stranger', 'P0', 'refused'],
    ['stranger', 'P1', 'refused'],
    ['stranger', 'P2', 'refused'],
    ['stranger', 'P3', 'refused'],
    ['onCallCommander', 'P0', 'allowed'],
    ['onCallCommander', 'P1', 'allowed'],
    ['offDutyCommander', 'P0', 'allowed'],
    ['onCallOps', 'P0', 'allowed'],
    ['onCallOps', 'P1', 'allowed'],
    ['onCallOps', 'P2', 'allowed'],
    ['dutyManagerComms', 'P1', 'allowed'],
    ['manager', 'P0', 'refused'],
    ['manager', 'P1', 'refused'],
    ['manager', 'P2', 'allowed'],
    ['manager', 'P3', 'allowed'],
  ])('declare: %s, %s → %s', (kind, severity, expected) => {
    expect(verdict(shipped, person(kind), { kind: 'declare', severity })).toBe(expected);
  });

  type Act = Extract<PermissionRequest, { kind: 'act' }>['action'];
  const ACTS: Act[] = ['severity', 'status', 'resolve', 'update', 'cause', 'impact', 'note', 'draft'];
  /** Who holds which incident role (any kind of known person may hold any; the role decides). */
  const EXPECTED_ACTS: Record<Role | 'none' | 'stranger', Act[]> = {
    'incident-commander': ['severity', 'status', 'resolve', 'update', 'cause', 'impact', 'note', 'draft'],
    'operations-lead': ['status', 'cause', 'impact', 'note', 'draft'],
    'communications-lead': ['update', 'impact', 'note', 'draft'],
    // The scribe records; it does not command.
    scribe: ['cause', 'impact', 'note', 'draft'],
    none: ['impact', 'note', 'draft'],
    stranger: [],
  };
  it.each(Object.entries(EXPECTED_ACTS).flatMap(([holder, allowedActs]) => ACTS.map((act) => [holder, act, allowedActs.includes(act) ? 'allowed' : 'refused'] as const)))(
    'act: %s, %s → %s',
    (holder, act, expected) => {
      const p = holder === 'stranger' ? person('stranger', ['scribe']) : person('manager', holder === 'none' ? [] : [holder as Role]);
      expect(verdict(shipped, p, { kind: 'act', action: act })).toBe(expected);
    },
  );

  it.each<[string, PersonFacts, Role, 'self' | 'other', 'vacant' | 'held' | 'mine', 'allowed' | 'refused']>([
    // Vacant roles, for oneself: the policy's take list.
    ['stranger', person('stranger'), 'scribe', 'self', 'vacant', 'refused'],
    ['stranger', person('stranger'), 'incident-commander', 'self', 'vacant', 'refused'],
    ['manager', person('manager'), 'scribe', 'self', 'vacant', 'allowed'],
    ['manager', person('manager'), 'incident-commander', 'self', 'vacant', 'refused'],
    ['manager', person('manager'), 'operations-lead', 'self', 'vacant', 'refused'],
    ['on-call commander', person('onCallCommander'), 'incident-commander', 'self', 'vacant', 'allowed'],
    ['off-duty commander', person('offDutyCommander'), 'incident-commander', 'self', 'vacant', 'allowed'],
    ['on-call ops', person('onCallOps'), 'operations-lead', 'self', 'vacant', 'allowed'],
    ['on-call ops', person('onCallOps'), 'incident-commander', 'self', 'vacant', 'refused'],
    ['on-call comms', person('dutyManagerComms'), 'communications-lead', 'self', 'vacant', 'allowed'],
    // Held roles: the commander moves them; the scribe's seat does not.
    ['scribe', person('manager', ['scribe']), 'incident-commander', 'self', 'held', 'refused'],
    ['scribe who is a commander elsewhere', person('offDutyCommander', ['scribe']), 'operations-lead', 'self', 'held', 'refused'],
    ['stranger as scribe', person('stranger', ['scribe']), 'incident-commander', 'self', 'held', 'refused'],
    ['ops lead', person('onCallOps', ['operations-lead']), 'incident-commander', 'self', 'held', 'refused'],
    // A duty manager may take over (act.takeover) a held role they qualify for.
    ['duty manager (commander by people.roles)', person('offDutyCommander'), 'incident-commander', 'self', 'held', 'allowed'],
    ['duty manager (communications)', person('dutyManagerComms'), 'incident-commander', 'self', 'held', 'refused'],
    ['commander', person('onCallCommander', ['incident-commander']), 'operations-lead', 'self', 'held', 'allowed'],
    ['commander', person('onCallCommander', ['incident-commander']), 'incident-commander', 'self', 'mine', 'allowed'],
    // Giving a role to someone else: the commander only.
    ['commander', person('manager', ['incident-commander']), 'scribe', 'other', 'vacant', 'allowed'],
    ['commander', person('manager', ['incident-commander']), 'operations-lead', 'other', 'held', 'allowed'],
    ['scribe', person('onCallCommander', ['scribe']), 'operations-lead', 'other', 'held', 'refused'],
    ['scribe', person('manager', ['scribe']), 'scribe', 'other', 'mine', 'refused'],
    ['ops lead', person('onCallOps', ['operations-lead']), 'scribe', 'other', 'vacant', 'refused'],
    ['stranger', person('stranger'), 'scribe', 'other', 'vacant', 'refused'],
  ])('role: %s, %s for %s (%s) → %s', (_who, p, role, forWhom, state, expected) => {
    const heldBy = state === 'vacant' ? null : state === 'mine' ? p.id : 'someone-else';
    expect(verdict(shipped, p, { kind: 'role', role, forSelf: forWhom === 'self', heldBy })).toBe(expected);
  });

  it('says which rule decided and who would qualify', () => {
    expect(decide(shipped, { person: person('manager', ['scribe']), request: { kind: 'act', action: 'resolve' } })).toEqual({
      allowed: false,
      reason: 'not-permitted',
      rule: 'incidents.act.resolve',
      need: [{ kind: 'incident', role: 'incident-commander' }],
    });
    expect(decide(shipped, { person: person('stranger'), request: { kind: 'declare', severity: 'P3' } })).toMatchObject({ allowed: false, reason: 'unknown-person' });
    expect(decide(shipped, { person: person('manager', ['scribe']), request: { kind: 'role', role: 'incident-commander', forSelf: true, heldBy: 'xieping' } })).toMatchObject({
      allowed: false,
      reason: 'role-held',
      rule: 'incidents.act.takeover',
    });
  });
});

describe('incident policy: a custom file', () => {
  let custom: WarroomPolicy;
  let file: string;
  beforeAll(() => {
    file = join(mkdtempSync(join(tmpdir(), 'warroom-policy-')), 'house.yaml');
    writeFileSync(file, CUSTOM_YAML);
    custom = loadPolicy(file);
  });

  it.each<[Kind, Severity, 'allowed' | 'refused']>([
    ['onCallCommander', 'P0', 'allowed'],
    ['offDutyCommander', 'P0', 'refused'],
    ['offDutyCommander', 'P1', 'allowed'],
    ['onCallOps', 'P0', 'refused'],
    ['onCallOps', 'P1', 'refused'],
    ['onCallOps', 'P2', 'allowed'],
    ['manager', 'P2', 'refused'],
    ['manager', 'P3', 'allowed'],
    ['stranger', 'P3', 'refused'],
  ])('declare: %s, %s → %s', (kind, severity, expected) => {
    expect(verdict(custom, person(kind), { kind: 'declare', severity })).toBe(expected);
  });

  it.each<[string, PersonFacts, PermissionRequest, 'allowed' | 'refused']>([
    ['manager takes vacant scribe', person('manager'), { kind: 'role', role: 'scribe', forSelf: true, heldBy: null }, 'refused'],
    ['ops takes vacant scribe', person('onCallOps'), { kind: 'role', role: 'scribe', forSelf: true, heldBy: null }, 'allowed'],
    ['off-duty commander takes vacant command', person('offDutyCommander'), { kind: 'role', role: 'incident-commander', forSelf: true, heldBy: null }, 'refused'],
    ['duty manager takes over held command', person('offDutyCommander'), { kind: 'role', role: 'incident-commander', forSelf: true, heldBy: 'xieping' }, 'refused'],
    ['ops lead moves status', person('onCallOps', ['operations-lead']), { kind: 'act', action: 'status' }, 'refused'],
    ['commander moves status', person('manager', ['incident-commander']), { kind: 'act', action: 'status' }, 'allowed'],
    ['commander posts an update', person('manager', ['incident-commander']), { kind: 'act', action: 'update' }, 'refused'],
    ['scribe records impact', person('manager', ['scribe']), { kind: 'act', action: 'impact' }, 'allowed'],
    ['ops lead records impact', person('onCallOps', ['operations-lead']), { kind: 'act', action: 'impact' }, 'refused'],
    ['anyone known notes', person('manager'), { kind: 'act', action: 'note' }, 'allowed'],
    ['stranger notes', person('stranger'), { kind: 'act', action: 'note' }, 'refused'],
  ])('%s → %s', (_what, p, request, expected) => {
    expect(verdict(custom, p, request)).toBe(expected);
  });

  describe('through the bot (WARROOM_POLICY_FILE)', () => {
    let db: Db;
    let bot: Bot;
    beforeAll(async () => {
      db = await createTestPglite();
      bot = createBot(await createDemoApp(db, { now: DEMO_NOW, runbooks: false, env: { WARROOM_POLICY_FILE: file } }));
    });
    afterAll(async () => db?.close());
    const command = (who: string, text: string) =>
      bot.handle({ kind: 'command', command: 'incident', platform: 'cli', userId: who, room: { platform: 'cli', id: `dm-${who}`, kind: 'dm' }, text, at: DEMO_NOW });

    it('refuses a P2 from a manager on no rota, names who may, and lets the on-call ops engineer declare it', async () => {
      const refused = (await command('yangguang', 'declare P2 jzjy reports are slow')).map((r) => r.message.text).join('\n');
      expect(refused).toContain('Only whoever is on call for jzjy (or what it depends on) can declare a P2 incident (jzjy).');
      expect(refused).toMatch(/P3/); // what they may declare instead
      expect(await db.query("SELECT 1 FROM incidents WHERE declared_by = 'yangguang'")).toEqual([]);
      expect(await db.query("SELECT action, target FROM audit_log WHERE actor = 'yangguang' AND outcome = 'denied'")).toEqual([{ action: 'incident.declare', target: 'jzjy' }]);
      await command('songkai', 'declare P2 jzjy reports are slow');
      expect((await db.query("SELECT severity FROM incidents WHERE declared_by = 'songkai'"))).toEqual([{ severity: 'P2' }]);
    });
  });
});

describe('incident policy: a wrong file is refused, naming the file and the entry', () => {
  const base = parsePolicy(CUSTOM_YAML, 'custom.yaml');
  const dump = (p: unknown) => JSON.stringify(p);
  const raw = () => JSON.parse(dump({ version: 1, approvals: { expire_after_minutes: 30, approvers_needed: { write: 1, high: 2 }, extra_approver_in_trading_sessions: ['failover_switch'], request: { default: ['known'] }, approve: { default: ['role:duty-manager'] } }, incidents: { declare: { P0: ['on-call:incident-commander'], P1: ['role:duty-manager'], P2: ['on-call'], P3: ['known'] }, take: { 'incident-commander': ['on-call:incident-commander'], 'communications-lead': ['role:communications-lead'], 'operations-lead': ['role:operations-lead'], scribe: ['known'] }, act: { assign: ['incident:incident-commander'], takeover: [], severity: ['incident:incident-commander'], status: ['incident:incident-commander'], resolve: ['incident:incident-commander'], update: ['incident:communications-lead'], cause: ['incident:operations-lead'], impact: ['known'], note: ['known'], draft: ['known'] } } })) as Record<string, any>;

  it('a file written before approved actions keeps working: the shipped approval rules apply, and it says so', () => {
    expect(base.approvalsFrom).toBe('shipped');
    expect(base.approvals).toEqual(shipped.approvals);
    expect(parsePolicy(dump(raw()), 'p.json').approvalsFrom).toBe('file');
  });

  it('reads JSON as well as YAML', () => {
    expect(parsePolicy(dump(raw()), 'p.json').incidents.take.scribe).toEqual([{ kind: 'known' }]);
  });

  it.each<[string, (p: Record<string, any>) => unknown, RegExp]>([
    ['a section this version does not know', (p) => ({ ...p, approval: { high: 2 } }), /\(top level\): unknown key "approval"; this version of Warroom reads the sections version, incidents, approvals/],
    ['high-risk actions with one approver', (p) => ({ ...p, approvals: { ...p.approvals, approvers_needed: { write: 1, high: 1 } } }), /approvals\.approvers_needed\.high: high-risk actions need at least 2 approvers/],
    ['approvers without a default', (p) => ({ ...p, approvals: { ...raw().approvals, approve: { failover_switch: ['role:duty-manager'] } } }), /approvals\.approve: needs a `default` entry/],
    ['a misspelt grant', (p) => ((p.incidents.act.resolve = ['incident:incident-commander', 'rol:duty-manager']), p), /incidents\.act\.resolve\[1\]: "rol:duty-manager" is not a grant; write known, on-call/],
    ['an incident role that does not exist', (p) => ((p.incidents.act.severity = ['incident:captain']), p), /incidents\.act\.severity\[0\]: "incident:captain": the incident role must be one of incident-commander/],
    ['a missing entry', (p) => (delete p.incidents.take.scribe, p), /incidents\.take\.scribe: is missing/],
    ['an unknown act', (p) => ((p.incidents.act.close = ['known']), p), /incidents\.act: unknown key "close"/],
    ['an unknown severity', (p) => ((p.incidents.declare.P4 = ['known']), p), /incidents\.declare: unknown key "P4"/],
    ['a grant that is not a list', (p) => ((p.incidents.declare.P3 = 'known'), p), /incidents\.declare\.P3: Expected array, received string/],
    ['the wrong version', (p) => ((p.version = 2), p), /version: must be 1/],
    ['no incidents section', (p) => (delete p.incidents, p), /incidents: is missing/],
  ])('%s', (_what, mutate, message) => {
    expect(() => parsePolicy(dump(mutate(raw())), '/etc/warroom/policy.json')).toThrow(message);
    expect(() => parsePolicy(dump(mutate(raw())), '/etc/warroom/policy.json')).toThrow(/Policy file \/etc\/warroom\/policy\.json is invalid/);
  });

  it('says when the file is not YAML at all, or not there', async () => {
    expect(() => parsePolicy('incidents: [unclosed', 'bad.yaml')).toThrow(/Policy file bad\.yaml is not valid YAML/);
    expect(() => parsePolicy('- just a list', 'list.yaml')).toThrow(/must be a mapping with the sections version, incidents, approvals/);
    const db = await createTestPglite();
    try {
      await expect(createTestApp(db, { env: { WARROOM_POLICY_FILE: '/nonexistent/policy.yaml' } })).rejects.toThrow(/Cannot read the policy file \/nonexistent\/policy\.yaml: ENOENT/);
    } finally {
      await db.close();
    }
  });
});
