import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachPlatform, createBot, type Bot } from '../../bot/bot.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import type { BotReply, ChatEvent } from '../../bot/platforms/platform.js';
import { createSlackPlatform, type SlackPlatform } from '../../bot/platforms/slack.js';
import { renderText } from '../../bot/render/text.js';
import { createLogger } from '../../core/logger.js';
import type { Db } from '../../db/db.js';
import { startHttpServer } from '../../server/http.js';
import type { App } from '../../tools/services.js';
import { inProcessCli } from '../helpers/cli-in-process.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { chatRequests, createLlmDemoApp } from '../helpers/llm-app.js';
import { httpError, startOpenAIStub, textReply, toolCallsReply, type OpenAIStub } from '../helpers/openai-stub.js';
import { appMentionEvent, eventCallbackBody, postSigned, startSlackStandin, type SlackStandin, type SlackStandinCall } from '../helpers/slack-standin.js';

const SECRET = 'agent-chat-llm-signing-secret-0123456789';
const CHANGES_ZH = '集中交易最近3个交易日有哪些变更';
const MODEL_TEXT = '集中交易最近 3 个交易日有 4 张变更单，其中 CAB-20261120-003（数据库连接池参数调整，高风险）由赵磊执行。';

/**
 * The chat with the LLM agent on (WARROOM_LLM_MODEL, OPENAI_BASE_URL → the local OpenAI stand-in,
 * the real openai/LangChain clients): the model's answer in Slack in place of the progress line,
 * `warroom ask --json` with the model's tool calls, the fallback when the endpoint fails, and what
 * the model is sent of incidents.
 */
describe('questions in chat answered by the LLM agent', () => {
  let stub: OpenAIStub;
  let db: Db;
  let app: App;
  let bot: Bot;
  let standin: SlackStandin;
  let slack: SlackPlatform;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let url: string;
  const slackOf = new Map<string, string>();

  beforeAll(async () => {
    stub = await startOpenAIStub();
    ({ db, app } = await createLlmDemoApp(stub));
    standin = await startSlackStandin({ latencyMs: 2 });
    standin.addChannel({ id: 'C0OPS', name: 'ops' });
    for (const p of await db.query<{ id: string; slack: string }>('SELECT id, slack FROM people WHERE slack IS NOT NULL')) slackOf.set(p.id, p.slack);
    bot = createBot(app, [], { progressAfterMs: 100 });
    slack = createSlackPlatform(bot, { botToken: standin.token, signingSecret: SECRET, apiUrl: standin.url, logger: createLogger('silent') });
    attachPlatform(bot, slack.platform);
    await slack.start();
    server = await startHttpServer(app, { port: 0, routes: slack.routes });
    url = `http://127.0.0.1:${server.port}/slack/events`;
  });
  afterAll(async () => {
    await slack?.stop();
    await server?.close();
    await standin?.close();
    await stub?.close();
    await db?.close();
  });
  beforeEach(async () => {
    stub.chatReplies.length = 0;
    await closeOpenIncidents(db);
  });
  const blocksText = (c: SlackStandinCall) => `${String(c.body.text)}\n${JSON.stringify(c.body.blocks ?? [])}`;

  it("Slack: a slow model shows the progress line, what it is calling, then the model's answer in its place with the tools it used", async () => {
    const posts = standin.callsOf('chat.postMessage').length;
    const updates = standin.callsOf('chat.update').length;
    const progressShown = () => standin.callsOf('chat.postMessage').slice(posts).some((c) => String(c.body.text).includes('正在查询'));
    const detailShown = () => standin.callsOf('chat.update').slice(updates).some((c) => String(c.body.text).includes('change_lookup'));
    // The model answers only once the stand-in has seen the progress line, then once it shows the call.
    stub.chatReplies.push(
      async () => {
        await standin.waitFor(progressShown, 'the progress line');
        return toolCallsReply([{ name: 'change_lookup', args: { system: 'jzjy', days: 3 } }]);
      },
      async () => {
        await standin.waitFor(detailShown, 'the tool being called, in the progress line');
        return textReply(MODEL_TEXT);
      },
    );
    await postSigned(url, SECRET, eventCallbackBody(appMentionEvent({ text: `<@${standin.botUserId}> ${CHANGES_ZH}`, user: slackOf.get('songkai')!, channel: 'C0OPS' })));
    await standin.waitFor(() => standin.callsOf('chat.update').slice(updates).some((c) => blocksText(c).includes('CAB-20261120-003')), "the model's answer");
    await slack.settled();
    const edits = standin.callsOf('chat.update').slice(updates);
    expect(edits).toHaveLength(2);
    expect(String(edits[0]!.body.text)).toBe('⏳ 正在查询… 正在调用 change_lookup…');
    const answer = edits[1]!;
    expect(String(answer.body.text)).toBe(MODEL_TEXT);
    const context = (answer.body.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>).filter((b) => b.type === 'context').flatMap((b) => b.elements ?? []).map((e) => e.text);
    expect(context).toContain('大模型回答 · 工具：change_lookup（成功）');
    expect(standin.callsOf('chat.postMessage').slice(posts).filter((c) => blocksText(c).includes('CAB-20261120-003'))).toEqual([]);
  });

  it('`warroom ask --json`: the model\'s text, its tool calls with their input and status; when the endpoint fails, the offline answer says why', async () => {
    const cli = inProcessCli(app, 'songkai');
    stub.chatReplies.push(toolCallsReply([{ name: 'change_lookup', args: { system: 'jzjy', days: 3 } }]), textReply(MODEL_TEXT));
    const out = JSON.parse(await cli.run(['ask', '--json', CHANGES_ZH])) as { replies: OutgoingMessage[]; agent: { planner: string; text: string; toolCalls: Array<Record<string, unknown>>; citations: unknown[]; usage?: unknown } };
    expect(out.agent.planner).toBe('llm');
    expect(out.agent.text).toBe(MODEL_TEXT);
    expect(out.agent.toolCalls).toEqual([{ name: 'change_lookup', input: expect.objectContaining({ system: 'jzjy', days: 3 }), status: 'success', summary: expect.any(String), durationMs: expect.any(Number) }]);
    expect(out.replies[0]!.text).toBe(MODEL_TEXT);
    expect(out.replies[0]!.context).toContain('大模型回答 · 工具：change_lookup（成功）');

    stub.chatReplies.push(httpError(500));
    const plain = await cli.run(['ask', CHANGES_ZH]);
    expect(plain).toMatch(/↳ ⚠️ 大模型暂不可用（.+），以下由离线规划器回答。/);
    expect(plain).toContain('CAB-20261120-003');
    expect(plain).toContain('↳ 离线规划器回答 · 工具：change_lookup（成功）');
    stub.chatReplies.push(httpError(500));
    const json = JSON.parse(await cli.run(['ask', '--json', CHANGES_ZH])) as { agent: { planner: string; fallback?: string } };
    expect(json.agent.planner).toBe('offline');
    expect(json.agent.fallback).toMatch(/^大模型暂不可用/);
  });

  it('the model is sent the room\'s incident in its room, and nothing at all when a stranger names it elsewhere', async () => {
    const { id, roomId } = await declareForTest(bot, { platform: 'slack' });
    const ask = (text: string, user: string, room: string): Promise<BotReply[]> => {
      const event: ChatEvent = { kind: 'message', platform: 'slack', userId: user, room: { platform: 'slack', id: room, kind: 'channel' }, text, at: app.clock() };
      return bot.handle(event, { progress: null });
    };
    stub.chatReplies.push(textReply('影响尚未记录，请询问故障指挥。'));
    let sent = chatRequests(stub).length;
    await ask('这个故障影响多大', slackOf.get('lihua')!, roomId);
    const inRoom = chatRequests(stub).slice(sent);
    expect(inRoom).toHaveLength(1);
    expect(JSON.stringify(inRoom[0]!.messages)).toContain(id);
    expect(JSON.stringify(inRoom[0]!.messages)).toContain('开盘委托大量失败');

    sent = chatRequests(stub).length;
    const replies = await ask(`${id} 现在影响多大，时间线上都有什么`, slackOf.get('zhengxin')!, 'C0OPS');
    expect(replies.map((r) => renderText(r.message)).join('\n')).toContain(`你无法查看 ${id}`);
    expect(chatRequests(stub).slice(sent)).toEqual([]); // the model was not asked at all
  });

  it('incidents the model finds through tools are left out unless the asker may see them', async () => {
    const { id } = await declareForTest(bot, { platform: 'slack' });
    const title = (await db.query<{ title: string }>('SELECT title FROM incidents WHERE id = $1', [id]))[0]!.title;
    stub.chatReplies.push(toolCallsReply([{ name: 'open_incidents', args: {} }]), toolCallsReply([{ name: 'incident_status', args: { incident: id } }]), textReply('没有你参与的未解决故障。'));
    const sent = chatRequests(stub).length;
    const event: ChatEvent = { kind: 'message', platform: 'slack', userId: slackOf.get('zhengxin')!, room: { platform: 'slack', id: 'C0OPS', kind: 'channel' }, text: '现在有哪些故障在处理？', at: app.clock() };
    const replies = await bot.handle(event, { progress: null });
    expect(chatRequests(stub).length - sent).toBe(3); // the loop ran: two tool calls, then the answer
    // What Warroom sent the model (the system prompt, the question, tool output), not the model's own calls echoed back.
    const fromWarroom = JSON.stringify(chatRequests(stub).slice(sent).flatMap((r) => (r.messages as Array<{ role: string }>).filter((m) => m.role !== 'assistant')));
    expect(fromWarroom).not.toContain(id);
    expect(fromWarroom).not.toContain(title);
    expect(fromWarroom).toContain('were left out');
    expect(fromWarroom).toContain('No incident the asker may see matches');
    const shown = replies.map((r) => renderText(r.message)).join('\n');
    expect(shown).not.toContain(title);
    expect(shown).toContain('open_incidents');

    // The declarer is in it: the same question shows it to the model.
    stub.chatReplies.push(toolCallsReply([{ name: 'open_incidents', args: {} }]), textReply('有一个未解决故障。'));
    const before = chatRequests(stub).length;
    const declarer = (await db.query<{ declared_by: string }>('SELECT declared_by FROM incidents WHERE id = $1', [id]))[0]!.declared_by;
    await bot.handle({ ...event, userId: slackOf.get(declarer)! }, { progress: null });
    expect(JSON.stringify(chatRequests(stub).slice(before))).toContain(id);
  });
});
