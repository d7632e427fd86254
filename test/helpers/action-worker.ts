/**
 * A worker process for the reliability tests: what `warroom worker` runs (the action runtime over
 * BullMQ and PostgreSQL), plus the test's `switch_service` tool, with short lock and stalled-check
 * intervals so a killed worker's job is taken over within a second or two.
 *
 *   node --import tsx test/helpers/action-worker.ts
 *
 * Env: DATABASE_URL, REDIS_URL, WARROOM_TEST_QUEUE_PREFIX (the test's own Redis key prefix),
 * and the usual Warroom settings. Prints "worker ready" once it takes jobs; SIGTERM stops it as
 * `warroom worker` stops.
 */
import { createActionQueue, createActionRuntime } from '../../app/action-runtime.js';
import { createApp } from '../../app/create-app.js';
import { createBot } from '../../bot/bot.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { switchServiceTool } from './switch-service.js';

const prefix = process.env.WARROOM_TEST_QUEUE_PREFIX;
if (!prefix) throw new Error('WARROOM_TEST_QUEUE_PREFIX is not set');
const config = loadConfig();
if (!config.DATABASE_URL || !config.REDIS_URL) throw new Error('DATABASE_URL and REDIS_URL are needed');
const logger = createLogger(config.LOG_LEVEL);
const app = await createApp(config, { logger });
app.tools.register(switchServiceTool);
const queue = createActionQueue(app, { prefix, lockDurationMs: 1000, stalledIntervalMs: 500 });
const bot = createBot(app, [], { queue });
const runtime = createActionRuntime(bot, queue);
await runtime.startWorker();
process.stdout.write(`worker ready ${process.pid}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await runtime.stop();
    await app.close();
    process.stdout.write('worker stopped\n');
    process.exit(0);
  })();
});
