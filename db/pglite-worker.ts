import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.js';
import type { Queryable, Row } from './db.js';
import { embeddedStoreHelpers, type PgliteDb, type PgliteOptions } from './pglite.js';

/**
 * Embedded PostgreSQL (PGlite) in a worker thread, behind the same `PgliteDb` interface as the
 * in-process one (createPgliteDb).
 *
 * Why: PGlite is WASM and runs synchronously in whichever thread owns it. In process, twenty
 * declarations at once keep Warroom's event loop busy with SQL for hundreds of milliseconds, and the
 * HTTP answers (Slack's acknowledgements, the web chat) wait behind them. Here the engine runs in its
 * own thread; this thread only posts statements and receives rows.
 *
 * What stays the same: statements are serialised by PGlite (one connection); a transaction's callback
 * runs here while its statements run inside PGlite's own `transaction()` in the worker, so nothing else
 * interleaves between BEGIN and COMMIT, and a throw rolls it back. Errors keep PostgreSQL's fields (code
 * '23505', constraint, detail…). Values cross by structured clone (Date, jsonb objects, Uint8Array,
 * Blob stay what they are). A worker that dies fails every pending and later call with an error; close()
 * ends it.
 */

/** What the worker is started with. */
export interface PgliteWorkerSetup {
  dataDir?: string;
  loadDataDir?: Blob;
}

/** Requests to the worker. `tx`: the statement belongs to that open transaction. */
export type ToPgliteWorker =
  | { type: 'query'; id: number; sql: string; params?: readonly unknown[]; tx?: number }
  | { type: 'exec'; id: number; sql: string; tx?: number }
  | { type: 'begin'; id: number; tx: number }
  | { type: 'end'; id: number; tx: number; commit: boolean }
  | { type: 'dump'; id: number }
  | { type: 'close'; id: number };

type PgliteRequest = ToPgliteWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

/** An error as it crosses the thread: its message and PostgreSQL's fields (code, detail, constraint…). */
export interface SerializedDbError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

/** Answers; id 0 is the start-up answer (the engine is open, or why not). */
export type FromPgliteWorker = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: SerializedDbError };

/** Fields not carried across: the statement's parameters may hold anything (and secrets). */
const droppedFields = new Set(['params', 'queryOptions', 'stack', 'message', 'name']);

export function serializeDbError(err: unknown): SerializedDbError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err)) {
    if (droppedFields.has(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: err.name, message: err.message, fields };
}

function deserializeDbError(e: SerializedDbError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return Object.assign(err, e.fields);
}

/** The store, and its thread (for tests and diagnostics: its threadId, or to see it end). */
export interface PgliteWorkerDb extends PgliteDb {
  readonly worker: Worker;
}

/** Start PGlite in a worker thread (`dataDir` undefined: in memory); resolves once the engine is open. */
export async function createPgliteWorkerDb(dataDir?: string, options: PgliteOptions = {}): Promise<PgliteWorkerDb> {
  const setup: PgliteWorkerSetup = { ...(dataDir ? { dataDir } : {}), ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}) };
  const worker: Worker = startModuleWorker(import.meta.url, './pglite-worker-entry', { workerData: setup });

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let nextTx = 1;
  /** Set once the worker is gone (crashed, or closed): every call fails with it. */
  let gone: Error | undefined;

  // An idle worker must not keep the process alive (the in-process engine does not either); one with
  // work pending must, or a process waiting only on the store would exit under it.
  const refresh = () => (pending.size ? worker.ref() : worker.unref());

  let started!: { resolve: () => void; reject: (e: Error) => void };
  const ready = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
  worker.ref();

  const end = (err: Error) => {
    if (gone) return;
    gone = err;
    started.reject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker.unref();
  };

  worker.on('message', (m: FromPgliteWorker) => {
    if (m.id === 0) {
      if (m.ok) started.resolve();
      else end(Object.assign(deserializeDbError(m.error), { message: `PGlite could not open ${dataDir ?? '(memory)'}: ${m.error.message}` }));
      refresh();
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    refresh();
    if (m.ok) p.resolve(m.value);
    else p.reject(deserializeDbError(m.error));
  });
  worker.on('error', (err) => end(new Error(`the PGlite worker thread failed: ${err instanceof Error ? err.message : String(err)}`)));
  worker.on('exit', (code) => end(new Error(`the PGlite worker thread exited (code ${code}); the embedded store is unavailable until Warroom restarts`)));

  const call = <T>(m: PgliteRequest): Promise<T> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        worker.postMessage({ ...m, id });
      } catch (err) {
        // A parameter that cannot be cloned (a function, a class with private state).
        pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
      refresh();
    });
  };

  try {
    await ready;
  } catch (err) {
    await worker.terminate().catch(() => {});
    throw err;
  }

  // A ping queued behind a long transaction counts the transaction's progress; locks live in this thread.
  const { progressed, ping, tryLock } = embeddedStoreHelpers(() => call({ type: 'query', sql: 'SELECT 1' }));
  let closing: Promise<void> | undefined;

  return {
    kind: 'pglite',
    description: `pglite ${dataDir ?? '(memory)'} (worker thread)`,
    worker,
    query<T extends Row>(sql: string, params?: readonly unknown[]) {
      return call<T[]>(params ? { type: 'query', sql, params } : { type: 'query', sql });
    },
    async exec(sql) {
      await call({ type: 'exec', sql });
    },
    async transaction(fn) {
      const tx = nextTx++;
      await call({ type: 'begin', tx });
      const q: Queryable = {
        query<T extends Row>(sql: string, params?: readonly unknown[]) {
          return call<T[]>(params ? { type: 'query', sql, params, tx } : { type: 'query', sql, tx }).finally(progressed);
        },
        async exec(sql: string) {
          await call({ type: 'exec', sql, tx }).finally(progressed);
        },
      };
      try {
        let result: Awaited<ReturnType<typeof fn>>;
        try {
          result = await fn(q);
        } catch (err) {
          await call({ type: 'end', tx, commit: false }).catch(() => {});
          throw err;
        }
        await call({ type: 'end', tx, commit: true });
        return result;
      } finally {
        progressed();
      }
    },
    tryLock,
    ping,
    async dump() {
      return call<Blob>({ type: 'dump' });
    },
    close() {
      closing ??= (async () => {
        try {
          if (!gone) await call({ type: 'close' });
        } finally {
          end(new Error('the embedded store is closed'));
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
