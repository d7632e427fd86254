import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderText } from '../../bot/render/text.js';
import { toolResultView } from '../../bot/views/tool-view-table.js';
import type { Db } from '../../db/db.js';
import { diagnoseSnapshots } from '../../tools/fpga/diagnose.js';
import { fpgaStatusToolRef, type FpgaStatus } from '../../tools/fpga/fpga-status.js';
import { describeFinding } from '../../tools/fpga/wording.js';
import { createToolRegistry } from '../../tools/index.js';
import { toolContext, type App } from '../../tools/services.js';
import type { ToolResult } from '../../tools/tool.js';
import { createDemoApp, say } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { inProcessCli } from '../helpers/cli-in-process.js';
import { blockFile, scriptedReader, twoReads, type CardSpec } from '../helpers/fpga.js';

const cli = (app: App) => inProcessCli(app, 'gaoyan');

/** Monday 2026-11-23 (a trading day in the demo week), exchange time. */
const at = (hhmmss: string) => new Date(`2026-11-23T${hhmmss}+08:00`);
const SESSION = at('09:40:00');
const LUNCH = at('12:10:00');
const TZ = 'Asia/Shanghai';

describe('fpga_status on in-memory snapshots', () => {
  let db: Db;
  let app: App;
  let now = SESSION;
  const file = blockFile();
  const reader = scriptedReader();

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { clock: () => now, env: { WARROOM_FPGA_STATUS_FILE: file } });
    // The composition root will pass the addon/TypeScript reader; here, the scripted one (no wait between reads).
    app.tools = createToolRegistry([], { config: app.config, fpgaReader: reader.read });
  });
  afterAll(async () => db?.close());

  async function status(cards: CardSpec[], when = SESSION, input: Record<string, unknown> = {}): Promise<ToolResult<FpgaStatus>> {
    now = when;
    reader.set(twoReads(when, cards));
    return app.tools.call(fpgaStatusToolRef, { intervalMs: 0, ...input }, toolContext(app, 'gaoyan'));
  }

  it('computes rates per channel from the two reads, and says which reader was used', async () => {
    const r = await status([{ card: 0, channels: [{ channel: 2011, pps: 1500, mps: 1200 }, { channel: 2012, pps: 300, mps: 250, cps: 0 }] }]);
    expect(r.status).toBe('success');
    const d = r.data!;
    expect(d.reader).toBe('addon');
    expect(d.file).toBe(file);
    expect(reader.files.at(-1)).toBe(file);
    expect(d.healthy).toBe(true);
    expect(d.session).toBe('morning_session');
    expect(d.cards[0]!.channels.map((c) => [c.channel, c.packetsPerSecond, c.messagesPerSecond, c.checksumErrorsPerSecond, c.stale])).toEqual([
      [2011, 1500, 1200, 0, false],
      [2012, 300, 250, 0, false],
    ]);
    expect(d.cards[0]!.problems).toEqual([]);
    expect(d.citations).toEqual([]);
    expect(r.summary).toBe('FPGA decoder (addon reader): card 0 is healthy.');
  });

  it('login rejected with its code and since-time, and stale channels, in plain English and Chinese, with the runbooks cited', async () => {
    const r = await status([
      { card: 0, login: 'rejected', rejectCode: 102, since: at('09:14:05'), channels: [{ channel: 2011, lastAgo: 38 }, { channel: 2012, lastAgo: 38 }, { channel: 2013 }] },
      { card: 1 },
    ]);
    const [c0, c1] = r.data!.cards;
    expect(c0!.mdgw).toEqual({ tcp: 'established', login: 'rejected', rejectCode: 102, since: '2026-11-23T09:14:05+08:00' });
    expect(c0!.problems).toEqual(['MDGW login rejected (code 102) since 09:14:05', 'channels 2011 and 2012 stale for 38 s']);
    expect(c0!.problemsZh).toEqual(['MDGW 登录被拒（拒绝码 102），自 09:14:05 起', '通道 2011、2012 行情陈旧 38 秒']);
    expect(c0!.health).toBe('critical');
    expect(c0!.channels.map((c) => [c.channel, c.stale, c.staleSeconds])).toEqual([
      [2011, true, 38],
      [2012, true, 38],
      [2013, false, undefined],
    ]);
    expect(c1!.problems).toEqual([]);
    expect(r.summary).toBe('FPGA decoder (addon reader): card 0: MDGW login rejected (code 102) since 09:14:05; channels 2011 and 2012 stale for 38 s');
    expect(r.data!.citations.map((c) => [c.runbookId, c.for])).toEqual([
      ['rb-fpga-mdgw-session', ['login-rejected']],
      ['rb-fpga-channel-stale', ['stale-channels']],
    ]);
    // The diagnosis passages: what to look at next.
    expect(r.data!.citations.map((c) => `${c.runbookId} § ${c.section} (${c.source})`)).toEqual([
      'rb-fpga-mdgw-session § 排查 (fpga/rb-fpga-mdgw-session.md)',
      'rb-fpga-channel-stale § 排查 (fpga/rb-fpga-channel-stale.md)',
    ]);

    // The view says the same, in the asker's language, with the reader and the runbooks.
    const zh = renderText(toolResultView(r, 'zh', TZ));
    expect(zh).toContain('■ FPGA 行情卡：卡 0 有问题');
    expect(zh).toContain('🔴 卡 0 · FPGA 路径 · MDGW 已连接，登录被拒（102） · 组播正常 · TOE 12/128');
    expect(zh).toContain('🔴 MDGW 登录被拒（拒绝码 102），自 09:14:05 起');
    expect(zh).toContain('🔴 通道 2011、2012 行情陈旧 38 秒');
    expect(zh).toMatch(/2011 · ⚠ 陈旧 38 秒 · 1000 包\/秒 · 800 条\/秒 · 最新 09:39:22（38 秒前） · p99 880 ns/);
    expect(zh).toContain('✅ 卡 1 · FPGA 路径 · MDGW 已连接，已登录');
    expect(zh).toContain('[rb-fpga-mdgw-session § 排查] (fpga/rb-fpga-mdgw-session.md)');
    expect(zh).toContain('读取方式：C++ 插件（addon）');
    expect(zh).toContain('上午连续竞价：通道超过 15 秒没有新行情即为陈旧');
    const en = renderText(toolResultView(r, 'en', TZ));
    expect(en).toContain('■ FPGA decoder: problems on card 0');
    expect(en).toContain('🔴 MDGW login rejected (code 102) since 09:14:05');
    expect(en).toContain('🔴 channels 2011 and 2012 stale for 38 s');
    expect(en).toContain('Read by the C++ addon');
  });

  it('a channel quiet at lunch, after the close or on a non-trading day is not stale; at 13:00 the lunch break does not count', async () => {
    const quiet: CardSpec[] = [{ card: 0, channels: [{ channel: 2011, lastAgo: 38 * 60, pps: 0, mps: 0 }, { channel: 2012, lastAgo: null, pps: 0, mps: 0 }] }];
    for (const [when, session] of [
      [LUNCH, 'lunch_break'],
      [at('15:40:00'), 'post_close'],
      [at('09:05:00'), 'pre_open'],
      [new Date('2026-11-21T10:00:00+08:00'), 'non_trading_day'],
    ] as const) {
      const r = await status(quiet, when);
      expect(r.data!.session).toBe(session);
      expect(r.data!.freshnessJudged).toBe(false);
      expect(r.data!.cards[0]!.channels.map((c) => c.stale)).toEqual([false, false]);
      expect(r.data!.cards[0]!.problems).toEqual([]);
      expect(r.data!.healthy).toBe(true);
    }
    expect(renderText(toolResultView(await status(quiet, LUNCH), 'en', TZ))).toContain('lunch break: exchanges push little or nothing now, so quiet channels are not stale');

    // Ten seconds into the afternoon a channel last heard before lunch is not stale yet; forty seconds in, it is (for 40 s, not 90 min).
    const beforeLunch = (when: Date) => [{ card: 0, channels: [{ channel: 2011, lastAgo: Math.round((when.getTime() - at('11:29:58').getTime()) / 1000) }] }];
    expect((await status(beforeLunch(at('13:00:10')), at('13:00:10'))).data!.cards[0]!.channels[0]!.stale).toBe(false);
    const later = (await status(beforeLunch(at('13:00:40')), at('13:00:40'))).data!.cards[0]!;
    expect(later.channels[0]).toMatchObject({ stale: true, staleSeconds: 40 });
    expect(later.problems).toEqual(['channel 2011 stale for 40 s']);
    // A channel that never had a message, during the session.
    const silent = (await status([{ card: 0, channels: [{ channel: 2015, lastAgo: null, pps: 0, mps: 0 }] }], SESSION)).data!.cards[0]!;
    expect(silent.problems).toEqual(['channel 2015 has had no message at all']);
  });

  it('a checksum burst: the rate, and critical when errors are a real share of the packets', async () => {
    const r = await status([{ card: 0, channels: [{ channel: 2011 }, { channel: 2013, cps: 50 }] }]);
    const c = r.data!.cards[0]!;
    expect(c.channels.find((ch) => ch.channel === 2013)!.checksumErrorsPerSecond).toBe(50);
    expect(c.problems).toEqual(['checksum errors bursting on channel 2013 (50/s): messages are dropped and consumers see gaps']);
    expect(c.problemsZh).toEqual(['通道 2013 校验和错误激增（每秒 50 个）：报文被丢弃，下游出现缺口']);
    expect(c.findings[0]).toMatchObject({ kind: 'checksum-burst', severity: 'critical', channels: [2013], perSecond: 50 });
    expect(r.data!.citations.map((x) => [x.runbookId, x.for])).toEqual([['rb-fpga-checksum-multicast', ['checksum-burst']]]);
    // Two errors a second on 2000 packets: still a burst (120 a minute against the runbook's 10), a warning.
    const mild = (await status([{ card: 0, channels: [{ channel: 2011, pps: 2000, cps: 2 }] }])).data!.cards[0]!;
    expect(mild.findings.map((f) => [f.kind, f.severity])).toEqual([['checksum-burst', 'warning']]);
    // A single old error is not a burst.
    expect((await status([{ card: 0, channels: [{ channel: 2011, cps: 0 }] }])).data!.cards[0]!.findings).toEqual([]);
  });

  it('TOE sessions near the limit (≥ 90% of 128) and exhausted', async () => {
    expect((await status([{ card: 0, toeSessions: 114 }])).data!.cards[0]!.problems).toEqual([]);
    const near = (await status([{ card: 0, toeSessions: 118 }])).data!;
    expect(near.cards[0]!.problems).toEqual(['TOE sessions near the limit: 118 of 128 in use (92%), usually old sessions not released after reconnects']);
    expect(near.cards[0]!.problemsZh).toEqual(['TOE 会话已用 118/128（92%），接近上限：多半是重连后旧会话没有释放']);
    expect(near.cards[0]!.health).toBe('warning');
    expect(near.citations.map((x) => `${x.runbookId} § ${x.section}`)).toEqual(['rb-fpga-mdgw-session § 处置']);
    const full = (await status([{ card: 0, toeSessions: 128 }])).data!.cards[0]!;
    expect(full.findings[0]).toMatchObject({ kind: 'toe-near-limit', severity: 'critical', used: 128, limit: 128 });
    expect(full.problems[0]).toBe('TOE sessions exhausted (128 of 128): no new MDGW session can open');
  });

  it('running on the software fallback path: said, with the switch-back passage; card problems there are warnings, not pages', async () => {
    const r = await status([{ card: 0, activePath: 'software', tcp: 'down', login: 'logged-out', since: at('09:31:12'), channels: [{ channel: 2011, lastAgo: 500 }] }]);
    const c = r.data!.cards[0]!;
    expect(c.activePath).toBe('software');
    expect(c.problems).toEqual([
      'MDGW TCP session down since 09:31:12: every channel of the card stops',
      'channel 2011 stale for 8 min',
      'running on the software fallback path: consumers get software-decoded market data (slower, complete)',
    ]);
    expect(c.findings.map((f) => f.severity)).toEqual(['warning', 'warning', 'warning']);
    expect(c.health).toBe('warning');
    // The MDGW passage: its short 验证 section (session list, tcp_state, login_state) since the glossary's
    // translations weigh 0.8 (issue 15); 排查 holds the same commands in a longer section.
    expect(r.data!.citations.map((x) => `${x.runbookId} § ${x.section}`)).toEqual(['rb-fpga-mdgw-session § 验证', 'rb-fpga-channel-stale § 排查', 'rb-md-switch-software-path § 回退']);
    expect(renderText(toolResultView(r, 'zh', TZ))).toContain('⚠️ 卡 0 · ⚠ 软件备用路径 · MDGW 断开');
    // The same MDGW loss on the FPGA path, during the session, is critical.
    const live = (await status([{ card: 0, tcp: 'down', login: 'logged-out', since: at('09:31:12') }])).data!.cards[0]!;
    expect(live.findings[0]).toMatchObject({ kind: 'mdgw-down', severity: 'critical', since: '2026-11-23T09:31:12+08:00' });
  });

  it('multicast down, a login stuck, and a since-time on another day shown with its date', async () => {
    const c = (await status([{ card: 0, multicast: 'down', login: 'logging-in', since: new Date('2026-11-20T15:02:00+08:00') }])).data!.cards[0]!;
    expect(c.problems).toEqual(['multicast output down: no receiver behind the card gets market data', 'MDGW login not completing since 11-20 (Fri) 15:02']);
    expect(c.problemsZh[1]).toBe('MDGW 登录一直没有完成，自 11-20 (周五) 15:02 起');
    // A login in progress for a few seconds is normal.
    expect((await status([{ card: 0, login: 'logging-in', since: at('09:39:57') }])).data!.cards[0]!.problems).toEqual([]);
  });

  it('one card on request; an unknown card names the cards there are', async () => {
    const two = [{ card: 0 }, { card: 1, toeSessions: 120 }];
    const one = await status(two, SESSION, { card: 1 });
    expect(one.data!.cards.map((c) => c.card)).toEqual([1]);
    const none = await status(two, SESSION, { card: 7 });
    expect(none.status).toBe('error');
    expect(none.error).toBe(`No card 7 in the FPGA status block ${file}.\nCards in the block: 0, 1.`);
  });

  it('no status block: a clear error saying how to start the simulator; a build without a reader says so', async () => {
    const r = await app.tools.call(fpgaStatusToolRef, { file: '/nonexistent/fpga.bin' }, toolContext(app, 'gaoyan'));
    expect(r.status).toBe('error');
    expect(r.error).toContain('No FPGA status block at /nonexistent/fpga.bin.');
    expect(r.error).toContain('start the simulator: `warroom fpga simulate --file /nonexistent/fpga.bin`');
    const bare = createToolRegistry([], { config: app.config });
    const b = await bare.call(fpgaStatusToolRef, { intervalMs: 0 }, toolContext(app, 'gaoyan'));
    expect(b.error).toMatch(/^FPGA status reader not available in this build\./);
    // A reader that fails on a bad block: said with the file.
    const broken = createToolRegistry([], { config: app.config, fpgaReader: () => { throw new Error('bad magic 0x00000000'); } });
    expect((await broken.call(fpgaStatusToolRef, {}, toolContext(app, 'gaoyan'))).error).toContain(`Cannot read the FPGA status block ${file}: bad magic 0x00000000`);
  });
});

describe('the wording (one pure function for JSON and views)', () => {
  const o = { timeZone: TZ, reference: at('10:00:00') };
  it('says each finding in Chinese and English', () => {
    const f = { kind: 'stale-channels' as const, severity: 'critical' as const, card: 0, channels: [2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018], staleSeconds: { min: 16, max: 300 } };
    expect(describeFinding(f, 'en', o)).toBe('channels 2011, 2012, 2013, 2014, 2015, 2016 and 2 more stale for up to 5 min');
    expect(describeFinding(f, 'zh', o)).toBe('通道 2011、2012、2013、2014、2015、2016 等 8 个通道 行情陈旧 最长 5 分钟');
    expect(describeFinding({ kind: 'login-rejected', severity: 'critical', card: 0, since: null }, 'en', o)).toBe('MDGW login rejected');
  });
  it('diagnoses two snapshots without a store', () => {
    const [a, b] = twoReads(SESSION, [{ card: 3, channels: [{ channel: 1, pps: 10 }] }]);
    const [card] = diagnoseSnapshots(a, b, { session: 'morning_session' });
    expect(card!.channels[0]).toMatchObject({ channel: 1, packetsPerSecond: 10, stale: false, ageSeconds: 1 });
    // A counter that went backwards (a card reinit) gives no rate rather than a negative one.
    const [card2] = diagnoseSnapshots(b, a, { session: 'morning_session', intervalMs: 1000 });
    expect(card2!.channels[0]!.packetsPerSecond).toBeNull();
  });
});

describe('fpga status in chat, on the command line and on the localization card: the same facts', () => {
  let db: Db;
  let app: App;
  let now = SESSION;
  const file = blockFile();
  const reader = scriptedReader();
  const trouble: CardSpec[] = [
    { card: 0, login: 'rejected', rejectCode: 102, since: at('09:14:05'), channels: [{ channel: 2011, lastAgo: 38 }, { channel: 2012, lastAgo: 38 }, { channel: 2013 }] },
    { card: 1 },
  ];
  /** What the tool itself answers for these snapshots (no wait between reads). */
  const direct = async () => {
    reader.set(twoReads(now, trouble));
    return (await app.tools.call(fpgaStatusToolRef, { intervalMs: 0 }, toolContext(app, 'gaoyan'))).data!;
  };
  // Chat and the CLI read with the tool's own interval (1 s): the same two snapshots, whatever the wait.
  const next = () => reader.set(twoReads(now, trouble));

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createDemoApp(db, { clock: () => now, env: { WARROOM_FPGA_STATUS_FILE: file } });
    app.tools = createToolRegistry([], { config: app.config, fpgaReader: reader.read });
  });
  afterAll(async () => db?.close());

  it('the command `fpga` / `行情卡状态` / `FPGA状态 1` and the questions answer with the tool\'s own words', async () => {
    const facts = await direct();
    const [p0, p1] = facts.cards[0]!.problems;
    const [z0, z1] = facts.cards[0]!.problemsZh;

    next();
    const en = (await say(app, 'fpga')).text;
    expect(en).toContain(`🔴 ${p0}`);
    expect(en).toContain(`🔴 ${p1}`);
    expect(en).toContain('[rb-fpga-mdgw-session § 排查]');
    expect(en).toContain('Read by the C++ addon');

    next();
    const zh = (await say(app, '行情卡状态')).text;
    expect(zh).toContain(`🔴 ${z0}`);
    expect(zh).toContain(`🔴 ${z1}`);

    next();
    const one = (await say(app, 'FPGA状态 1')).text;
    expect(one).toContain('FPGA 行情卡：1 张卡均正常');
    expect(one).not.toContain('卡 0');

    next();
    const asked = (await say(app, 'is the FPGA decoder healthy?')).text;
    expect(asked).toContain(`🔴 ${p0}`);
    expect(asked).toContain(`🔴 ${p1}`);
    next();
    const askedZh = (await say(app, 'FPGA 行情卡正常吗')).text;
    expect(askedZh).toContain(`🔴 ${z0}`);
    expect(askedZh).toContain('相关手册');

    // The agent's answer carries the citations as facts, apart from any guess.
    const { answerOffline } = await import('../../agents/agent.js');
    next();
    const answer = await answerOffline(app, { text: 'is the FPGA decoder healthy?', actor: 'gaoyan', lang: 'en' });
    expect(answer.intent).toBe('fpga');
    expect(answer.citations).toEqual(facts.citations.map((c) => ({ runbookId: c.runbookId, section: c.section, source: c.source })));
  });

  it('`warroom fpga status --json` prints the issue\'s shape with the same problems; --file reads another block', async () => {
    const facts = await direct();
    next();
    const json = JSON.parse(await cli(app).run(['fpga', 'status', '--json'])) as FpgaStatus;
    expect(json.reader).toBe('addon');
    expect(json.cards[0]).toMatchObject({ card: 0, mdgw: { tcp: 'established', login: 'rejected', rejectCode: 102 }, multicast: 'up', toeSessions: 12, activePath: 'fpga' });
    expect(json.cards[0]!.channels[0]).toMatchObject({ channel: 2011, stale: true, staleSeconds: 38, packetsPerSecond: 1000 });
    expect(json.cards[0]!.problems).toEqual(facts.cards[0]!.problems);
    expect(json.cards[1]!.mdgw).not.toHaveProperty('rejectCode');
    expect(json.citations.map((c) => c.runbookId)).toEqual(['rb-fpga-mdgw-session', 'rb-fpga-channel-stale']);

    next();
    const text = await cli(app).run(['fpga', 'status', '--lang', 'en', '--card', '0']);
    expect(text).toContain('🔴 MDGW login rejected (code 102) since 09:14:05');
    expect(text).toContain('🔴 channels 2011 and 2012 stale for 38 s');

    const other = blockFile();
    next();
    await cli(app).run(['fpga', 'status', '--json', '--file', other]);
    expect(reader.files.at(-1)).toBe(other);
    const { FORWARDED_COMMANDS } = await import('../../cli/program.js');
    expect(FORWARDED_COMMANDS.has('fpga status')).toBe(true);
    await expect(cli(app).run(['fpga', 'status', '--file', '/nonexistent/x.bin'])).rejects.toThrow(/No FPGA status block at \/nonexistent\/x\.bin[\s\S]*warroom fpga simulate --file/);
  });

  it('the localization card of a market-data system shows one line of FPGA health; other systems none; left out with the reason when it cannot be read', async () => {
    const { localizeToolRef } = await import('../../tools/change-intel/localize.js');
    const { localizationView } = await import('../../bot/views/localization-view.js');
    next();
    const r = await app.tools.call(localizeToolRef, { system: 'fpga-md' }, toolContext(app, 'gaoyan'));
    expect(r.data!.fpga).toEqual({
      shown: true,
      healthy: false,
      reader: 'addon',
      en: 'card 0: MDGW login rejected (code 102) since 09:14:05; channels 2011 and 2012 stale for 38 s',
      zh: '卡 0：MDGW 登录被拒（拒绝码 102），自 09:14:05 起；通道 2011、2012 行情陈旧 38 秒',
    });
    const zh = renderText(localizationView(r.data!, 'zh', TZ));
    expect(zh).toMatch(/FPGA 行情卡 +⚠️ 卡 0：MDGW 登录被拒（拒绝码 102），自 09:14:05 起；通道 2011、2012 行情陈旧 38 秒（C\+\+ 插件读取；详情：行情卡状态）/);

    reader.set(twoReads(now, [{ card: 0 }, { card: 1 }]));
    const soft = await app.tools.call(localizeToolRef, { system: '软件行情' }, toolContext(app, 'gaoyan'));
    expect(soft.data!.fpga).toMatchObject({ shown: true, healthy: true, en: 'all 2 card(s) healthy' });

    const jzjy = await app.tools.call(localizeToolRef, { system: 'jzjy' }, toolContext(app, 'gaoyan'));
    expect(jzjy.data!.fpga).toBeNull();
    expect(renderText(localizationView(jzjy.data!, 'en', TZ))).not.toContain('FPGA');

    // A card for Thursday: a live status block says nothing of it.
    const past = await app.tools.call(localizeToolRef, { system: 'fpga-md', at: '2026-11-19T09:20:00+08:00' }, toolContext(app, 'gaoyan'));
    expect(past.data!.fpga).toMatchObject({ shown: false, healthy: null });
    expect(renderText(localizationView(past.data!, 'en', TZ))).toContain('↳ FPGA decoder health not shown: the card is for a past moment and the status block is live.');

    // No block on this host: left out, and the small print says why.
    const saved = app.tools;
    app.tools = createToolRegistry([], { config: { ...app.config, WARROOM_FPGA_STATUS_FILE: '/nonexistent/fpga.bin' }, fpgaReader: reader.read });
    try {
      const none = await app.tools.call(localizeToolRef, { system: 'fpga-md' }, toolContext(app, 'gaoyan'));
      expect(none.status).toBe('success');
      const view = renderText(localizationView(none.data!, 'zh', TZ));
      expect(view).not.toMatch(/FPGA 行情卡 +[✅⚠]/);
      expect(view).toContain('↳ 未显示 FPGA 行情卡状态：No FPGA status block at /nonexistent/fpga.bin.');
    } finally {
      app.tools = saved;
    }
  });
});
