import { errorMessage } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';

/** What the event stream says: only what changed; the page fetches the details. */
export type LocalChatStreamEvent =
  | { type: 'room'; room: string }
  | { type: 'message'; op: 'created' | 'updated'; room: string; id: number }
  | { type: 'typing'; room: string; on: boolean }
  | { type: 'action'; op: 'done'; room: string; messageId: number };

/** `visibleTo`: only that person's streams hear it (private messages, DM rooms, their own action); null for all. */
export type LocalChatListener = (event: LocalChatStreamEvent, visibleTo: string | null) => void;

/** Change notifications from the platform to the open event streams. */
export interface LocalChatEvents {
  emit(event: LocalChatStreamEvent, visibleTo?: string | null): void;
  /** Returns the function that stops listening. */
  listen(listener: LocalChatListener): () => void;
}

export function createLocalChatEvents(log: () => Logger): LocalChatEvents {
  const listeners = new Set<LocalChatListener>();
  return {
    emit(event, visibleTo = null) {
      for (const l of listeners) {
        try {
          l(event, visibleTo);
        } catch (err) {
          log().warn({ err: errorMessage(err) }, 'local chat: event stream write failed');
        }
      }
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
