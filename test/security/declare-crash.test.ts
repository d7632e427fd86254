import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import type { Db } from '../../db/db.js';
import { createPgliteDb } from '../../db/pglite.js';
import { createTestPostgres, runPostgres } from '../helpers/db.js';
import { postSigned, slashCommandBody, startSlackStandin, type SlackStandin } from '../helpers/slack-standin.js';

/**
 * Finding 4: a crash (SIGKILL) in the middle of a declaration, while the Slack API is slow, must not
 * leave a half-made incident. Warroom runs as a real process (`warroom start` through tsx) against
 * the Slack stand-in; it is killed once the stand-in has received the call named by the case (the
 * room being created, or the card being posted), then started again. Afterwards: one channel for
 * the incident, one card in it and pinned, everyone in it, the incident's room recorded, no channel
 * without its incident and no incident without its channel. On PostgreSQL and on PGlite.
 */

const cli = join(packageRoot, 'cli', 'main.ts');
const SECRET = 'crash-signing-secret-0123456789abcdef';
const STATUS = 'C0STATUS01';
const GENERAL = 'C0GENERAL';

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: packageRoot,
    env: { ...process.env, REDIS_URL: '', LOG_LEVEL: 'info', WARROOM_WEB_CHAT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs: number, proc?: Proc): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${proc ? `\n--- process output ---\n${proc.out().slice(-4000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const stores = [
  { name: 'pglite' as const, enabled: true },
  { name: 'postgres' as const, enabled: runPostgres },
];
const killPoints = [
  // The channel is being created (it appears after the process is gone): nobody is in it yet.
  { at: 'conversations.create' },
  // The card is on its way into the new channel: it lands after the process is gone.
  { at: 'chat.postMessage to the incident channel' },
];

describe.each(stores)('SIGKILL during a Slack declaration, then a restart ($name)', { timeout: 300_000 }, (store) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it.skipIf(!store.enabled).each(killPoints)('killed at $at: one channel, one pinned card, everyone invited, nothing orphaned', async ({ at }) => {
    // Its own workspace: each case's store starts at the same incident id.
    const standin: SlackStandin = await startSlackStandin({ latencyMs: 5 });
    cleanups.push(() => standin.close());
    standin.addChannel({ id: GENERAL, name: 'general' });
    standin.addChannel({ id: STATUS, name: 'incident-status' });
    const home = mkdtempSync(join(tmpdir(), 'warroom-crash-'));
    let databaseUrl = '';
    if (store.name === 'postgres') {
      const pgdb = await createTestPostgres();
      databaseUrl = pgdb.url;
      await pgdb.db.close();
      cleanups.push(() => pgdb.drop());
    }
    const env: NodeJS.ProcessEnv = {
      WARROOM_HOME: home,
      DATABASE_URL: databaseUrl,
      WARROOM_PORT: '0',
      SLACK_BOT_TOKEN: standin.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: standin.url,
      SLACK_STATUS_CHANNEL: STATUS,
    };
    const demo = run(['demo'], env);
    expect(await demo.exited, demo.out()).toBe(0);

    const channelsBefore = new Set(standin.channels.keys());
    const callsBefore = standin.calls.length;
    const newCalls = () => standin.calls.slice(callsBefore);
    const incidentChannels = () => [...standin.channels.values()].filter((c) => !channelsBefore.has(c.id) && !c.isIm && /^inc-\d{8}-\d{3}-/.test(c.name));

    // ---- first run: declare, and die in the middle ----
    const first = run(['start'], env);
    const port = await until('the first server to listen', () => /Warroom listening on http:\/\/[\d.]+:(\d+)/.exec(first.out())?.[1], 120_000, first);
    const slow = at === 'conversations.create' ? 'conversations.create' : 'chat.postMessage';
    standin.setLatency(slow, 2500);
    const declarer = 'U04UEQD539'; // songkai in the demo
    const r = await postSigned(
      `http://127.0.0.1:${port}/slack/events`,
      SECRET,
      slashCommandBody({ command: '/incident', text: 'declare P1 集中交易 开盘委托大量失败', userId: declarer, userName: 'songkai', channelId: GENERAL }),
    );
    expect(r.status).toBe(200);
    if (at === 'conversations.create') {
      await until('conversations.create to arrive', () => newCalls().some((c) => c.method === 'conversations.create'), 60_000, first);
    } else {
      await until(
        'the card to be on its way',
        () => {
          const created = incidentChannels()[0];
          return created && newCalls().some((c) => c.method === 'chat.postMessage' && c.body.channel === created.id);
        },
        60_000,
        first,
      );
    }
    first.child.kill('SIGKILL');
    await first.exited;
    // What the dead process had asked for still lands (the stand-in answers after its delay).
    await new Promise((r) => setTimeout(r, 2800));
    standin.setLatency(slow, 5);
    expect(incidentChannels(), 'the crash happened after the channel was asked for').toHaveLength(1);

    // ---- second run: it finishes the declaration by itself ----
    const second = run(['start'], env);
    cleanups.push(async () => {
      if (second.child.exitCode === null) second.child.kill('SIGKILL');
    });
    await until('the second server to listen', () => /Warroom listening/.test(second.out()), 120_000, second);
    const channel = incidentChannels()[0]!;
    await until('the card to be pinned', () => channel.pins.length > 0 && standin.channels.get(STATUS)!.messages.length > 0, 60_000, second);
    await until('the resumption to be logged', () => /declaration resumed and finished/.test(second.out()), 30_000, second);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // Exactly one channel for the incident, with exactly one card, pinned.
    expect(incidentChannels()).toHaveLength(1);
    expect(standin.callsOf('conversations.create').filter((c) => c.status === 200 && !c.error)).toHaveLength(1);
    const botMessages = channel.messages.filter((m) => m.bot_id);
    const cards = botMessages.filter((m) => /INC-\d{8}-\d{3}/.test(m.text));
    expect(cards, JSON.stringify(botMessages.map((m) => m.text))).toHaveLength(1);
    expect(channel.pins).toEqual([cards[0]!.ts]);
    // One announcement in the status channel.
    expect(standin.channels.get(STATUS)!.messages.filter((m) => m.bot_id)).toHaveLength(1);

    // The store: one incident, its room recorded, everyone holding a role (and the declarer) in the channel.
    const db: { db: Db; close(): Promise<void> } =
      store.name === 'postgres'
        ? await (async () => {
            const { createPostgresDb } = await import('../../db/postgres.js');
            const d = createPostgresDb(databaseUrl, { max: 2 });
            return { db: d, close: () => d.close() };
          })()
        : await (async () => {
            const d = await createPgliteDb(join(home, 'pgdata'));
            return { db: d, close: () => d.close() };
          })();
    try {
      const incidents = await db.db.query<{ id: string; room: { platform: string; id: string; name?: string } | null }>("SELECT id, room FROM incidents WHERE declared_by = 'songkai' AND status <> 'resolved'");
      expect(incidents).toHaveLength(1);
      const incident = incidents[0]!;
      expect(incident.room).toEqual({ platform: 'slack', id: channel.id, name: channel.name });
      expect(channel.name).toBe(`${incident.id.toLowerCase()}-jzjy`);
      const expected = await db.db.query<{ slack: string }>(
        `SELECT DISTINCT p.slack FROM people p
          WHERE p.slack IS NOT NULL AND (p.id = 'songkai' OR p.id IN (SELECT person FROM incident_roles WHERE incident_id = $1))`,
        [incident.id],
      );
      expect(expected.length).toBeGreaterThan(0);
      for (const { slack } of expected) expect([...channel.members], `${slack} is in ${channel.name}`).toContain(slack);
      // Nothing orphaned: every incident channel belongs to an incident, every open incident has its room.
      const rooms = await db.db.query<{ id: string }>("SELECT room ->> 'id' AS id FROM incidents WHERE room IS NOT NULL");
      for (const c of incidentChannels()) expect(rooms.map((x) => x.id)).toContain(c.id);
      expect(await db.db.query("SELECT id FROM incidents WHERE room IS NULL AND status <> 'resolved' AND declared_by = 'songkai'")).toEqual([]);
      const cardsRecorded = await db.db.query<{ message_id: string }>("SELECT message_id FROM incident_messages WHERE incident_id = $1 AND kind = 'card'", [incident.id]);
      expect(cardsRecorded.map((x) => x.message_id)).toEqual([cards[0]!.ts]);
    } finally {
      await db.close();
    }
  });
});
