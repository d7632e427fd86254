import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/db.js';
import { claimOnce, pruneClaims } from '../../db/dedupe.js';
import { createPostgresDb } from '../../db/postgres.js';
import { createTestPostgres, drivers, runPostgres } from '../helpers/db.js';

const T0 = new Date('2026-11-23T01:40:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const MIN = 60_000;

for (const driver of drivers) describe.skipIf(!driver.enabled)(`claimOnce on ${driver.name}`, () => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await driver.open());
  });
  afterAll(async () => close?.());

  it('the first claim wins; the same (scope, key) is refused until it expires, then claimable again', async () => {
    expect(await claimOnce(db, 'test:a', 'k1', T0, 5 * MIN)).toBe(true);
    expect(await claimOnce(db, 'test:a', 'k1', at(1), 5 * MIN)).toBe(false);
    expect(await claimOnce(db, 'test:a', 'k1', at(5 * MIN - 1), 5 * MIN)).toBe(false);
    // Another scope or key is another delivery.
    expect(await claimOnce(db, 'test:b', 'k1', at(1), 5 * MIN)).toBe(true);
    expect(await claimOnce(db, 'test:a', 'k2', at(1), 5 * MIN)).toBe(true);
    // Expired: claimable again, and then held for a new ttl from the new claim.
    expect(await claimOnce(db, 'test:a', 'k1', at(5 * MIN), 5 * MIN)).toBe(true);
    expect(await claimOnce(db, 'test:a', 'k1', at(9 * MIN), 5 * MIN)).toBe(false);
    const [row] = await db.query<{ first_seen_at: Date; expires_at: Date }>("SELECT first_seen_at, expires_at FROM request_claims WHERE scope = 'test:a' AND key = 'k1'");
    expect(new Date(row!.first_seen_at).toISOString()).toBe(at(5 * MIN).toISOString());
    expect(new Date(row!.expires_at).toISOString()).toBe(at(10 * MIN).toISOString());
  });

  it('keys of any length and characters are kept apart (long ones as a digest)', async () => {
    const long = 'x'.repeat(5000);
    expect(await claimOnce(db, 'test:long', long, T0, MIN)).toBe(true);
    expect(await claimOnce(db, 'test:long', long, T0, MIN)).toBe(false);
    expect(await claimOnce(db, 'test:long', `${long}y`, T0, MIN)).toBe(true);
    expect(await claimOnce(db, 'test:long', "it's; DROP TABLE request_claims; --", T0, MIN)).toBe(true);
    expect(await claimOnce(db, 'test:long', '消息-0042', T0, MIN)).toBe(true);
    expect(await claimOnce(db, 'test:long', '消息-0042', T0, MIN)).toBe(false);
  });

  it('twenty claims of one key at once: exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => claimOnce(db, 'test:race', 'same', T0, MIN)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('prunes expired claims only, and a claim prunes in passing', async () => {
    await db.query("DELETE FROM request_claims WHERE scope LIKE 'test:prune%'");
    for (let i = 0; i < 5; i++) await claimOnce(db, 'test:prune', `old${i}`, at(-60 * MIN), MIN);
    await claimOnce(db, 'test:prune', 'live', at(-60 * MIN), 120 * MIN);
    expect(await pruneClaims(db, T0)).toBeGreaterThanOrEqual(5);
    const left = await db.query<{ key: string }>("SELECT key FROM request_claims WHERE scope = 'test:prune' ORDER BY key");
    expect(left.map((r) => r.key)).toEqual(['live']);

    // Much later (app time): the next claim also clears what has expired by then.
    const later = at(24 * 60 * MIN);
    expect(await claimOnce(db, 'test:prune2', 'new', later, MIN)).toBe(true);
    expect((await db.query("SELECT 1 FROM request_claims WHERE scope = 'test:prune' AND key = 'live'")).length).toBe(0);
  });

  it('refuses a claim without a key or a positive ttl', async () => {
    await expect(claimOnce(db, 'test:bad', '', T0, MIN)).rejects.toThrow(/key/);
    await expect(claimOnce(db, 'test:bad', 'k', T0, 0)).rejects.toThrow(/ttl/);
    await expect(claimOnce(db, 'test:bad', 'k', new Date(Number.NaN), MIN)).rejects.toThrow(/time/);
  });
});

describe.skipIf(!runPostgres)('claimOnce shared by several processes on one PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof createTestPostgres>>;
  let other: Db;
  beforeAll(async () => {
    pg = await createTestPostgres();
    other = createPostgresDb(pg.url, { max: 4 });
  });
  afterAll(async () => {
    await other?.close();
    await pg?.drop();
  });

  it("a claim made through one connection pool is seen by another; racing pools, one winner", async () => {
    expect(await claimOnce(pg.db, 'test:shared', 'k', T0, MIN)).toBe(true);
    expect(await claimOnce(other, 'test:shared', 'k', at(1000), MIN)).toBe(false);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => claimOnce(i % 2 ? other : pg.db, 'test:shared', 'race', T0, MIN)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
