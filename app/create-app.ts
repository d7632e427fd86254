import { TradingCalendar } from '../core/calendar.js';
import type { Config } from '../core/config.js';
import { loadPolicy } from '../core/policy-file.js';
import { createLogger, type Logger } from '../core/logger.js';
import { runningClock } from '../core/time.js';
import type { Db } from '../db/db.js';
import { openDb, type OpenDbOptions } from '../db/open.js';
import { createEmbedder } from '../knowledge/embedder.js';
import { failoverDriversFromConfig } from '../tools/failover/drivers.js';
import { createToolRegistry } from '../tools/index.js';
import { readFpgaStatus } from '../tools/fpga/status-block.js';
import { requestFpgaPathSwitch } from '../tools/fpga/simulator.js';
import { createBlockPathDriver } from '../tools/fpga/path-driver.js';
import { fpgaStatusFile } from '../tools/fpga/fpga-status.js';
import type { App } from '../tools/services.js';

export interface CreateAppOptions {
  db?: Db;
  logger?: Logger;
  clock?: () => Date;
  /** Who opens the embedded store (locked for this process; see db/store-lock.ts). */
  owner?: OpenDbOptions['owner'];
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const calendar = new TradingCalendar({ timeZone: config.WARROOM_TIMEZONE, holidaysFile: config.WARROOM_HOLIDAYS_FILE });
  // Read before the store opens: a bad policy stops the start with the entry named, nothing half-open.
  const policy = loadPolicy(config.WARROOM_POLICY_FILE);
  const failoverDrivers = failoverDriversFromConfig(config);
  const db = options.db ?? (await openDb(config, options.owner ? { owner: options.owner } : {}));
  const app: App = {
    config,
    db,
    calendar,
    policy,
    logger,
    tools: createToolRegistry([], {
      config,
      failoverDrivers,
      fpgaReader: (file) => readFpgaStatus(file, { prefer: config.WARROOM_FPGA_READER }),
      // The demo's decoder is the simulator: a switch asks it to move the card's consumers.
      ...(config.WARROOM_FPGA_SWITCH_DRIVER === 'simulator' ? { fpgaPathDriver: createBlockPathDriver((card, to) => requestFpgaPathSwitch(fpgaStatusFile(config), card, to)) } : {}),
    }),
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

