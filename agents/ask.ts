import { t } from '../core/lang.js';
import type { App } from '../tools/services.js';
import { answerOffline } from './agent.js';
import { answerWithLlm, type ProposeActionPort } from './llm/agent.js';
import { LlmEndpointError, type ChatModelPort } from './llm/chat-model.js';
import { llmSettingsFromConfig } from './llm/settings.js';
import type { AgentAnswer, Question } from './types.js';

export interface AskOptions {
  /** Called once when the answer will take a while (the chat shows "working on it…"): when the first tool call starts. */
  onProgress?: (detail: string) => void;
  /**
   * How a proposal of the LLM agent becomes an action request (the chat wires it to
   * `bot.actions.request` with the room). Only called after the guard found that the asker's own
   * question asked for this action on this target. Absent: proposals are refused ("approval cards
   * need a chat room").
   */
  proposeAction?: ProposeActionPort;
  /** Another chat model than the configured endpoint's (tests of the loop; the harness). */
  model?: ChatModelPort;
}

/**
 * The one entry for a free-text question: the LLM agent when a chat model is configured, else (or
 * when the model fails) the offline planner, which says so. Every caller (chat, `warroom ask`, the
 * evaluation harness) comes through here.
 */
export async function answerQuestion(app: App, q: Question, options: AskOptions = {}): Promise<AgentAnswer> {
  const settings = llmSettingsFromConfig(app.config);
  if (!settings) return answerOffline(app, q);
  try {
    return await answerWithLlm(app, q, settings, options);
  } catch (err) {
    if (!(err instanceof LlmEndpointError)) throw err;
    // The asker sees the short reason; operators also get the endpoint's words, with the key and secrets taken out.
    const detail = err.cause instanceof Error ? err.cause.message : undefined;
    app.logger.warn({ actor: q.actor, model: settings.model, reason: err.reason, ...(detail ? { detail } : {}) }, 'chat model failed; the offline planner answers');
    const offline = await answerOffline(app, q);
    return { ...offline, fallback: t(q.lang, `大模型暂不可用（${err.reasons.zh}），以下由离线规划器回答。`, `The language model is unavailable (${err.reason}); the offline planner answered.`) };
  }
}
