import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../bot/bot.js';
import { renderText } from '../../bot/render/text.js';
import type { Db } from '../../db/db.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { declareForTest } from '../helpers/incident.js';
import { ask, calls } from './offline-helpers.js';

describe('incident questions answered from recorded facts', () => {
  let db: Db;
  let bot: Bot;
  let incidentId: string;
  const command = async (who: string, text: string) =>
    (await bot.handle({ kind: 'command', command: 'incident', platform: 'cli', userId: who, room: { platform: 'cli', id: `dm-${who}`, kind: 'dm' }, text, at: DEMO_NOW }))
      .map((r) => renderText(r.message))
      .join('\n');

  beforeAll(async () => {
    db = await createTestPglite();
    bot = createBot(await createDemoApp(db, { now: DEMO_NOW, runbooks: false }));
  });
  afterAll(async () => db?.close());

  it('with nothing open, "什么时候能恢复" says so instead of quoting a runbook', async () => {
    const { answer, text } = await ask(bot.app, '什么时候能恢复');
    expect(calls(answer)).toEqual(['open_incidents:no_data']);
    expect(text).toContain('当前没有未解决的故障，没有可回答的恢复时间或影响');
  });

  it('"什么时候能恢复" before anyone recorded it: not recorded yet, ask the commander by name', async () => {
    incidentId = (await declareForTest(bot)).id;
    const { answer, text } = await ask(bot.app, '什么时候能恢复');
    expect(answer).toMatchObject({ intent: 'incident-eta', system: 'jzjy' });
    expect(calls(answer)).toEqual(['open_incidents:success', 'incident_status:success']);
    const [ic] = await db.query<{ name: string }>("SELECT p.name FROM incident_roles r JOIN people p ON p.id = r.person WHERE r.incident_id = $1 AND r.role = 'incident-commander'", [incidentId]);
    expect(text).toContain(`${incidentId} 的预计恢复时间尚未记录，请问指挥 ${ic!.name}`);
    expect(text).toMatch(new RegExp(`预计恢复\\s+尚未记录 — 请问指挥 ${ic!.name}`));
  });

  it('records the expected recovery with /incident eta, on the timeline, and answers from it in both languages', async () => {
    await command('songkai', `role scribe me ${incidentId}`);
    expect(await command('songkai', `eta ${incidentId} 10:30 前恢复，回滚连接池参数中`)).toContain('已记入时间线（预计恢复）');
    const [row] = await db.query<{ eta: { text: string; by: string } }>("SELECT extra->'eta' AS eta FROM incidents WHERE id = $1", [incidentId]);
    expect(row!.eta).toMatchObject({ text: '10:30 前恢复，回滚连接池参数中', by: 'songkai' });
    const zh = await ask(bot.app, '什么时候能恢复');
    expect(zh.answer.notes).toBeUndefined();
    expect(zh.text).toMatch(/预计恢复\s+10:30 前恢复，回滚连接池参数中（宋凯（songkai），11-23 \(周一\) 09:40 记录）/);
    expect(zh.text).toContain('预计恢复：10:30 前恢复'); // the timeline entry
    const en = await ask(bot.app, 'when will it be fixed?');
    expect(en.text).toMatch(/Expected recovery\s+10:30 前恢复，回滚连接池参数中 \(recorded by 宋凯/);
  });

  it('"这个故障影响多大" says the impact is not recorded yet, then answers with what was recorded', async () => {
    const before = await ask(bot.app, '这个故障影响多大');
    expect(before.answer.intent).toBe('incident-impact');
    expect(before.text).toContain('的影响尚未记录');
    await command('songkai', `impact ${incidentId} 约 3% 委托失败，集中在手机通道`);
    const after = await ask(bot.app, "what's the impact?");
    expect(after.text).toMatch(/Impact\s+约 3% 委托失败，集中在手机通道/);
    expect(after.text.indexOf('Impact')).toBeLessThan(after.text.indexOf('Expected recovery'));
  });

  it('with two open, asks which one, unless the question comes from the incident\'s room', async () => {
    const second = (await declareForTest(bot, { system: 'margin', title: '信用委托失败', severity: 'P2' })).id;
    const which = await ask(bot.app, 'when will it be fixed?');
    expect(which.text).toContain('2 incidents are open: name one (INC-…), or ask in its room.');
    expect(which.text).toContain(second);
    const inRoom = await ask(bot.app, '什么时候能恢复', { incidentId: second });
    expect(inRoom.text).toContain(`${second} 的预计恢复时间尚未记录`);
    const roles = await ask(bot.app, '谁是指挥', { incidentId: second });
    expect(roles.text).toMatch(/角色\s+故障指挥 \S+/);
    const rota = await ask(bot.app, '谁在值班', { incidentId: second, incident: { id: second, title: '信用委托失败', system: 'margin', systemName: '两融', severity: 'P2', status: 'investigating', openedAt: '2026-11-23T09:40:00+08:00', impact: null, eta: null, rootCause: null, roles: [], timeline: [] } });
    expect(rota.text).toContain('两融 当前值班');
    const named = await ask(bot.app, `${incidentId} 影响多大`);
    expect(named.text).toContain('约 3% 委托失败');
  });

  it('the help text shows /incident eta', async () => {
    expect(await command('songkai', 'help')).toContain('/incident eta <when or text> — record the expected recovery');
    expect(await command('songkai', '帮助')).toContain('/incident eta <时间或说明> — 记录预计恢复时间');
  });
});

describe('the incident context agents get with a question', () => {
  it('carries the recorded ETA and impact, and null where nothing was recorded', async () => {
    const db = await createTestPglite();
    const bot = createBot(await createDemoApp(db, { now: DEMO_NOW, runbooks: false }));
    const { id } = await declareForTest(bot);
    const { incidentContextData } = await import('../../agents/incident-context.js');
    const before = await incidentContextData(db, id, DEMO_NOW, 'Asia/Shanghai');
    expect(before).toMatchObject({ id, system: 'jzjy', systemName: '集中交易', severity: 'P1', eta: null, impact: null });
    expect(before.roles.find((r) => r.role === 'incident-commander')?.name).toBeTruthy();
    const say = (text: string) => bot.handle({ kind: 'command', command: 'incident', platform: 'cli', userId: 'songkai', room: { platform: 'cli', id: 'dm-songkai', kind: 'dm' }, text, at: DEMO_NOW });
    await say(`role scribe me ${id}`);
    await say(`eta ${id} 10:30`);
    const after = await incidentContextData(db, id, DEMO_NOW, 'Asia/Shanghai');
    expect(after.eta).toBe('10:30');
    expect(after.timeline.at(-1)).toMatchObject({ kind: 'eta', actor: 'songkai' });
    expect(after.timeline.at(-1)!.text).toMatch(/10:30$/);
    await db.close();
  });
});
