import { auditHooks, createActionQueue, createActionRuntime } from '../app/action-runtime.js';
import { createApp } from '../app/create-app.js';
import { createBot } from '../bot/bot.js';
import { connectPlatforms } from '../bot/platforms/connect.js';
import { loadConfig } from '../core/config.js';
import { errorMessage, WarroomError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';

/**
 * `warroom worker`: runs the action processors (and the outbox sweeper) against BullMQ, beside
 * `warroom start` or on other machines. It posts progress through the configured chat platforms'
 * APIs (it serves no HTTP), so it needs the same database, Redis and chat credentials as the server.
 */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  if (!config.REDIS_URL) {
    throw new WarroomError('worker_needs_redis', 'warroom worker needs REDIS_URL: without Redis, approved actions run inside `warroom start` itself.', {
      hint: 'Set REDIS_URL (and DATABASE_URL) to run separate workers, or just run `warroom start`.',
    });
  }
  if (!config.DATABASE_URL) {
    throw new WarroomError('worker_needs_postgres', 'warroom worker needs DATABASE_URL: the embedded store belongs to the one `warroom start` process.', {
      hint: 'Set DATABASE_URL to a PostgreSQL shared with the server, or let `warroom start` run the workers (the default).',
    });
  }
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp(config, { logger });
  const queue = createActionQueue(app);
  const hooks = auditHooks(app);
  const bot = createBot(app, [], { queue, ...hooks });
  // The platforms' Web API clients, for progress on the request cards; no routes, no sockets.
  connectPlatforms(bot, config, logger);
  const runtime = createActionRuntime(bot, queue, hooks);
  await runtime.startWorker();
  runtime.startSweeper();
  logger.info({ db: app.db.description, concurrency: config.WARROOM_WORKER_CONCURRENCY, platforms: [...bot.platforms.keys()] }, 'action worker running');
  process.stdout.write(`Warroom worker running (${config.WARROOM_WORKER_CONCURRENCY} at a time) on the queue at ${new URL(config.REDIS_URL).host}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker shutting down: running actions stop at a step boundary and resume on the next worker');
    try {
      await runtime.stop();
      await app.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'unclean worker shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
