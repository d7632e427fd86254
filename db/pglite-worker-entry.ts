import { parentPort, workerData } from 'node:worker_threads';
import type { Transaction } from '@electric-sql/pglite';
import { openPglite } from './pglite.js';
import { serializeDbError, type FromPgliteWorker, type PgliteWorkerSetup, type ToPgliteWorker } from './pglite-worker.js';

/**
 * The PGlite worker thread: owns the one embedded engine and answers the main thread's requests
 * (see pglite-worker.ts). Its WASM work runs here, so the thread that answers HTTP stays free.
 *
 * A transaction stays inside PGlite's own `transaction()`, fed statement by statement from the main
 * thread, so PGlite keeps every other statement out until it ends, exactly as in process.
 */
const setup = workerData as PgliteWorkerSetup;
const port = parentPort!;

const send = (m: FromPgliteWorker) => port.postMessage(m);
const fail = (id: number, err: unknown) => send({ id, ok: false, error: serializeDbError(err) });

/** The statements of one open transaction, in the order the main thread sent them. */
class TxChannel {
  private readonly queue: ToPgliteWorker[] = [];
  private wake: (() => void) | undefined;
  push(m: ToPgliteWorker): void {
    this.queue.push(m);
    this.wake?.();
  }
  async next(): Promise<ToPgliteWorker> {
    while (!this.queue.length) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    return this.queue.shift()!;
  }
}

/** Thrown inside PGlite's transaction to make it roll back when the main thread's callback threw. */
const ROLLBACK = Symbol('rollback');

async function main(): Promise<void> {
  let pg: Awaited<ReturnType<typeof openPglite>>;
  try {
    pg = await openPglite(setup.dataDir, setup.loadDataDir);
  } catch (err) {
    send({ id: 0, ok: false, error: serializeDbError(err) });
    return;
  }
  const txs = new Map<number, TxChannel>();

  async function runInTx(t: Transaction, m: ToPgliteWorker): Promise<void> {
    try {
      if (m.type === 'query') send({ id: m.id, ok: true, value: (await t.query(m.sql, m.params as unknown[] | undefined)).rows });
      else if (m.type === 'exec') {
        await t.exec(m.sql);
        send({ id: m.id, ok: true });
      } else fail(m.id, new Error(`pglite worker: ${m.type} is not a statement`));
    } catch (err) {
      fail(m.id, err);
    }
  }

  function begin(m: Extract<ToPgliteWorker, { type: 'begin' }>): void {
    const channel = new TxChannel();
    txs.set(m.tx, channel);
    let begun = false;
    let endId: number | undefined;
    pg.transaction(async (t) => {
      begun = true;
      send({ id: m.id, ok: true });
      for (;;) {
        const s = await channel.next();
        if (s.type === 'end') {
          endId = s.id;
          if (!s.commit) throw ROLLBACK;
          return;
        }
        await runInTx(t, s);
      }
    })
      .then(
        () => send({ id: endId!, ok: true }),
        (err: unknown) => {
          if (!begun) fail(m.id, err);
          else if (endId === undefined) return; // cannot happen: the loop leaves only at 'end'
          else if (err === ROLLBACK) send({ id: endId, ok: true });
          else fail(endId, err);
        },
      )
      .finally(() => txs.delete(m.tx));
  }

  port.on('message', (m: ToPgliteWorker) => {
    if (m.type !== 'begin' && 'tx' in m && m.tx !== undefined) {
      const channel = txs.get(m.tx);
      if (channel) channel.push(m);
      else fail(m.id, new Error('pglite worker: the transaction has already ended'));
      return;
    }
    switch (m.type) {
      case 'query':
        pg.query(m.sql, m.params as unknown[] | undefined).then((r) => send({ id: m.id, ok: true, value: r.rows }), (err: unknown) => fail(m.id, err));
        return;
      case 'exec':
        pg.exec(m.sql).then(() => send({ id: m.id, ok: true }), (err: unknown) => fail(m.id, err));
        return;
      case 'begin':
        begin(m);
        return;
      case 'dump':
        pg.dumpDataDir('none').then((blob) => send({ id: m.id, ok: true, value: blob }), (err: unknown) => fail(m.id, err));
        return;
      case 'close':
        pg.close().then(() => send({ id: m.id, ok: true }), (err: unknown) => fail(m.id, err));
        return;
      default:
        fail((m as { id: number }).id, new Error(`pglite worker: unknown request ${(m as { type: string }).type}`));
    }
  });
  send({ id: 0, ok: true });
}

void main();
