import type { App } from '../tools/services.js';
import { answerOffline } from './agent.js';
import type { AgentAnswer, Question } from './types.js';

export interface AskOptions {
  /** Called once when the answer will take a while (the chat shows "working on it…"). */
  onProgress?: (detail: string) => void;
  /**
   * Turns a write/high tool the agent proposes into an action request (the chat wires it to
   * `bot.actions.request`, which posts the approval card in the room); absent: proposals are refused.
   */
  proposeAction?: (spec: { tool: string; input: unknown; reason: string }) => Promise<{ actionId: string } | { refused: string }>;
}

/**
 * The one entry for a free-text question: the LLM agent when a chat model is configured, else (or
 * when the model fails) the offline planner, which says so. Every caller (chat, `warroom ask`, the
 * evaluation harness) comes through here.
 */
export async function answerQuestion(app: App, q: Question, _options: AskOptions = {}): Promise<AgentAnswer> {
  // The LLM agent is wired in by agents/llm/ (issue 14); until then the offline planner answers.
  return answerOffline(app, q);
}
