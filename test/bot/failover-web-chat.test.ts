import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { verifyAuditChain } from '../../db/audit.js';
import { auditAnchorsPath } from '../../db/audit-anchors.js';
import type { Db } from '../../db/db.js';
import type { App } from '../../tools/services.js';
import { getAction, listActions } from '../../workers/action-store.js';
import { postmortemOf } from '../../bot/incidents/postmortem.js';
import { getIncident } from '../../bot/incidents/store.js';
import { createDemoApp } from '../helpers/app.js';
import { behindTheTriggers } from '../helpers/audit.js';
import { createTestPglite } from '../helpers/db.js';
import { signIn, type WebClient } from '../helpers/web-session.js';

type Msg = { id: number | string; author: string | null; message: { title?: string; text: string; fields?: Array<{ label: string; value: string }>; sections?: Array<{ title?: string; lines: string[] }>; context?: string[]; buttons?: Array<{ actionId: string; value: string }> } };

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/**
 * The "done when", as a newcomer does it in the web chat on the demo data: an incident on
 * 中登报盘, a failover of its demo pool requested in the incident's room, one approver is not enough
 * for a high-risk action, a second different one is, the switch runs with its progress on the card,
 * and it ends on the timeline and in the postmortem; the audit log verifies, and after one row is
 * edited in the database, verify names that row.
 */
describe('failover from the web chat, end to end (demo pool, simulated driver)', () => {
  let db: Db;
  let app: App;
  let home: string;
  let warroom: RunningWarroom;
  const clients = new Map<string, WebClient>();

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'warroom-failover-'));
    db = await createTestPglite();
    app = await createDemoApp(db, { runbooks: false, env: { WARROOM_HOME: home, WARROOM_WEB_CHAT: 'on' } });
    warroom = await startWarroom(app, { port: 0, timers: false });
  });
  afterAll(async () => {
    await warroom?.close();
    await db?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const as = async (person: string): Promise<WebClient> => {
    let c = clients.get(person);
    if (!c) {
      c = await signIn(warroom.baseUrl, async () => ({ url: (await warroom.signInLink!()).url }), person);
      clients.set(person, c);
    }
    return c;
  };
  const messages = async (person: string, room: string): Promise<Msg[]> => ((await (await as(person)).get('/chat/api/messages', { room })).body as { messages: Msg[] }).messages;
  const send = async (person: string, room: string, text: string) => expect((await (await as(person)).post('/chat/api/send', { room, text })).status).toBeLessThan(300);
  const flat = (m: Msg) => JSON.stringify(m.message);

  it('request → one approver is not enough → a second, different one → progress → done, on the timeline and in the postmortem; audit verify names an edited row', async () => {
    // xieping (on-call commander of 中登报盘) declares; the room opens in the web chat.
    const rooms = ((await (await as('xieping')).get('/chat/api/rooms')).body as { rooms: Array<{ id: string; name: string }> }).rooms;
    await send('xieping', rooms[0]!.id, '/incident declare P1 中登报盘 报盘主机 zdbp-01 磁盘只读，报盘延迟');
    const incidentRoom = await waitFor(async () => ((await (await as('xieping')).get('/chat/api/rooms')).body as { rooms: Array<{ id: string; name: string }> }).rooms.find((r) => /inc-\d{8}-\d{3}/i.test(r.name)), 'the incident room');
    const incidentId = /inc-\d{8}-\d{3}/i.exec(incidentRoom.name)![0].toUpperCase();

    // sunqiang (operations lead on call) asks for the switch in the room.
    await send('sunqiang', incidentRoom.id, '/failover switch 中登报盘 主节点磁盘只读');
    const card = await waitFor(async () => (await messages('xieping', incidentRoom.id)).find((m) => /ACT-\d{8}-\d{3}/.test(m.message.title ?? '') && (m.message.buttons?.length ?? 0) > 0), 'the request card');
    const actionId = /ACT-\d{8}-\d{3}/.exec(card.message.title!)![0];
    expect(card.message.title).toContain('中登报盘');
    expect(flat(card)).toMatch(/zdbp-01/);
    expect(flat(card)).toMatch(/zdbp-02/);
    expect(card.message.buttons!.map((b) => [b.actionId, b.value])).toEqual([
      ['action.approve', actionId],
      ['action.reject', actionId],
    ]);
    const press = async (person: string) => expect((await (await as(person)).post('/chat/api/action', { room: incidentRoom.id, messageId: String(card.id), actionId: 'action.approve', value: actionId })).status).toBeLessThan(300);

    await press('xieping');
    await waitFor(async () => (await getAction(db, actionId))!.approvals.length === 1, 'the first approval');
    // One approver is not enough for a high-risk action: nothing has moved.
    expect((await getAction(db, actionId))!.status).toBe('pending');
    const pool = async () => (await app.tools.invoke('failover_status', { pool: 'zd-baopan' }, { db, calendar: app.calendar, logger: app.logger, embedder: app.embedder, actor: 'test', now: app.clock(), timeZone: 'Asia/Shanghai' })).data as { pools: Array<{ primary: string | null }> };
    expect((await pool()).pools[0]!.primary).toBe('zdbp-01');
    const afterOne = await waitFor(async () => (await messages('xieping', incidentRoom.id)).find((m) => m.id === card.id && /1\/2/.test(flat(m))), 'the card to show 1/2');
    expect(afterOne.message.buttons?.map((b) => b.actionId)).toEqual(['action.approve', 'action.reject']);

    // The same person again does not count; a second, different approver does.
    await press('xieping');
    expect((await getAction(db, actionId))!.approvals).toHaveLength(1);
    await press('zhangwei');
    expect(await waitFor(async () => ['succeeded', 'failed'].includes((await getAction(db, actionId))!.status) && (await getAction(db, actionId))!.status, 'the switch to end')).toBe('succeeded');
    expect((await pool()).pools[0]!.primary).toBe('zdbp-02');

    // The card shows the steps it ran and the result, and offers no buttons any more.
    const done = await waitFor(async () => (await messages('xieping', incidentRoom.id)).find((m) => m.id === card.id && /succeeded|已完成/.test(flat(m))), 'the card to show the result');
    expect(flat(done)).toMatch(/✅/);
    expect(flat(done)).toMatch(/zdbp-02/);
    expect(done.message.buttons ?? []).toEqual([]);

    // Timeline and postmortem.
    const timeline = await db.query<{ text: string }>("SELECT text FROM incident_timeline WHERE incident_id = $1 AND kind = 'action' ORDER BY id", [incidentId]);
    expect(timeline.map((r) => r.text).join('\n')).toMatch(new RegExp(`${actionId}[\\s\\S]*${actionId}[\\s\\S]*${actionId}`));
    const pm = await postmortemOf(db, (await getIncident(db, incidentId))!, 'Asia/Shanghai');
    expect(pm).toContain('`failover_switch`');
    expect(pm).toMatch(/谢平|xieping/);
    expect(pm).toMatch(/zhangwei/);
    expect(pm).toContain('succeeded');
    expect((await listActions(db, { incidentId })).map((a) => a.id)).toEqual([actionId]);

    // The audit log verifies against its anchors; after one row is edited behind the triggers, verify names it.
    const anchorsFile = auditAnchorsPath(app.config);
    const ok = await verifyAuditChain(db, { anchorsFile });
    expect(ok.ok).toBe(true);
    expect(ok.anchors.checked).toBeGreaterThan(0);
    const [approval] = await db.query<{ id: number }>("SELECT id FROM audit_log WHERE target = $1 AND actor = 'zhangwei' AND outcome = 'approved'", [actionId]);
    await behindTheTriggers(db, () => db.query("UPDATE audit_log SET actor = 'mallory' WHERE id = $1", [approval!.id]));
    const broken = await verifyAuditChain(db, { anchorsFile });
    expect(broken).toMatchObject({ ok: false, brokenAt: approval!.id });
  });
});
