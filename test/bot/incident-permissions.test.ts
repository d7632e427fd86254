import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../bot/bot.js';
import type { BotReply } from '../../bot/platforms/platform.js';
import type { Db, Row } from '../../db/db.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';

/**
 * Who may do what to an incident under the shipped policy (policy/warroom-policy.yaml), row by
 * row, through the bot's own entry point (the commands people type) on the embedded database with
 * the demo data. Each row declares its own incident (P1 集中交易 at 09:40: xieping commands,
 * wangfang communicates, lihua operates, from the rota), has the commander hand the scribe role to
 * sunqiang unless the row needs it vacant, and then lets one person act. Allowed: the change is
 * stored. Refused: only the actor hears why, the refusal is audited, and nothing changed. The
 * scribe records; it does not command.
 */

/** Who holds what in every row's incident; `none` (a manager) holds no role in it; `stranger` is not in people. */
const HOLDER = { commander: 'xieping', comms: 'wangfang', ops: 'lihua', scribe: 'sunqiang', none: 'yangguang', stranger: 'stranger' } as const;
type Holder = keyof typeof HOLDER;
/** The actor id Warroom gives each (an unknown terminal user is `cli:<name>`). */
const ACTOR_ID = (h: Holder) => (h === 'stranger' ? 'cli:stranger' : HOLDER[h]);

interface Action {
  /** The command, with {id} for the incident. */
  command: string;
  /** Set up with the scribe role vacant (the commander hands it out otherwise). */
  scribeVacant?: boolean;
  /** The gate a refusal is audited under, and the refusal's words (unless the row says otherwise). */
  gate: string;
  refusal: string;
  /** Whether the command's effect is in the store. */
  done(db: Db, id: string, actor: string): Promise<boolean>;
}

const one = async <T extends Row>(db: Db, sql: string, id: string) => (await db.query<T>(sql, [id]))[0]!;

/** Whether `person` holds `role` in the incident. */
async function holdsRole(db: Db, id: string, role: string, person: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM incident_roles WHERE incident_id = $1 AND role = $2 AND person = $3', [id, role, person])).length === 1;
}

const ACTIONS: Record<string, Action> = {
  'change severity': {
    command: 'severity P0 {id}',
    gate: 'severity',
    refusal: 'Only the Incident commander can change the severity',
    done: async (db, id) => (await one<{ severity: string }>(db, 'SELECT severity FROM incidents WHERE id = $1', id)).severity === 'P0',
  },
  resolve: {
    command: 'resolve {id}',
    gate: 'resolve',
    refusal: 'Only the Incident commander can resolve the incident',
    done: async (db, id) => (await one<{ status: string }>(db, 'SELECT status FROM incidents WHERE id = $1', id)).status === 'resolved',
  },
  'move status': {
    command: 'status identified {id}',
    gate: 'status',
    refusal: 'Only the Incident commander or the Operations lead can change the status',
    done: async (db, id) => (await one<{ status: string }>(db, 'SELECT status FROM incidents WHERE id = $1', id)).status === 'identified',
  },
  'post update': {
    command: 'update {id} orders are failing on the mobile channel',
    gate: 'update',
    refusal: 'Only the Incident commander or the Communications lead can post a status update',
    done: async (db, id) => (await db.query("SELECT 1 FROM incident_updates WHERE incident_id = $1 AND status = 'posted'", [id])).length === 1,
  },
  'record cause': {
    command: 'cause {id} connection pool limit lowered',
    gate: 'cause',
    refusal: 'Only the Incident commander or the Operations lead or the Scribe can record the root cause',
    done: async (db, id) => (await one<{ root_cause: string | null }>(db, 'SELECT root_cause FROM incidents WHERE id = $1', id)).root_cause === 'connection pool limit lowered',
  },
  'take vacant scribe': {
    command: 'role scribe me {id}',
    scribeVacant: true,
    gate: 'role',
    refusal: 'You (cli:stranger) are not known to Warroom, so you cannot take the Scribe role',
    done: (db, id, actor) => holdsRole(db, id, 'scribe', actor),
  },
  'take held ops': {
    command: 'role ops me {id}',
    gate: 'role',
    refusal: 'The Operations lead role is held by 李华 (lihua); only the incident commander can move it',
    done: (db, id, actor) => holdsRole(db, id, 'operations-lead', actor),
  },
  'give held ops to zhaolei': {
    command: 'role ops zhaolei {id}',
    gate: 'assign',
    refusal: 'Only the Incident commander can assign roles to others',
    done: (db, id) => holdsRole(db, id, 'operations-lead', 'zhaolei'),
  },
  'give vacant scribe to zhaolei': {
    command: 'role scribe zhaolei {id}',
    scribeVacant: true,
    gate: 'assign',
    refusal: 'Only the Incident commander can assign roles to others',
    done: (db, id) => holdsRole(db, id, 'scribe', 'zhaolei'),
  },
};

describe('incident permission gates', () => {
  let db: Db;
  let bot: Bot;

  beforeAll(async () => {
    db = await createTestPglite();
    // No chat platform: the incident has no room, and commands name it.
    bot = createBot(await createDemoApp(db, { now: DEMO_NOW, runbooks: false }));
  });
  afterAll(async () => db?.close());
  afterEach(async () => closeOpenIncidents(db));

  const command = (person: string, text: string): Promise<BotReply[]> =>
    bot.handle({ kind: 'command', command: 'incident', platform: 'cli', userId: person, room: { platform: 'cli', id: `dm-${person}`, kind: 'dm' }, text, at: DEMO_NOW });

  /** A stranger (not in people) is refused everything with the same words, whatever the action. */
  const STRANGER = (what: string) => `You (cli:stranger) are not known to Warroom, so you cannot ${what}`;
  it.each<[Holder, keyof typeof ACTIONS, 'allowed' | 'refused', string?]>([
    ['commander', 'change severity', 'allowed'],
    ['scribe', 'change severity', 'refused'],
    ['ops', 'change severity', 'refused'],
    ['comms', 'change severity', 'refused'],
    ['none', 'change severity', 'refused'],
    ['stranger', 'change severity', 'refused', STRANGER('change the severity')],

    ['commander', 'resolve', 'allowed'],
    ['scribe', 'resolve', 'refused'],
    ['ops', 'resolve', 'refused'],
    ['comms', 'resolve', 'refused'],
    ['none', 'resolve', 'refused'],
    ['stranger', 'resolve', 'refused', STRANGER('resolve the incident')],

    ['commander', 'move status', 'allowed'],
    ['ops', 'move status', 'allowed'],
    ['scribe', 'move status', 'refused'],
    ['comms', 'move status', 'refused'],
    ['none', 'move status', 'refused'],

    ['comms', 'post update', 'allowed'],
    ['commander', 'post update', 'allowed'],
    ['scribe', 'post update', 'refused'],
    ['ops', 'post update', 'refused'],
    ['none', 'post update', 'refused'],
    ['stranger', 'post update', 'refused', STRANGER('post a status update')],

    ['commander', 'record cause', 'allowed'],
    ['scribe', 'record cause', 'allowed'],
    ['ops', 'record cause', 'allowed'],
    ['comms', 'record cause', 'refused'],
    ['none', 'record cause', 'refused'],

    ['none', 'take vacant scribe', 'allowed'],
    ['comms', 'take vacant scribe', 'allowed'],
    ['ops', 'take vacant scribe', 'allowed'],
    ['stranger', 'take vacant scribe', 'refused'],

    ['commander', 'take held ops', 'allowed'],
    // The scribe (sunqiang, an operations lead elsewhere) cannot take a held role through the scribe's seat.
    ['scribe', 'take held ops', 'refused'],
    // A duty manager may take over a held role (act.takeover), but only one they qualify for.
    ['comms', 'take held ops', 'refused', 'Only the on-call Operations lead of jzjy or people with the Operations lead role can take the Operations lead role'],
    ['none', 'take held ops', 'refused'],
    ['stranger', 'take held ops', 'refused', STRANGER('take the Operations lead role')],

    ['commander', 'give held ops to zhaolei', 'allowed'],
    ['scribe', 'give held ops to zhaolei', 'refused'],
    ['ops', 'give held ops to zhaolei', 'refused'],
    ['comms', 'give held ops to zhaolei', 'refused'],
    ['none', 'give held ops to zhaolei', 'refused'],

    ['commander', 'give vacant scribe to zhaolei', 'allowed'],
    ['comms', 'give vacant scribe to zhaolei', 'refused'],
    ['none', 'give vacant scribe to zhaolei', 'refused'],
    ['stranger', 'give vacant scribe to zhaolei', 'refused', STRANGER('assign roles to others')],
  ])('%s: %s → %s', async (holder, actionName, expected, refusal) => {
    const action = ACTIONS[actionName]!;
    const actor = ACTOR_ID(holder);
    const { id } = await declareForTest(bot);
    const roles = async () => db.query<{ role: string; person: string }>('SELECT role, person FROM incident_roles WHERE incident_id = $1 ORDER BY role', [id]);
    expect(await roles()).toEqual([
      { role: 'communications-lead', person: HOLDER.comms },
      { role: 'incident-commander', person: HOLDER.commander },
      { role: 'operations-lead', person: HOLDER.ops },
    ]);
    if (!action.scribeVacant) {
      expect((await command(HOLDER.commander, `role scribe ${HOLDER.scribe} ${id}`)).map((r) => r.message.text).join('\n')).not.toMatch(/Only/);
      expect(await holdsRole(db, id, 'scribe', HOLDER.scribe)).toBe(true);
    }
    const [incidentBefore] = await db.query('SELECT severity, status, root_cause FROM incidents WHERE id = $1', [id]);
    const rolesBefore = await roles();

    const replies = await command(HOLDER[holder], action.command.replace('{id}', id));
    const text = replies.map((r) => r.message.text).join('\n');
    const denied = await db.query<{ action: string }>("SELECT action FROM audit_log WHERE target = $1 AND actor = $2 AND outcome = 'denied'", [id, actor]);
    const done = action.done(db, id, actor);

    if (expected === 'allowed') {
      expect(text).not.toMatch(/Only the/);
      expect(await done).toBe(true);
      expect(denied).toEqual([]);
    } else {
      expect(replies).toHaveLength(1);
      expect(replies[0]!.private).toBe(true);
      expect(text).toContain(`${refusal ?? action.refusal} (${id}).`);
      expect(text).toMatch(holder === 'stranger' ? /ask an admin to add you to people/i : /commander|on call|policy/i);
      expect(await done).toBe(false);
      expect(denied).toEqual([{ action: `incident.${action.gate}` }]);
      expect((await db.query('SELECT severity, status, root_cause FROM incidents WHERE id = $1', [id]))[0]).toEqual(incidentBefore);
      expect(await roles()).toEqual(rolesBefore);
      expect((await db.query('SELECT 1 FROM incident_updates WHERE incident_id = $1', [id])).length).toBe(0);
    }
  });
});
