import type { Bot } from '../bot/bot.js';
import { createActionNotifier } from '../bot/actions/notifier.js';
import { errorMessage } from '../core/errors.js';
import type { Route } from '../bot/http.js';
import { queueDashboardRoutes } from '../server/routes/queue-dashboard.js';
import type { App } from '../tools/services.js';
import { anchorAudit } from '../db/audit-anchors.js';
import { auditHead, formatAuditHead } from '../db/audit.js';
import { createBullmqQueue, type BullmqActionQueue } from '../workers/bullmq-queue.js';
import { createLocalQueue } from '../workers/local-queue.js';
import { createActionProcessor } from '../workers/processor.js';
import type { ActionQueue } from '../workers/queue.js';

/**
 * The queue of approved actions for an entry point: BullMQ on REDIS_URL, or (without Redis, the
 * README's first command) in this process with job state in the database.
 */
export function createActionQueue(app: App, options: { prefix?: string; lockDurationMs?: number; stalledIntervalMs?: number } = {}): ActionQueue {
  if (!app.config.REDIS_URL) return createLocalQueue({ db: app.db, logger: app.logger });
  return createBullmqQueue({ url: app.config.REDIS_URL, logger: app.logger, ...options });
}

/**
 * The audit hooks of approved actions: after each decision the chain's head is anchored outside the
 * database (WARROOM_AUDIT_ANCHORS_FILE), and updated request cards show it ("audit #1234 a1b2c3d4").
 */
export function auditHooks(app: App): { afterAudit: () => Promise<void>; auditHead: () => Promise<string | undefined> } {
  return {
    afterAudit: async () => {
      await anchorAudit(app.db, app.config);
    },
    auditHead: async () => {
      const head = await auditHead(app.db);
      return head ? formatAuditHead(head) : undefined;
    },
  };
}

export interface ActionRuntime {
  queue: ActionQueue;
  /** The dashboard's routes (empty without Redis). */
  routes: Route[];
  /** Runs the processors here (start unless WARROOM_WORKER=off, and `warroom worker`). */
  startWorker(): Promise<void>;
  /** Sweeps the outbox onto the queue and expires stale requests, every `everyMs`. */
  startSweeper(everyMs?: number): void;
  stop(): Promise<void>;
}

/**
 * What runs approved actions: the processor (BullMQ's shape) over the bot's tools with the bot's
 * cards for progress, the outbox sweeper that puts approved actions on the queue (again after a
 * crash or while Redis was away), and the expiry of undecided requests.
 */
export function createActionRuntime(bot: Bot, queue: ActionQueue, options: { afterAudit?: () => Promise<void>; auditHead?: () => Promise<string | undefined> } = {}): ActionRuntime {
  const app = bot.app;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = async () => {
    try {
      await bot.actions.expireDue();
      const sent = await bot.actions.sweepOutbox();
      if (sent.length) app.logger.info({ actions: sent }, 'approved actions put on the queue from the outbox');
    } catch (err) {
      app.logger.warn({ err: errorMessage(err) }, 'action sweep failed; retrying');
    }
  };
  return {
    queue,
    routes: queue.mode === 'bullmq' ? queueDashboardRoutes((queue as BullmqActionQueue).queue, app.config.WARROOM_ADMIN_TOKEN) : [],
    async startWorker() {
      const processor = createActionProcessor({
        app,
        notifier: createActionNotifier(bot, options.auditHead ? { auditHead: options.auditHead } : {}),
        afterAudit: options.afterAudit,
      });
      await queue.startWorker(processor, { concurrency: app.config.WARROOM_WORKER_CONCURRENCY });
    },
    startSweeper(everyMs = 2000) {
      const tick = () => {
        sweeping = sweeping.then(sweep);
      };
      tick();
      timer = setInterval(tick, everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sweeping;
      await queue.close();
    },
  };
}
