import { errorMessage, isWarroomError } from '../../core/errors.js';
import { actionMessages, getAction } from '../../workers/action-store.js';
import type { ActionService } from '../../workers/actions.js';
import type { IncidentDeps } from '../incidents/deps.js';
import { t, type OutgoingMessage } from '../messages.js';
import type { ProposalScope, Proposals } from '../questions.js';
import { currentCard } from './notifier.js';

/**
 * The agent's proposals, made in chat, become action requests exactly as `/failover switch` makes
 * them (bot/actions/commands.ts): `ActionService.request` checks the tool, its input, the requester
 * and the plan, stores the request and posts its approval card in the room. A refusal (unknown tool,
 * bad input, not allowed, a pre-check that says no) goes back to the agent as `{ refused }` in the
 * asker's words; nothing runs without the approvals the policy asks for.
 */
export function chatProposals(deps: IncidentDeps & { actions: ActionService }, scope: ProposalScope): Proposals {
  const requested: string[] = [];
  return {
    async propose(spec) {
      try {
        const action = await deps.actions.request({
          tool: spec.tool,
          input: spec.input,
          requestedBy: scope.actor,
          room: { platform: scope.room.platform, id: scope.room.id },
          incidentId: scope.incidentId,
          reason: spec.reason,
          lang: scope.lang,
        });
        requested.push(action.id);
        return { actionId: action.id };
      } catch (err) {
        if (isWarroomError(err)) return { refused: err.message };
        deps.app.logger.error({ err: errorMessage(err), tool: spec.tool }, 'an agent proposal failed to become a request');
        return { refused: t(scope.lang, '申请未能提交（内部错误，已记录日志）。', 'The request could not be made (an internal error; it has been logged).') };
      }
    },
    async unpostedCards() {
      const cards: OutgoingMessage[] = [];
      for (const id of requested) {
        if ((await actionMessages(deps.app.db, id)).length > 0) continue;
        const action = await getAction(deps.app.db, id);
        // The terminal has no buttons: approvals there are `/action approve …`.
        if (action) cards.push(await currentCard(deps, action, { buttons: scope.room.platform !== 'cli' }));
      }
      return cards;
    },
  };
}
