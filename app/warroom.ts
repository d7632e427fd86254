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
import { WarroomError } from '../core/errors.js';
import { isLoopbackAddress, isWildcardAddress, urlHost } from '../core/hosts.js';
import { startHttpServer } from '../server/http.js';
import type { ActionQueue } from '../workers/queue.js';
import { auditHooks, createActionQueue, createActionRuntime } from './action-runtime.js';
import { auditAnchorsPath, startAuditAnchoring } from '../db/audit-anchors.js';
import { alertRoutes } from '../server/routes/alerts.js';
import { failoverRoutes } from '../server/routes/failover.js';
import { ingestRoutes } from '../server/routes/ingest.js';
import { internalCliRoutes, type CliRequest, type CliResult } from '../server/routes/internal-cli.js';
import { connectHostFor, newServerToken, removeServerFile, writeServerFile } from './server-file.js';

export interface RunningWarroom {
  bot: Bot;
  platforms: ConnectedPlatforms;
  port: number;
  /** The server's base URL as this machine reaches it, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** A new one-time sign-in link for the web chat (undefined when the web chat is off). */
  signInLink: ((as?: string) => Promise<{ url: string; expiresAt: Date }>) | undefined;
  close(): Promise<void>;
}

/** Runs a forwarded CLI command inside this process against its app (the CLI provides it). */
export type CliRunner = (app: App, request: CliRequest, server: { baseUrl: string; bot: Bot }) => Promise<CliResult>;

export interface StartOptions {
  port: number;
  host?: string;
  redis?: Redis;
  timers?: boolean;
  /** Listen beyond loopback even with the web chat on or open webhooks (also WARROOM_ALLOW_REMOTE=1). */
  allowRemote?: boolean;
  /** With the embedded store: serve POST /internal/cli with this runner and write server.json. */
  cli?: CliRunner;
  /** Run the action workers in this process (default: WARROOM_WORKER, on). */
  worker?: boolean;
  /** The action queue (tests give one with their own Redis prefix); built from the config otherwise. */
  queue?: ActionQueue;
}

/**
 * Refuse to listen beyond loopback when that would put the web chat or token-less webhooks on the
 * network, unless told so explicitly; the error says why and what to set. Even when told so, the
 * webhooks without WARROOM_INGEST_TOKEN stay refused beyond loopback (server/routes/ingest.ts).
 */
export function checkExposure(app: App, options: { host: string; webChat: boolean; allowRemote?: boolean }): void {
  const { host, webChat } = options;
  if (isLoopbackAddress(host)) return;
  if (options.allowRemote || app.config.WARROOM_ALLOW_REMOTE) return;
  const openWebhooks = !app.config.WARROOM_INGEST_TOKEN;
  if (!webChat && !openWebhooks) return;
  const reasons = [
    ...(webChat ? ['the web chat (/chat) would be reachable from other machines'] : []),
    ...(openWebhooks ? ['WARROOM_INGEST_TOKEN is not set, so the webhooks (/api/alerts, /api/changes, /api/change-events, /api/snapshots, /api/failover/status) would have no token'] : []),
  ];
  throw new WarroomError('remote_listen_refused', `Refusing to listen on ${host} (beyond loopback): ${reasons.join('; and ')}.`, {
    hint: [
      'Either keep WARROOM_HOST=127.0.0.1 (put a reverse proxy in front and list its host name in WARROOM_PUBLIC_HOSTS),',
      `or ${[...(openWebhooks ? ['set WARROOM_INGEST_TOKEN'] : []), ...(webChat ? ['set WARROOM_WEB_CHAT=off (or configure Slack/WeCom)'] : [])].join(' and ')},`,
      'or accept it explicitly with WARROOM_ALLOW_REMOTE=1 (or --allow-remote): the web chat then still needs its sign-in link, and webhooks without the token stay refused.',
    ].join('\n'),
  });
}

/**
 * Everything `warroom start` runs: the bot with its chat platforms, the webhooks, health and
 * metrics on one HTTP server, and the incident timers.
 *
 * On the embedded store (no DATABASE_URL) this process is the store's only user: with `cli`
 * given, it also serves POST /internal/cli so that CLI commands started beside it run here, and
 * writes WARROOM_HOME/server.json (port, pid, token; mode 0600) telling them where it is.
 */
export async function startWarroom(app: App, options: StartOptions): Promise<RunningWarroom> {
  // A bad stage-limit or update-interval setting stops the start, not the first timer pass.
  incidentPolicy(app.config);
  const host = options.host ?? '127.0.0.1';
  const queue = options.queue ?? createActionQueue(app);
  const hooks = auditHooks(app);
  const bot = createBot(app, [], { queue, ...hooks });
  const actions = createActionRuntime(bot, queue, hooks);
  // Every minute (and at stop) the audit chain's head is anchored outside the database too.
  const anchoring = startAuditAnchoring(app.db, auditAnchorsPath(app.config), { onError: (err) => app.logger.warn({ err: errorMessage(err) }, 'anchoring the audit log failed') });
  const platforms = connectPlatforms(bot, app.config, app.logger);
  checkExposure(app, { host, webChat: platforms.webChat !== undefined, ...(options.allowRemote ? { allowRemote: true } : {}) });
  const owner = app.db.kind === 'pglite' && options.cli ? { token: newServerToken(), run: options.cli } : undefined;
  const http = await startHttpServer(app, {
    port: options.port,
    host,
    routes: [
      ...ingestRoutes(),
      ...failoverRoutes(),
      ...alertRoutes(incidentService(bot), app.config),
      ...platforms.routes,
      ...actions.routes,
      ...(owner ? internalCliRoutes(owner.token, (req) => owner.run(app, req, { baseUrl, bot })) : []),
    ],
    ...(options.redis ? { redis: options.redis } : {}),
  });
  // On a wildcard address this machine reaches the server over loopback, which is always served.
  const baseUrl = `http://${isWildcardAddress(host) ? (host.includes(':') ? '[::1]' : '127.0.0.1') : urlHost(host)}:${http.port}`;
  await platforms.start();
  // Declarations a crash left half-done (a room without its card, an incident without its room)
  // are finished now, not only at the first timer pass; in the background, so start is not held up.
  const resuming = resumeDeclarations(bot)
    .then((ids) => {
      if (ids.length) app.logger.info({ incidents: ids }, 'finished declarations left unfinished by an earlier run');
    })
    .catch((err: unknown) => app.logger.error({ err: errorMessage(err) }, 'resuming unfinished declarations failed'));
  const timers = options.timers === false ? undefined : startIncidentTimers(bot, app.config.WARROOM_TIMER_SECONDS);
  const runWorker = options.worker ?? app.config.WARROOM_WORKER === 'on';
  if (queue.mode === 'in-process') {
    app.logger.warn('approved actions run inside this process with their state in the database (no REDIS_URL): this mode is for trying Warroom; set REDIS_URL to run them on BullMQ workers');
  }
  if (runWorker || queue.mode === 'in-process') await actions.startWorker();
  else app.logger.info('action workers are not run here (WARROOM_WORKER=off): start `warroom worker` processes');
  actions.startSweeper();
  if (owner) {
    writeServerFile(app.config.WARROOM_HOME, {
      ...thisProcess(),
      port: http.port,
      connectHost: connectHostFor(host),
      token: owner.token,
      since: new Date().toISOString(),
    });
  }
  const webChat = platforms.webChat;
  return {
    bot,
    platforms,
    port: http.port,
    baseUrl,
    signInLink: webChat
      ? async (as) => {
          const link = await webChat.signInLink(as);
          return { url: `${baseUrl}${link.path}`, expiresAt: link.expiresAt };
        }
      : undefined,
    async close() {
      if (owner) removeServerFile(app.config.WARROOM_HOME, owner.token);
      timers?.stop();
      await resuming;
      await actions.stop();
      await anchoring.stop();
      await platforms.stop();
      await http.close();
    },
  };
}
