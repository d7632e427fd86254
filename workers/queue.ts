/**
 * Where approved actions wait for a worker. Two implementations with one shape:
 * - BullMQ on Redis (REDIS_URL): workers/bullmq-queue.ts; `warroom worker` or `warroom start` runs the processors;
 * - in-process (no REDIS_URL, for trying Warroom): workers/local-queue.ts, job state in the database only.
 * Either way the job id is the action id, so an action enqueued twice runs once.
 */

/** The part of a job the processor uses (BullMQ's `Job` has it). */
export interface ActionJob {
  id?: string | undefined;
  data: { actionId: string };
  updateProgress(progress: number | object): Promise<void>;
}

export interface ActionJobResult {
  actionId: string;
  status: string;
}

/** BullMQ's processor shape: a plain async function over a job. */
export type ActionProcessor = (job: ActionJob, token?: string, signal?: AbortSignal) => Promise<ActionJobResult>;

export interface ActionQueue {
  readonly mode: 'bullmq' | 'in-process';
  /** Put the action's job on the queue; the job id is the action id (a second add is ignored). */
  enqueue(actionId: string): Promise<void>;
  /** Run the processor on this queue's jobs in this process. */
  startWorker(processor: ActionProcessor, options?: { concurrency?: number }): Promise<void>;
  /** Stop taking jobs, let running ones reach a step boundary, close connections. */
  close(): Promise<void>;
}

export const ACTION_QUEUE_NAME = 'warroom-actions';
