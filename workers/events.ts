import type { ActionRequest, StepRecord } from './action-store.js';

/**
 * What happens to an action, for the people watching it. The bot implements `ActionNotifier`
 * (posts and updates the request card, writes the incident timeline); workers only call it, so
 * they never need the bot. A notifier that fails is logged; the action goes on.
 */
export type ActionEvent =
  | { kind: 'requested' }
  | { kind: 'approval'; by: string }
  | { kind: 'approved'; by: string }
  | { kind: 'rejected'; by: string }
  | { kind: 'expired' }
  | { kind: 'cancel-requested'; by: string }
  | { kind: 'cancelled'; by: string | null }
  | { kind: 'queued' }
  | { kind: 'started'; resumed: boolean }
  | { kind: 'progress'; steps: StepRecord[] }
  | { kind: 'finished' };

export interface ActionNotifier {
  changed(action: ActionRequest, event: ActionEvent): Promise<void>;
}

export const silentNotifier: ActionNotifier = {
  async changed() {},
};
