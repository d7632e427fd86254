import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../db/pglite.js';
import { createPgliteWorkerDb, type PgliteWorkerDb } from '../../db/pglite-worker.js';

/**
 * The embedded store in a worker thread (what `warroom demo` / the server open, db/open.ts): the same
 * behaviour as the in-process engine across the thread boundary. The shared store tests
 * (test/db/store.test.ts and the other suites over `drivers`) run on it too, as 'pglite-worker'.
 */
describe('PGlite in a worker thread', () => {
  let db: PgliteWorkerDb;

  beforeAll(async () => {
    db = await createPgliteWorkerDb();
    await db.exec(`CREATE TABLE w (id int PRIMARY KEY, n bigint, x numeric, at timestamptz, j jsonb, b bytea);
                   CREATE TABLE log (seq serial PRIMARY KEY, what text NOT NULL)`);
  });
  afterAll(async () => db?.close());

  it('runs in another thread and returns values as the in-process engine does (int8/numeric as numbers, Date, jsonb, bytea)', async () => {
    expect(db.worker.threadId).toBeGreaterThan(0);
    const at = new Date('2026-11-23T01:31:00Z');
    await db.query('INSERT INTO w VALUES ($1, $2, $3, $4, $5, $6)', [1, 9_007_199_254, '12.5', at, { list: [1, 'a'], nested: { ok: true } }, new Uint8Array([1, 2, 255])]);
    const [row] = await db.query('SELECT * FROM w WHERE id = 1');
    expect(row).toEqual({ id: 1, n: 9_007_199_254, x: 12.5, at, j: { list: [1, 'a'], nested: { ok: true } }, b: new Uint8Array([1, 2, 255]) });
    const [count] = await db.query<{ c: unknown }>('SELECT count(*) AS c FROM w');
    expect(count!.c).toBe(1);
  });

  it('keeps PostgreSQL error fields: a unique violation is code 23505 with its constraint', async () => {
    const err = await db.query('INSERT INTO w (id) VALUES (1)').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: '23505', constraint: 'w_pkey', table: 'w', message: expect.stringMatching(/duplicate key value violates unique constraint "w_pkey"/) });
    const syntax = await db.exec('SELEC 1').catch((e: unknown) => e);
    expect(syntax).toMatchObject({ code: '42601' });
  });

  it('commits a transaction, and rolls it back when the callback throws or a statement fails', async () => {
    const got = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO w (id) VALUES (2)');
      await tx.exec('INSERT INTO w (id) VALUES (3)');
      return (await tx.query<{ id: number }>('SELECT id FROM w WHERE id >= 2 ORDER BY id')).map((r) => r.id);
    });
    expect(got).toEqual([2, 3]);
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO w (id) VALUES (4)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const dup = await db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO w (id) VALUES (5)');
        await tx.query('INSERT INTO w (id) VALUES (1)');
      })
      .catch((e: unknown) => e);
    expect(dup).toMatchObject({ code: '23505' });
    expect((await db.query<{ id: number }>('SELECT id FROM w ORDER BY id')).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("keeps a transaction's statements together: a statement sent from outside meanwhile runs after COMMIT", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const isInside = new Promise<void>((r) => (inside = r));
    const tx = db.transaction(async (t) => {
      await t.query("INSERT INTO log (what) VALUES ('tx first')");
      inside();
      await held;
      await t.query("INSERT INTO log (what) VALUES ('tx second')");
    });
    await isInside;
    // Sent while the transaction is open; PGlite is one connection, so it must wait for the COMMIT.
    const outside = db.query("INSERT INTO log (what) VALUES ('outside') RETURNING seq");
    let outsideDone = false;
    void outside.then(() => (outsideDone = true));
    // Give the outside statement every chance to slip in (it cannot, if the proxy is right).
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
    expect(outsideDone).toBe(false);
    // A ping counts the transaction's progress: alive, even though SELECT 1 waits behind it.
    const ping = db.ping();
    release();
    await tx;
    await outside;
    await ping;
    expect((await db.query<{ what: string }>('SELECT what FROM log ORDER BY seq')).map((r) => r.what)).toEqual(['tx first', 'tx second', 'outside']);
  });

  it('runs two transactions one after the other, never interleaved', async () => {
    await db.exec('TRUNCATE log');
    const one = db.transaction(async (t) => {
      await t.query("INSERT INTO log (what) VALUES ('a1')");
      await new Promise((r) => setTimeout(r, 20));
      await t.query("INSERT INTO log (what) VALUES ('a2')");
    });
    const two = db.transaction(async (t) => {
      await t.query("INSERT INTO log (what) VALUES ('b1')");
      await t.query("INSERT INTO log (what) VALUES ('b2')");
    });
    await Promise.all([one, two]);
    const order = (await db.query<{ what: string }>('SELECT what FROM log ORDER BY seq')).map((r) => r.what).join(' ');
    expect(['a1 a2 b1 b2', 'b1 b2 a1 a2']).toContain(order);
  });

  it('leaves the event loop free while the engine works', async () => {
    let turns = 0;
    let busy = true;
    const spin = () => {
      turns++;
      if (busy) setImmediate(spin);
    };
    setImmediate(spin);
    await db.query('SELECT count(*) FROM generate_series(1, 3000000) g, LATERAL (SELECT md5(g::text)) m');
    busy = false;
    // In process the whole statement is one synchronous WASM call; here this thread keeps turning.
    expect(turns).toBeGreaterThan(20);
  });

  it('dumps its data directory, and both kinds of store start from the dump', async () => {
    const blob = await db.dump();
    expect(blob.size).toBeGreaterThan(0);
    const inWorker = await createPgliteWorkerDb(undefined, { loadDataDir: blob });
    const inProcess = await createPgliteDb(undefined, { loadDataDir: blob });
    try {
      for (const copy of [inWorker, inProcess]) expect((await copy.query<{ id: number }>('SELECT id FROM w ORDER BY id')).map((r) => r.id)).toEqual([1, 2, 3]);
    } finally {
      await inWorker.close();
      await inProcess.close();
    }
  });
});

describe('PGlite worker: files, failure and close', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warroom-pglite-worker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its data on disk across a close and a new worker', async () => {
    const first = await createPgliteWorkerDb(join(dir, 'pgdata'));
    await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await first.close();
    const second = await createPgliteWorkerDb(join(dir, 'pgdata'));
    try {
      expect(await second.query('SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    } finally {
      await second.close();
    }
  });

  it('close ends the thread, and a call after it fails instead of hanging', async () => {
    const db = await createPgliteWorkerDb();
    const exited = new Promise<number>((r) => db.worker.once('exit', r));
    await db.close();
    await exited;
    await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);
    await db.close(); // twice is fine
  });

  it('a worker that dies fails the pending statement and every later one with an error', async () => {
    const db = await createPgliteWorkerDb();
    const pending = db.query('SELECT count(*) FROM generate_series(1, 20000000)');
    // The thread dies under it (as an engine abort would end it).
    await db.worker.terminate();
    await expect(pending).rejects.toThrow(/PGlite worker thread exited/);
    await expect(db.query('SELECT 1')).rejects.toThrow(/PGlite worker thread exited/);
    await expect(db.transaction(async (tx) => tx.query('SELECT 1'))).rejects.toThrow(/PGlite worker thread exited/);
    await expect(db.ping()).rejects.toThrow(/PGlite worker thread exited/);
    await db.close();
  });
});
