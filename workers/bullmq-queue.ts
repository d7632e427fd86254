import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ACTION_QUEUE_NAME, type ActionProcessor, type ActionQueue } from './queue.js';

export interface BullmqQueueOptions {
  url: string;
  logger: Logger;
  /** Key prefix in Redis (tests use their own so runs do not meet). */
  prefix?: string;
  /** How long a worker's lock on a job lasts without renewal; a killed worker's job is taken over after it. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. */
  stalledIntervalMs?: number;
}

/** How long `close` still waits once it has seen Redis away. */
const REDIS_AWAY_MS = 5000;

export interface BullmqActionQueue extends ActionQueue {
  /** The BullMQ queue, for the dashboard (bull-board). */
  readonly queue: Queue;
}

/**
 * Approved actions on BullMQ. The job id is the action id: adding an action that is already on
 * the queue (waiting, active, completed or failed and kept) is ignored, so an outbox swept twice
 * still runs once. A worker killed mid-job loses its lock; the stalled-job check gives the job to
 * another worker (or the restarted one), and the processor resumes at the recorded step.
 *
 * Enqueueing fails fast while Redis is away (no offline queue): the approval's outbox row stays,
 * and the sweeper enqueues it when Redis is back.
 */
export function createBullmqQueue(options: BullmqQueueOptions): BullmqActionQueue {
  const { url, logger } = options;
  const prefix = options.prefix ?? 'warroom';
  const producer = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(200 * n, 2000) });
  producer.on('error', (err) => logger.debug({ err: errorMessage(err) }, 'redis (action queue) error'));
  const queue = new Queue(ACTION_QUEUE_NAME, { connection: producer, prefix });
  queue.on('error', (err) => logger.debug({ err: errorMessage(err) }, 'action queue error'));
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];

  return {
    mode: 'bullmq',
    queue,
    async enqueue(actionId) {
      await queue.add(
        'run-action',
        { actionId },
        {
          jobId: actionId,
          // A failed job is the database being away (a failing tool ends the action, not the job): retry it.
          attempts: 5,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
          removeOnFail: { age: 30 * 24 * 3600 },
        },
      );
    },
    async startWorker(processor: ActionProcessor, workerOptions = {}) {
      const connection = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(200 * n, 2000) });
      connection.on('error', (err) => logger.debug({ err: errorMessage(err) }, 'redis (action worker) error'));
      workerConnections.push(connection);
      const worker = new Worker<{ actionId: string }>(ACTION_QUEUE_NAME, (job: Job<{ actionId: string }>, token?: string, signal?: AbortSignal) => processor(job, token, signal), {
        connection,
        prefix,
        concurrency: workerOptions.concurrency ?? 4,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        // A job whose worker died is retried once by the stalled check; the processor makes the rerun safe.
        maxStalledCount: 3,
      });
      worker.on('error', (err) => logger.warn({ err: errorMessage(err) }, 'action worker error'));
      worker.on('failed', (job, err) => logger.warn({ action: job?.id, err: errorMessage(err) }, 'action job failed (will be retried while attempts remain)'));
      workers.push(worker);
      await worker.waitUntilReady();
    },
    async close() {
      // BullMQ's close waits for running jobs to end, however long the action: abort their signal
      // first, so each stops at its next step boundary (the step under way finishes) and the job,
      // failed for this attempt, resumes on another worker at its recorded step.
      for (const w of workers) w.cancelAllJobs('the worker is shutting down');
      const graceful = Promise.all(workers.map((w) => w.close())).then(() => queue.close());
      graceful.catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the action queue failed'));
      // BullMQ's close waits for Redis for ever, and a worker's close that starts while its connection is
      // away (or still reconnecting after an outage) never ends even once Redis is back: a stop then never
      // ended. Once Redis has been seen away during the close, wait REDIS_AWAY_MS more, then stop waiting:
      // a job whose state could not be written there is handed out again once its lock lapses, and
      // resumes at its recorded step (as after a crash).
      await new Promise<void>((resolve) => {
        let awaySince: number | undefined;
        const check = () => {
          if (awaySince === undefined && [producer, ...workerConnections].some((c) => c.status !== 'ready')) awaySince = Date.now();
          if (awaySince !== undefined && Date.now() - awaySince >= REDIS_AWAY_MS) {
            logger.warn('Redis is away: the action queue is closed without waiting for it');
            done();
          }
        };
        const timer = setInterval(check, 250);
        const done = () => {
          clearInterval(timer);
          resolve();
        };
        graceful.then(done, done);
        check();
      });
      for (const w of workers) w.close(true).catch(() => undefined);
      for (const c of [producer, ...workerConnections]) c.disconnect();
    },
  };
}
