import type { Redis } from 'ioredis';
import type { App } from '../tools/services.js';
import { createBot, type Bot } from '../bot/bot.js';
import { startIncidentTimers } from '../bot/incidents/timers.js';
import { resumeDeclarations } from '../bot/incidents/declare.js';
import { errorMessage } from '../core/errors.js';
import { incidentPolicy } from '../bot/incidents/facts.js';
import { incidentService } from '../bot/incidents/service.js';
import { connectPlatforms, type ConnectedPlatforms } from '../bot/platforms/connect.js';
import { thisProcess } from '../db/store-lock.js';
import { startHttpServer } from '../server/http.js';
import { alertRoutes } from '../server/routes/alerts.js';
import { ingestRoutes } from '../server/routes/ingest.js';
import { internalCliRoutes, type CliRequest, type CliResult } from '../server/routes/internal-cli.js';
import { connectHostFor, newServerToken, removeServerFile, writeServerFile } from './server-file.js';

export interface RunningWarroom {
  bot: Bot;
  platforms: ConnectedPlatforms;
  port: number;
  close(): Promise<void>;
}

/** Runs a forwarded CLI command inside this process against its app (the CLI provides it). */
export type CliRunner = (app: App, request: CliRequest) => Promise<CliResult>;

/**
 * Everything `warroom start` runs: the bot with its chat platforms, the webhooks, health and
 * metrics on one HTTP server, and the incident timers.
 *
 * On the embedded store (no DATABASE_URL) this process is the store's only user: with `cli`
 * given, it also serves POST /internal/cli so that CLI commands started beside it run here, and
 * writes WARROOM_HOME/server.json (port, pid, token; mode 0600) telling them where it is.
 */
export async function startWarroom(app: App, options: { port: number; host?: string; redis?: Redis; timers?: boolean; cli?: CliRunner }): Promise<RunningWarroom> {
  // A bad stage-limit or update-interval setting stops the start, not the first timer pass.
  incidentPolicy(app.config);
  const bot = createBot(app);
  const platforms = connectPlatforms(bot, app.config, app.logger);
  const owner = app.db.kind === 'pglite' && options.cli ? { token: newServerToken(), run: options.cli } : undefined;
  const http = await startHttpServer(app, {
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    routes: [
      ...ingestRoutes(),
      ...alertRoutes(incidentService(bot), app.config),
      ...platforms.routes,
      ...(owner ? internalCliRoutes(owner.token, (req) => owner.run(app, req)) : []),
    ],
    ...(options.redis ? { redis: options.redis } : {}),
  });
  await platforms.start();
  // Declarations a crash left half-done (a room without its card, an incident without its room)
  // are finished now, not only at the first timer pass; in the background, so start is not held up.
  const resuming = resumeDeclarations(bot)
    .then((ids) => {
      if (ids.length) app.logger.info({ incidents: ids }, 'finished declarations left unfinished by an earlier run');
    })
    .catch((err: unknown) => app.logger.error({ err: errorMessage(err) }, 'resuming unfinished declarations failed'));
  const timers = options.timers === false ? undefined : startIncidentTimers(bot, app.config.WARROOM_TIMER_SECONDS);
  if (owner) {
    writeServerFile(app.config.WARROOM_HOME, {
      ...thisProcess(),
      port: http.port,
      connectHost: connectHostFor(options.host ?? '127.0.0.1'),
      token: owner.token,
      since: new Date().toISOString(),
    });
  }
  return {
    bot,
    platforms,
    port: http.port,
    async close() {
      if (owner) removeServerFile(app.config.WARROOM_HOME, owner.token);
      timers?.stop();
      await resuming;
      await platforms.stop();
      await http.close();
    },
  };
}
