import type { Lang } from '../core/lang.js';
import type { ToolResult } from '../tools/tool.js';

/**
 * The contract between the agents (offline planner, LLM agent) and everything that asks them
 * (chat, `warroom ask`, the evaluation harness). Agents return data, never a rendered message:
 * the bot turns an answer into a view.
 */

export interface Citation {
  runbookId: string;
  section: string;
  source: string;
}

/** An incident as the room's context gives it to an agent: facts only, already checked for visibility. */
export interface IncidentContextData {
  id: string;
  title: string;
  system: string;
  systemName: string | null;
  severity: string;
  status: string;
  openedAt: string;
  /** Recorded with `/incident impact …`; null when nobody recorded it yet. */
  impact: string | null;
  /** Recorded expected recovery (`/incident eta …`); null when nobody recorded it yet. */
  eta: string | null;
  rootCause: string | null;
  /** Who holds which role: ic, comms, ops, scribe. */
  roles: Array<{ role: string; person: string; name: string | null }>;
  /** The last timeline entries, oldest first. */
  timeline: Array<{ at: string; actor: string | null; kind: string; text: string }>;
}

/** One earlier turn of this asker in this room (for follow-up questions: "那昨天呢", "and who did it?"). */
export interface Turn {
  question: string;
  /** What the earlier question was read as, and the system it was about, when known. */
  intent?: string;
  system?: string;
  at: string;
}

export interface Question {
  text: string;
  /** A person id when known, otherwise `platform:user`. Comes from a verified signature or a session. */
  actor: string;
  lang: Lang;
  /** The incident the question is about (asked in its room, or named and visible to the asker). */
  incidentId?: string;
  /** The room's incident, for agents that want the context (the LLM gets it with the question). */
  incident?: IncidentContextData;
  /** Where it was asked (proposed actions post their approval card there). */
  room?: { platform: string; id: string; kind?: string };
  /** Earlier turns of this asker in this room, oldest first (at most a few). */
  history?: Turn[];
}

/** A tool call as answers and `warroom ask --json` show it: name, input, status, and the result. */
export type AgentToolCall = ToolResult & { input?: unknown };

/** An action the agent proposed: it becomes an action request (approval needed) or is refused with a reason. */
export interface ProposedAction {
  tool: string;
  input: unknown;
  reason: string;
  /** The action request created for it (pending approval). */
  actionId?: string;
  /** Why no request was made (the asker did not ask for an action; policy refused; invalid input…). */
  refused?: string;
}

/**
 * What an agent returns: data, never a rendered message.
 */
export interface AgentAnswer {
  /** Which planner answered. */
  planner: 'offline' | 'llm';
  /** Set when the LLM was configured but could not answer and the offline planner did: why (shown to the asker). */
  fallback?: string;
  /** What the question was read as (offline intents; the LLM agent reports 'llm'). */
  intent: string;
  /** The model's answer in the asker's language (LLM only; the offline planner's answer is its tool results). */
  text?: string;
  /** Every tool call made, in order, with its input, status, data and summary. */
  toolCalls: AgentToolCall[];
  /** Runbook passages the answer rests on. */
  citations: Citation[];
  /** Guesses, kept apart from facts (tool output, cited runbooks); the offline planner makes none. */
  hypotheses: string[];
  /** Write/high tools the agent proposed; they become action requests, never direct runs. */
  proposedActions: ProposedAction[];
  /** Set when the agent needs a system named before it can call a tool: the systems it knows. */
  clarify?: { about: string; systems: string[] };
  /** Lines the asker should read with the answer ("not recorded yet, ask the commander", "Warroom cannot do X"). */
  notes?: string[];
  /** Tokens the model used (LLM only). */
  usage?: { inputTokens: number; outputTokens: number };
  /** The LLM agent stopped before a final answer: the step limit, the token budget, or arguments invalid twice (the reason is in `notes`). */
  stopped?: 'step_limit' | 'token_budget' | 'invalid_arguments';
}
