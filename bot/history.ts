import type { AgentAnswer, Turn } from '../agents/types.js';

/**
 * The last few questions of each asker in each room, kept by the bot in memory so a follow-up
 * ("那昨天呢", "and who did it?") reaches the agent with what came before. Bounded both ways: at
 * most `turns` per asker and room, at most `conversations` askers-in-rooms (the least recently
 * asked is forgotten first), and turns older than `maxAgeMs` are not passed on. Nothing is
 * persisted: a restart forgets, which costs a follow-up its context, never a wrong answer.
 */
export interface TurnHistory {
  /** Earlier turns of this asker in this room, oldest first. */
  recent(key: HistoryKey, now: Date): Turn[];
  record(key: HistoryKey, turn: Turn): void;
}

export interface HistoryKey {
  platform: string;
  room: string;
  actor: string;
}

export interface TurnHistoryOptions {
  turns?: number;
  conversations?: number;
  maxAgeMs?: number;
}

export function createTurnHistory(options: TurnHistoryOptions = {}): TurnHistory {
  const turns = options.turns ?? 5;
  const conversations = options.conversations ?? 1000;
  const maxAgeMs = options.maxAgeMs ?? 2 * 60 * 60_000;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recent.
  const byKey = new Map<string, Turn[]>();
  const keyOf = (k: HistoryKey) => JSON.stringify([k.platform, k.room, k.actor]);
  return {
    recent(key, now) {
      const list = byKey.get(keyOf(key)) ?? [];
      return list.filter((turn) => {
        const age = now.getTime() - Date.parse(turn.at);
        return Number.isFinite(age) && age <= maxAgeMs;
      });
    },
    record(key, turn) {
      const k = keyOf(key);
      const list = [...(byKey.get(k) ?? []), turn].slice(-turns);
      byKey.delete(k);
      byKey.set(k, list);
      while (byKey.size > conversations) byKey.delete(byKey.keys().next().value as string);
    },
  };
}

/** The system an answer was about: the first `system` a tool was called with. */
export function systemOfAnswer(answer: AgentAnswer): string | undefined {
  for (const call of answer.toolCalls) {
    const input = call.input;
    if (input && typeof input === 'object' && typeof (input as { system?: unknown }).system === 'string') return (input as { system: string }).system;
  }
  return undefined;
}

/** The turn a question and its answer leave for the next question. */
export function turnOf(question: string, answer: AgentAnswer, at: Date): Turn {
  const system = systemOfAnswer(answer);
  return { question: question.slice(0, 500), intent: answer.intent, ...(system ? { system } : {}), at: at.toISOString() };
}
