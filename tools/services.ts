import type { TradingCalendar } from '../core/calendar.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { WarroomPolicy } from '../core/policy-file.js';
import type { Db } from '../db/db.js';
import type { Embedder } from '../knowledge/embedder.js';
import type { ToolRegistry } from './registry.js';
import type { ToolContext } from './tool.js';

/**
 * The services domain code is handed (store, calendar, clock, tools…). Built by the composition
 * root (app/create-app.ts) for each entry point; nothing below it builds one.
 */
/** The running parts every entry point (server, chat, CLI, workers) shares. */
export interface App {
  config: Config;
  db: Db;
  calendar: TradingCalendar;
  logger: Logger;
  tools: ToolRegistry;
  /** Embeds runbook chunks and queries (offline unless an OpenAI-compatible endpoint is configured). */
  embedder: Embedder;
  /** Who may do what (WARROOM_POLICY_FILE, or the shipped policy), read and checked at start. */
  policy: WarroomPolicy;
  /** Now, as the app sees it; tests and replays pin it. */
  clock: () => Date;
  /** Set by `warroom demo`: the clock runs on from the demo story's moment, not the real time (shown to users). */
  demoMoment?: Date;
  close(): Promise<void>;
}

export function toolContext(app: App, actor: string, extra: Partial<ToolContext> = {}): ToolContext {
  return {
    db: app.db,
    calendar: app.calendar,
    logger: app.logger,
    embedder: app.embedder,
    actor,
    now: app.clock(),
    timeZone: app.config.WARROOM_TIMEZONE,
    ...extra,
  };
}
