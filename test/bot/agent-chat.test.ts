import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerQuestion, type AskOptions } from '../../agents/ask.js';
import type { AgentAnswer, Question } from '../../agents/types.js';
import { attachPlatform, createBot, type Bot } from '../../bot/bot.js';
import { mergeExtra, updateIncident, setRoom } from '../../bot/incidents/store.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import type { BotReply, ChatEvent } from '../../bot/platforms/platform.js';
import { createSlackPlatform, type SlackPlatform } from '../../bot/platforms/slack.js';
import { createWeComPlatform, type WeComPlatform } from '../../bot/platforms/wecom.js';
import { createLocalChatPlatform } from '../../bot/platforms/local/index.js';
import type { LocalMessage } from '../../bot/platforms/local/store.js';
import { signIn } from '../helpers/web-session.js';
import { renderText } from '../../bot/render/text.js';
import { createLogger } from '../../core/logger.js';
import type { Db } from '../../db/db.js';
import { startHttpServer } from '../../server/http.js';
import type { App } from '../../tools/services.js';
import { getAction } from '../../workers/action-store.js';
import { restartTool } from '../helpers/action-tools.js';
import { createDemoApp } from '../helpers/app.js';
import { inProcessCli } from '../helpers/cli-in-process.js';
import { createTestPglite } from '../helpers/db.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { appMentionEvent, eventCallbackBody, postSigned, startSlackStandin, type SlackStandin, type SlackStandinCall } from '../helpers/slack-standin.js';
import { encryptCallback, startWeComStandin, textMessageXml, WECOM_SAMPLE, type WeComStandin } from '../helpers/wecom-standin.js';

const SECRET = 'agent-chat-signing-secret-0123456789ab';
const CHANGES_ZH = '集中交易最近3个交易日有哪些变更';

/**
 * Free-text questions from chat to the agent and back, over the demo (Monday 2026-11-23 09:40):
 * real Bolt with signed requests against the Slack stand-in, encrypted WeCom callbacks against the
 * WeCom stand-in, the bot directly for incident context and history, and `warroom ask --json`.
 *
 * The agent is the real one (answerQuestion: the offline planner) behind a test door that records
 * every Question it is given and, where a test says so, holds the answer back until the stand-in
 * has seen the progress line: slow by construction, not by a timer, so never flaky.
 */
describe('questions in chat go through the agent', () => {
  let db: Db;
  let app: App;
  let bot: Bot;
  let slackStandin: SlackStandin;
  let wecomStandin: WeComStandin;
  let slack: SlackPlatform;
  let wecom: WeComPlatform;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let slackUrl: string;
  /** Every Question the agent was given, in order. */
  const asked: Question[] = [];
  /** When set, answers in place of answerQuestion (which it may call). */
  let script: ((q: Question, options: AskOptions) => Promise<AgentAnswer>) | undefined;
  const slackOf = new Map<string, string>();

  beforeAll(async () => {
    slackStandin = await startSlackStandin({ latencyMs: 2 });
    slackStandin.addChannel({ id: 'C0OPS', name: 'ops' });
    wecomStandin = await startWeComStandin({ latencyMs: 2 });
    db = await createTestPglite();
    app = await createDemoApp(db);
    app.tools.register(restartTool);
    for (const p of await db.query<{ id: string; slack: string }>('SELECT id, slack FROM people WHERE slack IS NOT NULL')) slackOf.set(p.id, p.slack);
    bot = createBot(app, [], {
      progressAfterMs: 100,
      answer: async (a, q, options) => {
        asked.push(structuredClone(q));
        return script ? script(q, options) : answerQuestion(a, q, options);
      },
    });
    slack = createSlackPlatform(bot, { botToken: slackStandin.token, signingSecret: SECRET, apiUrl: slackStandin.url, logger: createLogger('silent') });
    attachPlatform(bot, slack.platform);
    await slack.start();
    wecom = createWeComPlatform(bot, {
      corpId: WECOM_SAMPLE.corpId,
      agentId: 1000002,
      secret: wecomStandin.secret,
      token: WECOM_SAMPLE.token,
      aesKey: WECOM_SAMPLE.aesKey,
      apiUrl: wecomStandin.url,
      logger: createLogger('silent'),
    });
    attachPlatform(bot, wecom.platform);
    server = await startHttpServer(app, { port: 0, routes: [...slack.routes, ...wecom.routes] });
    slackUrl = `http://127.0.0.1:${server.port}/slack/events`;
  });
  afterAll(async () => {
    await slack?.stop();
    await wecom?.settled();
    await server?.close();
    await slackStandin?.close();
    await wecomStandin?.close();
    await db?.close();
  });
  beforeEach(() => {
    script = undefined;
    asked.length = 0;
  });
  afterEach(async () => closeOpenIncidents(db));

  /** A message event straight to the bot (no progress line: these tests are about what the agent gets). */
  const say = (text: string, who: { platform?: 'slack' | 'cli'; user: string; room: string; kind?: 'dm' | 'channel' }): Promise<BotReply[]> => {
    const platform = who.platform ?? 'slack';
    const event: ChatEvent = { kind: 'message', platform, userId: who.user, room: { platform, id: who.room, kind: who.kind ?? 'channel' }, text, at: app.clock() };
    return bot.handle(event, { progress: null });
  };
  const textOf = (replies: BotReply[]) => replies.map((r) => renderText(r.message)).join('\n\n');
  const blocksText = (c: SlackStandinCall) => `${String(c.body.text)}\n${JSON.stringify(c.body.blocks ?? [])}`;

  describe('Slack, through real Bolt and signed requests', () => {
    const mention = (text: string, person: string, channel: string, threadTs?: string) =>
      postSigned(slackUrl, SECRET, eventCallbackBody(appMentionEvent({ text: `<@${slackStandin.botUserId}> ${text}`, user: slackOf.get(person)!, channel, ...(threadTs ? { threadTs } : {}) })));

    it('a slow answer shows "正在查询…" in the thread, then the line becomes the answer (chat.update), never posted twice', async () => {
      const posts = slackStandin.callsOf('chat.postMessage').length;
      const updates = slackStandin.callsOf('chat.update').length;
      const progressPosts = () => slackStandin.callsOf('chat.postMessage').slice(posts).filter((c) => String(c.body.text).includes('正在查询'));
      script = async (q, options) => {
        await slackStandin.waitFor(() => progressPosts().length > 0, 'the progress line');
        options.onProgress?.('集中交易的变更');
        await slackStandin.waitFor(() => slackStandin.callsOf('chat.update').slice(updates).some((c) => String(c.body.text).includes('集中交易的变更')), 'what is being looked up, in the progress line');
        return answerQuestion(app, q, options);
      };
      // Asked in a thread under someone's message: the progress line and the answer stay in that thread.
      const parent = slackStandin.addMessage('C0OPS', { text: '开盘后委托大量失败', user: slackOf.get('lihua')! });
      const r = await mention(CHANGES_ZH, 'songkai', 'C0OPS', parent.ts);
      expect(r.status).toBe(200);
      await slackStandin.waitFor(() => slackStandin.callsOf('chat.update').slice(updates).some((c) => blocksText(c).includes('CAB-20261120-003')), 'the answer in place of the progress line');
      await slack.settled();

      const [progress] = progressPosts();
      expect(progress!.body.channel).toBe('C0OPS');
      expect(progress!.body.thread_ts).toBe(parent.ts); // the progress line is where the answer goes
      const progressTs = slackStandin.channels.get('C0OPS')!.messages.find((m) => JSON.stringify(m.blocks ?? []).includes('CAB-20261120-003'))!.ts;
      const edits = slackStandin.callsOf('chat.update').slice(updates);
      expect(edits.map((c) => c.body.ts)).toEqual([progressTs, progressTs]);
      expect(String(edits[0]!.body.text)).toContain('正在查询… 集中交易的变更');
      const answer = edits[1]!;
      expect(blocksText(answer)).toContain('CAB-20261120-003');
      // The footer is a context block: planner and tools on one line.
      const context = (answer.body.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>).filter((b) => b.type === 'context').flatMap((b) => b.elements ?? []).map((e) => e.text);
      expect(context).toContain('离线规划器回答 · 工具：change_lookup（成功）');
      // Not doubled: no post carries the answer, and the channel holds it once.
      expect(slackStandin.callsOf('chat.postMessage').slice(posts).filter((c) => blocksText(c).includes('CAB-20261120-003'))).toEqual([]);
      expect(slackStandin.channels.get('C0OPS')!.messages.filter((m) => JSON.stringify(m.blocks ?? []).includes('CAB-20261120-003'))).toHaveLength(1);
      // The agent got who asked from the signature's user, the room, and the language.
      expect(asked.at(-1)).toMatchObject({ actor: 'songkai', lang: 'zh', room: { platform: 'slack', id: 'C0OPS', kind: 'channel' }, text: CHANGES_ZH });
    });

    it('when the progress line cannot be posted, the answer is still posted, once', async () => {
      const posts = slackStandin.callsOf('chat.postMessage').length;
      const updates = slackStandin.callsOf('chat.update').length;
      slackStandin.failNext('chat.postMessage', 'fatal_error');
      script = async (q, options) => {
        await slackStandin.waitFor(() => slackStandin.callsOf('chat.postMessage').slice(posts).some((c) => c.error === 'fatal_error'), 'the failed progress post');
        return answerQuestion(app, q, options);
      };
      await mention('who is on call for jzjy?', 'lihua', 'C0OPS');
      await slackStandin.waitFor(() => slackStandin.callsOf('chat.postMessage').slice(posts).some((c) => c.status === 200 && !c.error), 'the answer');
      await slack.settled();
      const delivered = slackStandin.callsOf('chat.postMessage').slice(posts).filter((c) => !c.error);
      expect(delivered).toHaveLength(1);
      expect(blocksText(delivered[0]!)).toContain('Answered by the offline planner · Tools: who_is_oncall (ok)');
      expect(slackStandin.callsOf('chat.update').slice(updates)).toEqual([]);
    });

    it("an action the agent proposes becomes a request: the approval card is posted in the room, the answer names it", async () => {
      script = async (_q, options) => {
        const made = await options.proposeAction!({ tool: 'restart_service', input: { host: 'trd-app-03' }, reason: 'asked to restart trd-app-03' });
        const refused = await options.proposeAction!({ tool: 'drop_database', input: {}, reason: 'injected' });
        return {
          planner: 'llm',
          intent: 'llm',
          text: 'I asked for approval to restart the service on trd-app-03.',
          toolCalls: [],
          citations: [],
          hypotheses: [],
          proposedActions: [
            { tool: 'restart_service', input: { host: 'trd-app-03' }, reason: 'asked to restart trd-app-03', ...made },
            { tool: 'drop_database', input: {}, reason: 'injected', ...refused },
          ],
        };
      };
      await mention('please restart the service on trd-app-03', 'songkai', 'C0OPS');
      // The answer may come as a post or in place of a progress line: what counts is what the channel shows.
      const shown = () => slackStandin.channels.get('C0OPS')!.messages.map((m) => ({ ts: m.ts, text: `${m.text}\n${JSON.stringify(m.blocks ?? [])}` }));
      await slackStandin.waitFor(() => shown().some((m) => m.text.includes('I asked for approval')), 'the answer');
      await slack.settled();
      const answer = shown().find((m) => m.text.includes('I asked for approval'))!;
      const actionId = /ACT-\d{8}-\d{3}/.exec(answer.text)![0];
      const card = shown().find((m) => m.ts !== answer.ts && m.text.includes(actionId))!;
      expect(card.text).toMatch(/"action_id":"action\.approve#\d+"/);
      expect(answer.text).toContain(`${actionId} · restart_service: requested, awaiting approval`);
      expect(answer.text).toContain('drop_database: not requested — There is no action called drop_database.');
      expect(await getAction(db, actionId)).toMatchObject({ requestedBy: 'songkai', status: 'pending', room: { platform: 'slack', id: 'C0OPS' } });
    });
  });

  describe('WeCom, through encrypted callbacks', () => {
    it('a slow answer: "正在查询…" first, then the answer follows as its own message (WeCom cannot edit)', async () => {
      const sends = wecomStandin.bodiesOf('message/send').length;
      const sent = () => wecomStandin.bodiesOf('message/send').slice(sends).map((b) => JSON.stringify(b));
      script = async (q, options) => {
        await new Promise<void>((resolve, reject) => {
          const until = Date.now() + 10_000;
          const poll = () => (sent().some((s) => s.includes('正在查询')) ? resolve() : Date.now() > until ? reject(new Error('no progress line on WeCom')) : setTimeout(poll, 10));
          poll();
        });
        return answerQuestion(app, q, options);
      };
      const cb = encryptCallback({ token: WECOM_SAMPLE.token, aesKey: WECOM_SAMPLE.aesKey, corpId: WECOM_SAMPLE.corpId, innerXml: textMessageXml({ fromUser: 'songkai', content: CHANGES_ZH, msgId: `7${Date.now()}` }) });
      const res = await fetch(`http://127.0.0.1:${server.port}/wecom/callback?${cb.queryString}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: cb.body });
      expect(res.status).toBe(200);
      await wecom.settled();
      const out = sent();
      expect(out).toHaveLength(2);
      expect(out[0]).toContain('正在查询');
      expect(out[1]).toContain('CAB-20261120-003');
      expect(out[1]).toContain('离线规划器回答 · 工具：change_lookup（成功）');
      expect(out.join('\n')).not.toContain('已更新');
      expect(wecomStandin.bodiesOf('message/send').slice(sends).every((b) => b.touser === 'songkai')).toBe(true);
      expect(asked.at(-1)).toMatchObject({ actor: 'songkai', room: { platform: 'wecom', id: 'songkai', kind: 'dm' } });
    });
  });

  describe('the local web chat', () => {
    it('a slow answer: the progress line is a message in the room that becomes the answer, once', async () => {
      const chat = createLocalChatPlatform(bot, { heartbeatMs: 200 });
      attachPlatform(bot, chat.platform);
      const web = await startHttpServer(app, { port: 0, routes: chat.routes });
      try {
        const client = await signIn(`http://127.0.0.1:${web.port}`, () => chat.signInLink(), 'songkai');
        const botLines = async () => db.query<{ message: OutgoingMessage; created_at: Date; updated_at: Date }>("SELECT message, created_at, updated_at FROM local_messages WHERE room_id = 'general' AND author = 'warroom' ORDER BY id");
        script = async (q, options) => {
          const until = Date.now() + 10_000;
          while (!(await botLines()).some((l) => l.message.text.includes('正在查询'))) {
            if (Date.now() > until) throw new Error('no progress line in the web chat');
            await new Promise((r) => setTimeout(r, 10));
          }
          return answerQuestion(app, q, options);
        };
        expect((await client.post('/chat/api/send', { room: 'general', text: CHANGES_ZH })).status).toBe(202);
        await chat.settled();
        const r = await client.get('/chat/api/messages', { room: 'general' });
        const fromBot = (r.body.messages as LocalMessage[]).filter((m) => m.author === 'warroom');
        expect(fromBot).toHaveLength(1);
        expect(JSON.stringify(fromBot[0]!.message)).toContain('CAB-20261120-003');
        expect(fromBot[0]!.message.context).toContain('离线规划器回答 · 工具：change_lookup（成功）');
        expect(asked.at(-1)).toMatchObject({ actor: 'songkai', room: { platform: 'local', id: 'general' } });
      } finally {
        bot.platforms.delete('local');
        await chat.stop();
        await web.close();
      }
    });
  });

  describe('incident context and who may see it', () => {
    it('in the incident room the agent gets the incident: facts, impact, eta, roles with names, the latest timeline', async () => {
      const { id, roomId } = await declareForTest(bot, { platform: 'slack' });
      await updateIncident(db, id, { impact: '约 30% 委托失败' });
      await mergeExtra(db, id, { eta: { text: '10:30 前恢复', at: '2026-11-23T01:45:00.000Z', by: 'xieping' } });
      await say('这个故障影响多大', { user: slackOf.get('lihua')!, room: roomId });
      const q = asked.at(-1)!;
      expect(q.incidentId).toBe(id);
      expect(q.incident).toMatchObject({ id, system: 'jzjy', systemName: '集中交易', severity: 'P1', impact: '约 30% 委托失败', eta: '10:30 前恢复' });
      expect(q.incident!.roles).toContainEqual({ role: 'incident-commander', person: 'xieping', name: '谢平' });
      expect(q.incident!.timeline.length).toBeGreaterThan(0);
      expect(q.incident!.timeline.length).toBeLessThanOrEqual(10);
      // Anyone in the room gets the room's incident, even someone Warroom does not know.
      await say('what is the impact?', { user: 'U0STRANGER', room: roomId });
      expect(asked.at(-1)).toMatchObject({ actor: 'slack:U0STRANGER', incidentId: id });
      // eta as a plain string is read too; none recorded reads as null.
      await mergeExtra(db, id, { eta: '11:00' });
      await say('什么时候能恢复', { user: slackOf.get('lihua')!, room: roomId });
      expect(asked.at(-1)!.incident!.eta).toBe('11:00');
    });

    it('an INC id named outside its room reaches the agent only for people in it; a stranger is told they cannot see it and the agent never sees it', async () => {
      const { id } = await declareForTest(bot, { platform: 'slack' });
      const question = `${id} 影响多大`;
      // Not in it: unknown to Warroom; known but neither in the incident nor on call (郑欣, security); a made-up id.
      for (const [user, text] of [
        ['U0STRANGER', question],
        [slackOf.get('zhengxin')!, question],
        [slackOf.get('zhengxin')!, 'INC-20261123-999 影响多大'],
      ] as const) {
        const before = asked.length;
        const replies = await say(text, { user, room: 'C0OPS' });
        expect(asked.length).toBe(before); // the agent was not called at all
        expect(textOf(replies)).toMatch(/^你无法查看 INC-20261123-\d{3}：只有参与这起故障的人/);
        expect(textOf(replies)).not.toContain('集中交易');
      }
      // The same words whether it exists or not.
      const a = textOf(await say(question, { user: slackOf.get('zhengxin')!, room: 'C0OPS' })).replace(id, 'X');
      const b = textOf(await say('INC-20261123-999 影响多大', { user: slackOf.get('zhengxin')!, room: 'C0OPS' })).replace('INC-20261123-999', 'X');
      expect(a).toBe(b);
      // In it: the declarer, the commander (a role), whoever is on call for jzjy now (吴军, DBA), from a DM or the CLI.
      for (const [who, platform] of [
        ['songkai', 'slack'],
        ['xieping', 'slack'],
        ['wujun', 'cli'],
      ] as const) {
        await say(question, platform === 'slack' ? { user: slackOf.get(who)!, room: 'D0DM', kind: 'dm' } : { platform: 'cli', user: who, room: 'ask', kind: 'dm' });
        expect(asked.at(-1)).toMatchObject({ actor: who, incidentId: id, incident: { id, title: '开盘委托大量失败' } });
      }
      // In another incident's room, naming one the asker may not see: refused, not mixed in.
      const other = await declareForTest(bot, { platform: 'slack', system: 'app-trade', title: '手机证券登录失败', actor: 'davidchen' });
      const before = asked.length;
      const replies = await say(`${id} 和这边有关系吗`, { user: slackOf.get('davidchen')!, room: other.roomId });
      expect(asked.length).toBe(before);
      expect(textOf(replies)).toContain(`你无法查看 ${id}`);
    });
  });

  describe('history', () => {
    it('a follow-up reaches the agent with the asker\'s earlier turn in this room, and only theirs', async () => {
      await say(CHANGES_ZH, { user: slackOf.get('songkai')!, room: 'C0HIST' });
      await say('那昨天呢', { user: slackOf.get('songkai')!, room: 'C0HIST' });
      const followUp = asked.at(-1)!;
      expect(followUp.history).toEqual([{ question: CHANGES_ZH, intent: 'changes', system: 'jzjy', at: app.clock().toISOString() }]);
      // Someone else in the same room, and the same person elsewhere, start afresh.
      await say('那昨天呢', { user: slackOf.get('lihua')!, room: 'C0HIST' });
      expect(asked.at(-1)!.history).toBeUndefined();
      await say('那昨天呢', { user: slackOf.get('songkai')!, room: 'C0ELSEWHERE' });
      expect(asked.at(-1)!.history).toBeUndefined();
      // Turns pile up in order, at most five.
      for (let i = 0; i < 6; i++) await say('who is on call for jzjy?', { user: slackOf.get('songkai')!, room: 'C0HIST' });
      const last = asked.at(-1)!.history!;
      expect(last).toHaveLength(5);
      expect(last.every((turn) => turn.question === 'who is on call for jzjy?' && turn.intent === 'oncall' && turn.system === 'jzjy')).toBe(true);
    });
  });

  describe('the terminal and warroom ask', () => {
    it('proposals from the terminal: the request card (no buttons) follows the answer, since no room shows it', async () => {
      script = async (_q, options) => {
        const made = await options.proposeAction!({ tool: 'restart_service', input: { host: 'trd-app-04' }, reason: 'asked' });
        return { planner: 'llm', intent: 'llm', text: '已提交重启申请。', toolCalls: [], citations: [], hypotheses: [], proposedActions: [{ tool: 'restart_service', input: { host: 'trd-app-04' }, reason: 'asked', ...made }] };
      };
      const replies = await say('重启 trd-app-04 上的服务', { platform: 'cli', user: 'songkai', room: 'terminal', kind: 'dm' });
      expect(replies).toHaveLength(2);
      const actionId = /ACT-\d{8}-\d{3}/.exec(renderText(replies[0]!.message))![0];
      expect(renderText(replies[0]!.message)).toContain(`${actionId} · restart_service：已提交申请，待审批（asked）`);
      expect(renderText(replies[1]!.message)).toContain(actionId);
      expect(replies[1]!.message.buttons ?? []).toEqual([]);
    });

    it('`warroom ask --json` prints the replies and the agent\'s tool calls, citations, planner and proposals; plain output keeps the footer', async () => {
      const cli = inProcessCli(app, 'songkai');
      const changes = JSON.parse(await cli.run(['ask', '--json', CHANGES_ZH])) as { replies: OutgoingMessage[]; agent: Record<string, unknown> & { toolCalls: Array<Record<string, unknown>> } };
      expect(changes.replies).toHaveLength(1);
      expect(JSON.stringify(changes.replies[0])).toContain('CAB-20261120-003');
      expect(changes.agent).toMatchObject({ planner: 'offline', intent: 'changes', citations: [], proposedActions: [] });
      expect(changes.agent.toolCalls).toEqual([{ name: 'change_lookup', input: expect.objectContaining({ system: 'jzjy', days: 3 }), status: 'success', summary: expect.any(String), durationMs: expect.any(Number) }]);
      expect(changes.agent).not.toHaveProperty('fallback');

      const runbook = JSON.parse(await cli.run(['ask', '--json', '开盘后委托大量失败，数据库连接池耗尽怎么处理'])) as { agent: { toolCalls: Array<{ name: string }>; citations: Array<{ runbookId: string; section: string }> } };
      expect(runbook.agent.toolCalls.map((c) => c.name)).toContain('search_runbooks');
      expect(runbook.agent.citations.length).toBeGreaterThan(0);
      expect(runbook.agent.citations[0]).toEqual({ runbookId: expect.any(String), section: expect.any(String), source: expect.any(String) });

      const help = JSON.parse(await cli.run(['ask', '--json', 'help'])) as { replies: OutgoingMessage[]; agent: unknown };
      expect(help.agent).toBeNull();
      expect(help.replies[0]!.title).toBe('Warroom commands');

      const plain = await cli.run(['ask', CHANGES_ZH]);
      expect(plain).toContain('CAB-20261120-003');
      expect(plain).toContain('↳ 离线规划器回答 · 工具：change_lookup（成功）');
    });
  });
});
