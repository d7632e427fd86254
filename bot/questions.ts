import { answerQuestion, type AskOptions } from '../agents/ask.js';
import type { AgentAnswer, IncidentContextData, Question } from '../agents/types.js';
import { errorMessage, isWarroomError } from '../core/errors.js';
import type { App } from '../tools/services.js';
import { turnOf, type HistoryKey, type TurnHistory } from './history.js';
import { incidentOfRoom, type IncidentRow } from './incidents/store.js';
import { namedIncidentIds, visibleIncident } from './incidents/visibility.js';
import { incidentContextData } from '../agents/incident-context.js';
import { t, type ChatRoom, type Lang, type OutgoingMessage } from './messages.js';
import { startProgress, type ProgressSink } from './progress.js';
import { agentAnswerView } from './views/agent-answer-view.js';

/**
 * A free-text question said in chat, on its way to the agent: who asks (the verified platform
 * identity, never the text), in which language and room, the room's incident (or one the question
 * names and the asker may see, bot/incidents/visibility.ts), the asker's last turns in this room;
 * "working on it…" while the agent takes its time; the answer as a view.
 */

/** The agent's entry, as the chat calls it (answerQuestion; tests may put a slow one in its place). */
export type Answerer = (app: App, q: Question, options: AskOptions) => Promise<AgentAnswer>;

/** Where a proposal was made, for the action request it becomes. */
export interface ProposalScope {
  actor: string;
  room: ChatRoom;
  incidentId?: string;
  lang: Lang;
}

/** Turns the agent's proposals into action requests, and says afterwards which cards are still to show. */
export interface Proposals {
  propose: NonNullable<AskOptions['proposeAction']>;
  /** Request cards the room did not get (the terminal, a room the bot cannot post in): shown after the answer. */
  unpostedCards(): Promise<OutgoingMessage[]>;
}

export interface QuestionHooks {
  /** The asker's earlier turns in this room; absent: every question stands alone. */
  history?: TurnHistory;
  /** Where "working on it…" shows; absent: nowhere (`warroom ask`, tests). */
  progress?: ProgressSink;
  /** How long a question may take before the progress line shows (default 1000 ms). */
  progressAfterMs?: number;
  /** Proposed actions become requests; absent: the agent's proposals are refused. */
  proposals?: (scope: ProposalScope) => Proposals;
  answer?: Answerer;
}

export interface QuestionReply {
  message: OutgoingMessage;
  answer?: AgentAnswer;
}

export interface QuestionInput {
  text: string;
  actor: string;
  lang: Lang;
  room: ChatRoom;
}

/**
 * Answer one question. Returns the replies still to deliver: none when the answer took the place of
 * the progress line; the answer; and after it any request cards the room did not get.
 */
export async function answerInChat(app: App, input: QuestionInput, hooks: QuestionHooks = {}): Promise<QuestionReply[]> {
  const { text, actor, lang, room } = input;
  const now = app.clock();

  // An incident the question names must be one the asker may see, or the question goes no further.
  const here = await incidentOfRoom(app.db, room.platform, room.id);
  let named: IncidentRow | undefined;
  for (const id of namedIncidentIds(text)) {
    if (here && id === here.id.toUpperCase()) continue;
    const seen = await visibleIncident(app.db, id, actor, now);
    if (!seen) {
      app.logger.info({ actor, incident: id, platform: room.platform }, 'question names an incident the asker may not see; not answered');
      return [{ message: notVisibleView(id, lang) }];
    }
    named ??= seen;
  }
  const incidentRow = named ?? here;
  const incident: IncidentContextData | undefined = incidentRow ? await incidentContextData(app.db, incidentRow.id, now, app.config.WARROOM_TIMEZONE, 10) : undefined;

  const key: HistoryKey = { platform: room.platform, room: room.id, actor };
  const history = hooks.history?.recent(key, now) ?? [];
  const question: Question = {
    text,
    actor,
    lang,
    room: { platform: room.platform, id: room.id, kind: room.kind },
    ...(incident ? { incidentId: incident.id, incident } : {}),
    ...(history.length ? { history } : {}),
  };

  const progress = startProgress(hooks.progress, { lang, logger: app.logger, ...(hooks.progressAfterMs !== undefined ? { afterMs: hooks.progressAfterMs } : {}) });
  const proposals = hooks.proposals?.({ actor, room, lang, ...(incident ? { incidentId: incident.id } : {}) });
  let answer: AgentAnswer;
  try {
    answer = await (hooks.answer ?? answerQuestion)(app, question, {
      onProgress: (detail) => progress.detail(detail),
      ...(proposals ? { proposeAction: proposals.propose } : {}),
    });
  } catch (err) {
    const message = failureView(app, err, lang, room);
    return (await progress.finish(message)) ? [] : [{ message }];
  }
  hooks.history?.record(key, turnOf(text, answer, now));
  const message = agentAnswerView(answer, lang, app.config.WARROOM_TIMEZONE);
  const replaced = await progress.finish(message);
  const cards = proposals ? await proposals.unpostedCards() : [];
  return [...(replaced ? [] : [{ message, answer }]), ...cards.map((card) => ({ message: card }))];
}

/** The same words whether the incident does not exist or the asker may not see it. */
export function notVisibleView(id: string, lang: Lang): OutgoingMessage {
  return {
    lang,
    text: t(
      lang,
      `你无法查看 ${id}：只有参与这起故障的人（担任角色、申报人、被拉进故障群、时间线上有记录）或其系统当前的值班人员可以查询它。需要的话，请故障指挥把你拉进故障群。`,
      `You cannot see ${id}: only people in that incident (holding a role, its declarer, brought into its room, on its timeline) or whoever is on call for its system can ask about it. If you need to, ask its commander to bring you into the room.`,
    ),
  };
}

function failureView(app: App, err: unknown, lang: Lang, room: ChatRoom): OutgoingMessage {
  if (isWarroomError(err)) return { lang, text: err.toUserText() };
  app.logger.error({ err: errorMessage(err), platform: room.platform }, 'answering a question failed');
  return { lang, text: t(lang, '回答这个问题时出错，已记录日志。请稍后重试。', 'Something failed while answering that; it has been logged. Please try again.') };
}
