import { errorMessage, isWarroomError } from '../../core/errors.js';
import type { RequestSpec } from '../../workers/actions.js';
import type { ActionRequest } from '../../workers/action-store.js';
import type { Question } from '../types.js';
import type { ProposeActionPort } from './agent.js';

/**
 * The port that turns a guarded proposal into an action request in the asker's room, through the
 * bot's ActionService (`bot.actions`): the request is the asker's, in their room and incident, so
 * the usual policy applies (who may request, approvers, expiry). A refusal (policy, pre-check)
 * comes back as the reason, never as a thrown error.
 */
export function proposeThroughActions(actions: { request(spec: RequestSpec): Promise<ActionRequest> }, q: Question): ProposeActionPort | undefined {
  if (!q.room) return undefined;
  const room = { platform: q.room.platform, id: q.room.id };
  return async (spec) => {
    try {
      const action = await actions.request({ tool: spec.tool, input: spec.input, reason: spec.reason, requestedBy: q.actor, room, incidentId: q.incidentId, lang: q.lang });
      return { actionId: action.id };
    } catch (err) {
      return { refused: isWarroomError(err) ? err.message : errorMessage(err) };
    }
  };
}
