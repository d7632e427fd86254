import type { Redis } from 'ioredis';
import type { App } from '../tools/services.js';
import { createBot, type Bot } from '../bot/bot.js';
import { startIncidentTimers } from '../bot/incidents/timers.js';
import { resumeDeclarations } from '../bot/incidents/declare.js';
import { errorMessage } from '../core/errors.js';
import { incidentPolicy } from '../bot/incidents/facts.js';
import { incidentService } from '../bot/incidents/service.js';
import { connectPlatforms, type ConnectedPlatforms } from '../bot/platforms/connect.js';
import { startHttpServer } from '../server/http.js';
import { alertRoutes } from '../server/routes/alerts.js';
import { ingestRoutes } from '../server/routes/ingest.js';

export interface RunningWarroom {
  bot: Bot;
  platforms: ConnectedPlatforms;
  port: number;
  close(): Promise<void>;
}

/**
 * Everything `warroom start` runs: the bot with its chat platforms, the webhooks, health and
 * metrics on one HTTP server, and the incident timers.
 */
export async function startWarroom(app: App, options: { port: number; host?: string; redis?: Redis; timers?: boolean }): Promise<RunningWarroom> {
  // A bad stage-limit or update-interval setting stops the start, not the first timer pass.
  incidentPolicy(app.config);
  const bot = createBot(app);
  const platforms = connectPlatforms(bot, app.config, app.logger);
  const http = await startHttpServer(app, {
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    routes: [...ingestRoutes(), ...alertRoutes(incidentService(bot)), ...platforms.routes],
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
  return {
    bot,
    platforms,
    port: http.port,
    async close() {
      timers?.stop();
      await resuming;
      await platforms.stop();
      await http.close();
    },
  };
}
