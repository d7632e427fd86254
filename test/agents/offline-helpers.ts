import { answerOffline } from '../../agents/agent.js';
import type { AgentAnswer, Question } from '../../agents/types.js';
import { detectLang } from '../../bot/messages.js';
import { renderText } from '../../bot/render/text.js';
import { answerView } from '../../bot/views/answer-view.js';
import type { App } from '../../tools/services.js';

/** Ask the offline planner as `actor` and get the answer and what the terminal shows for it. */
export async function ask(app: App, text: string, extra: Partial<Question> = {}): Promise<{ answer: AgentAnswer; text: string }> {
  const lang = extra.lang ?? detectLang(text);
  const answer = await answerOffline(app, { text, actor: 'songkai', lang, ...extra });
  return { answer, text: renderText(answerView(answer, lang, app.config.WARROOM_TIMEZONE)) };
}

/** The tools an answer called, with their status. */
export const calls = (a: AgentAnswer) => a.toolCalls.map((c) => `${c.tool}:${c.status}`);
