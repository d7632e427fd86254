import { createApp } from '../app/create-app.js';
import { loadConfig } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { createRedis } from '../core/redis.js';
import { startWarroom } from '../app/warroom.js';
import { STORE_WAIT_MS } from './run.js';
import { runForwardedCommand } from './serve.js';
import { isLoopbackAddress, urlHost } from '../core/hosts.js';
import { formatZoned } from '../core/time.js';

/** `warroom start`: one HTTP server until SIGTERM/SIGINT, then a clean shutdown. */
export async function startServer(options: { allowRemote?: boolean } = {}): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp(config, {
    logger,
    // On the embedded store this process is its owner until it stops; CLI commands are forwarded here.
    owner: { role: 'server', command: 'warroom start', waitMs: STORE_WAIT_MS, onWait: (h) => logger.warn({ pid: h.pid, command: h.command }, 'waiting for another command to finish with the embedded store') },
  });
  const redis = config.REDIS_URL ? createRedis(config.REDIS_URL) : undefined;
  redis?.on('error', (err) => logger.warn({ err: errorMessage(err) }, 'redis connection problem'));
  let http: Awaited<ReturnType<typeof startWarroom>>;
  try {
    http = await startWarroom(app, { port: config.WARROOM_PORT, host: config.WARROOM_HOST, ...(redis ? { redis } : {}), cli: runForwardedCommand, ...(options.allowRemote ? { allowRemote: true } : {}) });
  } catch (err) {
    if (redis) redis.disconnect();
    await app.close(); // releases the store for the next process
    throw err;
  }
  const base = `http://${urlHost(config.WARROOM_HOST)}:${http.port}`;
  logger.info({ port: http.port, host: config.WARROOM_HOST, db: app.db.description, platforms: http.platforms.names }, 'warroom listening');
  process.stdout.write(`Warroom listening on ${base} (health: /healthz, metrics: /metrics, alerts: POST /api/alerts)\n`);
  process.stdout.write(`Chat platforms: ${http.platforms.names.length ? http.platforms.names.join(', ') : 'none'}\n`);
  const link = await http.signInLink?.();
  if (link) {
    // The link is a credential: printed for the operator, never logged.
    process.stdout.write(`Web chat sign-in link (works once, until ${formatZoned(link.expiresAt, config.WARROOM_TIMEZONE)}; \`warroom chat-link\` makes another):\n  ${link.url}\n`);
  }
  if (app.db.kind === 'pglite') process.stdout.write(`Embedded store owned by this process (pid ${process.pid}): CLI commands on WARROOM_HOME are sent here.\n`);
  if (isLoopbackAddress(config.WARROOM_HOST) === false && !config.WARROOM_PUBLIC_HOSTS) {
    process.stdout.write(`Note: only requests naming ${http.baseUrl.replace(/^http:\/\//, '')} or another loopback name are served; list the names others use to reach this server in WARROOM_PUBLIC_HOSTS.\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await http.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await app.close();
      logger.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'unclean shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
