import { HumanMessage, SystemMessage, ToolMessage, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import { errorMessage, isWarroomError } from '../../core/errors.js';
import { canonicalJson } from '../../core/json.js';
import { t } from '../../core/lang.js';
import { redactText } from '../../core/redact.js';
import { formatZoned, localParts } from '../../core/time.js';
import { toolContext, type App } from '../../tools/services.js';
import type { AgentAnswer, AgentToolCall, ProposedAction, Question } from '../types.js';
import { splitHypotheses } from './answer-text.js';
import { createChatModel, type ChatModelPort } from './chat-model.js';
import { citationsOf } from './citations.js';
import { askedFor, loadGuardFacts, type GuardFacts } from './guard.js';
import { checkCall, offerTools, PROPOSE_ACTION, type ProposeActionInput } from './offer.js';
import { questionMessage, systemPrompt, toolOutputMessage, warroomNote } from './prompt.js';
import type { LlmSettings } from './settings.js';
import { withoutHiddenIncidents } from './visibility.js';

/** How a proposal becomes an action request (the chat wires it to the bot's ActionService with the room). */
export type ProposeActionPort = (spec: { tool: string; input: unknown; reason: string }) => Promise<{ actionId: string } | { refused: string }>;

export interface LlmAgentOptions {
  /** Called once, when the first tool call starts. */
  onProgress?: ((detail: string) => void) | undefined;
  /** Absent: proposals are refused ("approval cards need a chat room"). */
  proposeAction?: ProposeActionPort | undefined;
  /** Another model (tests of the loop itself); default: ChatOpenAI over the configured endpoint. */
  model?: ChatModelPort | undefined;
}

function textOf(message: AIMessage): string {
  const c = message.content;
  if (typeof c === 'string') return c;
  return c
    .map((part) => (typeof part === 'string' ? part : part.type === 'text' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
    .join('');
}

/**
 * The LLM agent: a tool-calling loop we run ourselves so every limit is ours (HolmesGPT's habits):
 * at most `maxSteps` model calls; an identical call (same tool, same canonical arguments) is not run
 * again, the model is told so; a per-question token budget from the endpoint's usage reports;
 * invalid arguments go back to the model once, the second time the agent stops; tool output is
 * redacted and trimmed before the model sees it; `propose_action` goes through the deterministic
 * guard (agents/llm/guard.ts) before any action request is made.
 */
export async function answerWithLlm(app: App, q: Question, settings: LlmSettings, options: LlmAgentOptions = {}): Promise<AgentAnswer> {
  const offer = offerTools(app.tools);
  const model = options.model ?? createChatModel(settings, offer.specs);
  const ctx = toolContext(app, q.actor, q.incidentId ? { incidentId: q.incidentId } : {});
  const now = app.clock();
  const weekday = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][localParts(now, ctx.timeZone).weekday];
  const messages: BaseMessage[] = [
    new SystemMessage(systemPrompt(q, { now: `${formatZoned(now, ctx.timeZone)} ${weekday}`, timeZone: ctx.timeZone })),
    new HumanMessage(questionMessage(q)),
  ];

  const toolCalls: AgentToolCall[] = [];
  const proposedActions: ProposedAction[] = [];
  const notes: string[] = [];
  const usage = { inputTokens: 0, outputTokens: 0 };
  const seen = new Map<string, number>();
  let invalidCalls = 0;
  let progressed = false;
  let guardFacts: GuardFacts | undefined;
  let lastText = '';
  const spent = () => usage.inputTokens + usage.outputTokens;

  const finish = (text: string, extra: Partial<AgentAnswer> = {}): AgentAnswer => {
    const { text: body, hypotheses } = splitHypotheses(text);
    for (const p of proposedActions) {
      notes.push(
        p.actionId
          ? t(q.lang, `已发起操作请求 ${p.actionId}（${p.tool}），等待审批，尚未执行。`, `Action request ${p.actionId} (${p.tool}) created: it waits for approval and has not run.`)
          : t(q.lang, `提议的操作 ${p.tool} 被拒绝，没有发起操作请求：${p.refused ?? ''}`, `The proposed ${p.tool} was refused; no action request was made: ${p.refused ?? ''}`),
      );
    }
    return {
      planner: 'llm',
      intent: 'llm',
      ...(body ? { text: body } : {}),
      toolCalls,
      citations: citationsOf(toolCalls, text),
      hypotheses,
      proposedActions,
      ...(notes.length ? { notes } : {}),
      usage: { ...usage },
      ...extra,
    };
  };
  const stop = (reason: NonNullable<AgentAnswer['stopped']>, zh: string, en: string): AgentAnswer => {
    notes.push(t(q.lang, zh, en));
    app.logger.info({ actor: q.actor, stopped: reason, steps: toolCalls.length, tokens: spent() }, 'llm agent stopped');
    return finish(lastText, { stopped: reason });
  };
  const overBudget = () =>
    stop('token_budget', `已用 ${spent()} 个 token，超过每个问题 ${settings.tokenBudget} 的上限，已停止；下面是已拿到的工具结果。`, `Stopped: ${spent()} tokens used, over the per-question budget of ${settings.tokenBudget}; the tool results so far are below.`);

  const propose = async (proposal: ProposeActionInput): Promise<string> => {
    const record = (extra: Pick<ProposedAction, 'actionId' | 'refused'>) => proposedActions.push({ tool: proposal.tool, input: proposal.input, reason: proposal.reason, ...extra });
    const refuse = (reason: string) => {
      record({ refused: reason });
      return `Refused: no action request was made. ${reason} Tell the asker the proposal was refused and why; do not propose it again.`;
    };
    guardFacts ??= await loadGuardFacts(app.db);
    const verdict = askedFor({ text: q.text, lang: q.lang, incidentSystem: q.incident?.system }, proposal, guardFacts);
    if (!verdict.allowed) return refuse(verdict.reason);
    if (proposedActions.some((p) => p.actionId)) return refuse(t(q.lang, '每个问题最多发起一个操作请求。', 'one action request per question.'));
    if (!options.proposeAction) return refuse(t(q.lang, '审批卡需要在聊天房间里发起，这里没有房间。', 'approval cards need a chat room, and this question has none.'));
    try {
      const r = await options.proposeAction({ tool: proposal.tool, input: proposal.input, reason: proposal.reason });
      if ('refused' in r) return refuse(redactText(r.refused));
      record({ actionId: r.actionId });
      return `Action request ${r.actionId} created for ${proposal.tool} on ${verdict.target}. It has NOT run: it waits for approval in the room. Say so in the answer.`;
    } catch (err) {
      return refuse(redactText(isWarroomError(err) ? err.message : errorMessage(err)));
    }
  };

  for (let step = 1; step <= settings.maxSteps; step++) {
    if (spent() >= settings.tokenBudget) return overBudget();
    const reply = await model.invoke(messages);
    usage.inputTokens += reply.usage_metadata?.input_tokens ?? 0;
    usage.outputTokens += reply.usage_metadata?.output_tokens ?? 0;
    messages.push(reply);
    lastText = textOf(reply);
    const calls = reply.tool_calls ?? [];
    const broken = reply.invalid_tool_calls ?? [];
    app.logger.debug({ step, tools: calls.map((c) => c.name), invalid: broken.length, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens }, 'llm step');
    if (calls.length === 0 && broken.length === 0) return finish(lastText);
    if (spent() > settings.tokenBudget) return overBudget();

    const invalid = (callId: string, name: string, error: string): AgentAnswer | undefined => {
      invalidCalls += 1;
      if (invalidCalls >= 2) {
        return stop(
          'invalid_arguments',
          `模型第二次给出了无效的工具参数（${name}：${error}），已停止。请换个说法再问，或用命令直接查询。`,
          `Stopped: the model sent invalid tool arguments a second time (${name}: ${error}). Rephrase the question, or use a command directly.`,
        );
      }
      messages.push(new ToolMessage({ tool_call_id: callId, name, content: warroomNote(`${error}. Fix the arguments and call again; this is the only retry.`) }));
      return undefined;
    };

    for (const [i, b] of broken.entries()) {
      const stopped = invalid(b.id ?? `invalid_${step}_${i}`, b.name ?? 'unknown', `arguments are not valid JSON${b.error ? ` (${b.error})` : ''}`);
      if (stopped) return stopped;
    }
    for (const [i, call] of calls.entries()) {
      const callId = call.id ?? `call_${step}_${i}`;
      const key = `${call.name} ${canonicalJson(call.args ?? {})}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        messages.push(new ToolMessage({ tool_call_id: callId, name: call.name, content: warroomNote(`Not run again: ${call.name} was already called with these same arguments at step ${earlier}, and its result is above. Use that result, call something else, or answer now.`) }));
        continue;
      }
      const checked = checkCall(offer, call.name, call.args);
      if (!checked.ok) {
        const stopped = invalid(callId, call.name, checked.error);
        if (stopped) return stopped;
        continue;
      }
      seen.set(key, step);
      if (!progressed) {
        progressed = true;
        options.onProgress?.(call.name === PROPOSE_ACTION ? t(q.lang, '正在准备操作请求…', 'preparing an action request…') : t(q.lang, `正在调用 ${call.name}…`, `calling ${call.name}…`));
      }
      if (checked.proposal) {
        messages.push(new ToolMessage({ tool_call_id: callId, name: call.name, content: warroomNote(await propose(checked.proposal)) }));
        continue;
      }
      const result = await withoutHiddenIncidents(app, q, await app.tools.invoke(call.name, checked.input, ctx));
      toolCalls.push(result);
      messages.push(new ToolMessage({ tool_call_id: callId, name: call.name, content: toolOutputMessage(result, callId, settings.toolOutputChars).content }));
    }
  }
  return stop(
    'step_limit',
    `已到 ${settings.maxSteps} 步上限仍未得出答案，已停止；下面是已拿到的工具结果。`,
    `Stopped after ${settings.maxSteps} model steps without a final answer; the tool results so far are below.`,
  );
}
