import { TradingCalendar } from './calendar.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { runningClock } from './time.js';
import type { Db } from '../db/db.js';
import { openDb } from '../db/open.js';
import { createToolRegistry } from '../tools/index.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { ToolContext } from '../tools/tool.js';
import { createEmbedder, type Embedder } from '../knowledge/embedder.js';

/** The running parts every entry point (server, chat, CLI, workers) shares. */
export interface App {
  config: Config;
  db: Db;
  calendar: TradingCalendar;
  logger: Logger;
  tools: ToolRegistry;
  /** Embeds runbook chunks and queries (offline unless an OpenAI-compatible endpoint is configured). */
  embedder: Embedder;
  /** Now, as the app sees it; tests and replays pin it. */
  clock: () => Date;
  /** Set by `warroom demo`: the clock runs on from the demo story's moment, not the real time (shown to users). */
  demoMoment?: Date;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  db?: Db;
  logger?: Logger;
  clock?: () => Date;
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const calendar = new TradingCalendar({ timeZone: config.WARROOM_TIMEZONE, holidaysFile: config.WARROOM_HOLIDAYS_FILE });
  const db = options.db ?? (await openDb(config));
  const app: App = {
    config,
    db,
    calendar,
    logger,
    tools: createToolRegistry(),
    embedder: createEmbedder(config),
    clock: options.clock ?? configuredClock(config),
    async close() {
      if (!options.db) await db.close();
    },
  };
  const thisYear = app.clock().toISOString().slice(0, 4);
  if (calendar.provisionalYears.has(thisYear) || !calendar.knownYears.has(thisYear)) {
    logger.warn({ year: thisYear }, 'the exchange holiday list for this year is provisional or missing; set WARROOM_HOLIDAYS_FILE');
  }
  return app;
}

/** The real clock, or one that starts at WARROOM_CLOCK and runs on from there. */
export function configuredClock(config: Pick<Config, 'WARROOM_CLOCK'>): () => Date {
  return config.WARROOM_CLOCK ? runningClock(new Date(config.WARROOM_CLOCK)) : () => new Date();
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
