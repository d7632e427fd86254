import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { declareIncident, resumeDeclarations } from '../../bot/incidents/declare.js';
import { runIncidentTimers } from '../../bot/incidents/timers.js';
import { unfinishedDeclarations } from '../../bot/incidents/store.js';
import type { ChatPlatform, RoomRef } from '../../bot/platforms/platform.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents } from '../helpers/incident.js';
import { startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';

/**
 * Finding 4, step by step: a declaration that dies at any platform call — before the call, or after
 * the platform did it but before Warroom learned of it — is finished by the resumer into the same
 * state as an uninterrupted one: one channel with everyone in it, one card, pinned, one
 * announcement, the room recorded. A "crash" here freezes the declaration for good at that call
 * (nothing after it runs, as in a dead process); the resumer then runs as a new process would,
 * whose lock the dead one no longer holds.
 */

const SECRET = 'steps-signing-secret-0123456789abcdef';
const STATUS = 'C0STATUS01';

type Point = { call: 'createRoom' | 'post:card' | 'post:announce' | 'pin'; when: 'before' | 'after' };
const points: Point[] = (['createRoom', 'post:card', 'post:announce', 'pin'] as const).flatMap((call) => (['before', 'after'] as const).map((when) => ({ call, when })));

/** The platform, dying (never answering again) at one call, before or after making it. */
function dyingAt(platform: ChatPlatform, point: Point, died: () => void): ChatPlatform {
  const hang = <T>(): Promise<T> => {
    died();
    return new Promise<T>(() => {});
  };
  const at = async <T>(call: () => Promise<T>): Promise<T> => {
    if (point.when === 'before') return hang();
    await call();
    return hang();
  };
  const status = platform.statusRoom()?.id;
  return {
    ...platform,
    createRoom: (spec) => (point.call === 'createRoom' ? at(() => platform.createRoom(spec)) : platform.createRoom(spec)),
    post: (room: RoomRef, message, options) => {
      const which = room.id === status ? 'post:announce' : 'post:card';
      return point.call === which ? at(() => platform.post(room, message, options)) : platform.post(room, message, options);
    },
    pin: (ref) => (point.call === 'pin' ? at(() => platform.pin(ref)) : platform.pin(ref)),
  };
}

describe('a declaration killed at any step is resumed into one room and one card (Slack stand-in)', () => {
  let db: Db;
  let app: App;
  let standin: SlackStandin;
  let warroom: RunningWarroom;

  beforeAll(async () => {
    standin = await startSlackStandin({ latencyMs: 2 });
    standin.addChannel({ id: 'C0GENERAL', name: 'general' });
    standin.addChannel({ id: STATUS, name: 'incident-status' });
    db = await createTestPglite();
    app = await createDemoApp(db, {
      env: { SLACK_BOT_TOKEN: standin.token, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: standin.url, SLACK_STATUS_CHANNEL: STATUS },
      clock: () => DEMO_NOW,
      runbooks: false,
    });
    warroom = await startWarroom(app, { port: 0, timers: false });
  });
  afterAll(async () => {
    await warroom?.close();
    await standin?.close();
    await db?.close();
  });

  it.each(points)('dies $when $call', async (point) => {
    const slack = warroom.bot.platforms.get('slack')!;
    const channelsBefore = new Set(standin.channels.keys());
    const statusBefore = standin.channels.get(STATUS)!.messages.length;
    let died!: () => void;
    const dead = new Promise<void>((r) => (died = r));
    void declareIncident(app, { platform: dyingAt(slack, point, died), severity: 'P1', system: 'jzjy', title: '开盘委托大量失败', actor: 'songkai', source: 'command', lang: 'zh' });
    await dead;
    // Whatever else was already under way when it died gets a moment to land, as on the platform.
    await new Promise((r) => setTimeout(r, 200));
    const id = (await db.query<{ id: string }>("SELECT incident_id AS id FROM incident_declarations WHERE done_at IS NULL"))[0]?.id;
    expect(id).toMatch(/^INC-20261123-\d{3}$/);

    // A new process: the dead one's lock went with it.
    const deps = { app: { ...app, db: { ...db, tryLock: async () => async () => {} } }, platforms: warroom.bot.platforms };
    expect(await resumeDeclarations(deps)).toEqual([id]);
    // Resuming again finds nothing to do.
    expect(await resumeDeclarations(deps)).toEqual([]);

    const made = [...standin.channels.values()].filter((c) => !channelsBefore.has(c.id) && !c.isIm);
    expect(made.map((c) => c.name)).toEqual([`${id!.toLowerCase()}-jzjy`]);
    const channel = made[0]!;
    const expected = await db.query<{ slack: string }>(
      `SELECT DISTINCT p.slack FROM people p WHERE p.slack IS NOT NULL AND (p.id = 'songkai' OR p.id IN (SELECT person FROM incident_roles WHERE incident_id = $1))`,
      [id],
    );
    for (const { slack: u } of expected) expect([...channel.members]).toContain(u);
    expect(channel.topic).toContain('开盘委托大量失败');
    const cards = channel.messages.filter((m) => m.bot_id && m.text.includes(id!));
    expect(cards).toHaveLength(1);
    expect(channel.pins).toEqual([cards[0]!.ts]);
    const announcements = standin.channels.get(STATUS)!.messages.slice(statusBefore).filter((m) => m.bot_id);
    expect(announcements).toHaveLength(1);

    const [incident] = await db.query<{ room: unknown }>('SELECT room FROM incidents WHERE id = $1', [id]);
    expect(incident!.room).toEqual({ platform: 'slack', id: channel.id, name: channel.name });
    const recorded = await db.query<{ kind: string; message_id: string }>('SELECT kind, message_id FROM incident_messages WHERE incident_id = $1 ORDER BY kind', [id]);
    expect(recorded).toEqual([
      { kind: 'announcement', message_id: announcements[0]!.ts },
      { kind: 'card', message_id: cards[0]!.ts },
    ]);
    const timeline = await db.query<{ kind: string }>("SELECT kind FROM incident_timeline WHERE incident_id = $1 AND kind IN ('room', 'card') ORDER BY id", [id]);
    expect(timeline.map((t) => t.kind)).toEqual(['room', 'card']);
    await closeOpenIncidents(db);
  });

  it('a declaration that keeps failing does not starve a newer one, and only connected platforms are asked to finish theirs', async () => {
    const slack = warroom.bot.platforms.get('slack')!;
    const failing = async (title: string) => {
      standin.failNext('conversations.create', 'fatal_error');
      return (await declareIncident(app, { platform: slack, severity: 'P3', system: 'jzjy', title, actor: 'songkai', source: 'command', lang: 'zh' })).incident.id;
    };
    const stuck = await failing('一直失败的申报');
    const fresh = await failing('新的申报');
    // The first one has failed many times already (a permission Slack keeps refusing, say).
    await db.query('UPDATE incident_declarations SET attempts = 40 WHERE incident_id = $1', [stuck]);
    expect((await unfinishedDeclarations(db, ['slack'], 1)).map((r) => r.incident_id)).toEqual([fresh]);
    expect(await unfinishedDeclarations(db, ['wecom'])).toEqual([]);
    expect((await runIncidentTimers(warroom.bot)).resumed).toEqual([fresh, stuck]);
    await closeOpenIncidents(db);
  });

  it('the timers finish a declaration whose chat API failed, and a declaration in progress elsewhere is left alone', async () => {
    const slack = warroom.bot.platforms.get('slack')!;
    standin.failNext('conversations.create', 'fatal_error');
    const r = await declareIncident(app, { platform: slack, severity: 'P2', system: 'jzjy', title: '委托慢', actor: 'songkai', source: 'command', lang: 'zh' });
    expect(r.room).toBeUndefined();
    expect(r.warnings.join('\n')).toMatch(/会自动重试/);
    const id = r.incident.id;
    const [pending] = await db.query<{ attempts: number; last_error: string }>('SELECT attempts, last_error FROM incident_declarations WHERE incident_id = $1', [id]);
    expect(pending).toMatchObject({ attempts: 1 });
    expect(pending!.last_error).toMatch(/fatal_error/);

    // Held by a declaration still running (here, or in another process): the timers leave it alone.
    const release = (await db.tryLock(`warroom:declare:${id}`))!;
    expect((await runIncidentTimers(warroom.bot)).resumed).toEqual([]);
    await release();
    expect((await runIncidentTimers(warroom.bot)).resumed).toEqual([id]);
    const [row] = await db.query<{ room: { id: string } }>('SELECT room FROM incidents WHERE id = $1', [id]);
    expect(standin.channels.get(row!.room.id)?.pins).toHaveLength(1);
    await closeOpenIncidents(db);
  });
});
