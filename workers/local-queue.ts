import { errorMessage } from '../core/errors.js';
import type { Db } from '../db/db.js';
import type { Logger } from '../core/logger.js';
import type { ActionJob, ActionProcessor, ActionQueue } from './queue.js';

/**
 * The queue without Redis (the README's first command): jobs run inside this process, one action
 * at a time per id, with their state in the database only. At start, actions a crash left queued
 * or running are picked up again and resume at their recorded step. For trying Warroom; production
 * runs BullMQ (REDIS_URL) so that jobs survive the process and run on separate workers.
 */
export function createLocalQueue(options: { db: Db; logger: Logger }): ActionQueue {
  const { db, logger } = options;
  let processor: ActionProcessor | undefined;
  let closed = false;
  const running = new Map<string, Promise<void>>();
  const waiting: string[] = [];
  const abort = new AbortController();

  const run = (actionId: string) => {
    if (closed || !processor || running.has(actionId)) {
      if (!processor && !waiting.includes(actionId)) waiting.push(actionId);
      return;
    }
    const p = processor;
    const job: ActionJob = { id: actionId, data: { actionId }, updateProgress: async () => undefined };
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => p(job, undefined, abort.signal))
      .then(
        () => undefined,
        (err: unknown) => logger.error({ action: actionId, err: errorMessage(err) }, 'in-process action job failed; it resumes at the next start'),
      )
      .finally(() => running.delete(actionId));
    running.set(actionId, done);
  };

  return {
    mode: 'in-process',
    async enqueue(actionId) {
      run(actionId);
    },
    async startWorker(p) {
      processor = p;
      for (const id of waiting.splice(0)) run(id);
      const left = await db.query<{ id: string }>("SELECT id FROM action_requests WHERE status IN ('queued', 'running') ORDER BY created_at");
      for (const { id } of left) run(id);
    },
    async close() {
      closed = true;
      abort.abort();
      await Promise.all(running.values());
    },
  };
}
