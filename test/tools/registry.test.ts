import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../tools/services.js';
import { toolContext } from '../../tools/services.js';
import { metricsRegistry } from '../../core/metrics.js';
import type { Db } from '../../db/db.js';
import { ToolRegistry } from '../../tools/registry.js';
import { defineTool } from '../../tools/tool.js';
import { createTestApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';

describe('tool registry', () => {
  let db: Db;
  let app: App;
  let runs = 0;
  const registry = new ToolRegistry();
  registry.register(
    defineTool({
      name: 'restart_service',
      description: 'restart a service',
      risk: 'write',
      input: z.object({ host: z.string().min(1) }),
      output: z.object({ ok: z.boolean() }),
      async run() {
        runs++;
        return { data: { ok: true }, summary: 'restarted' };
      },
    }),
  );
  registry.register(
    defineTool({
      name: 'liar',
      description: 'returns data that breaks its own schema',
      risk: 'read',
      input: z.object({}),
      output: z.object({ n: z.number() }),
      async run() {
        return { data: { n: 'seven' as unknown as number }, summary: 'n' };
      },
    }),
  );

  beforeAll(async () => {
    db = await createTestPglite();
    app = await createTestApp(db);
  });
  afterAll(async () => db.close());
  beforeEach(() => {
    runs = 0;
  });

  it('refuses to run a write tool without an approved action, and audits the attempt', async () => {
    // Only this test's attempts: other tests call the same tool.
    const last = (await db.query<{ last: number }>('SELECT COALESCE(max(id), 0)::int AS last FROM audit_log'))[0]!.last;
    const r = await registry.invoke('restart_service', { host: 'trd-app-01' }, toolContext(app, 'alice'));
    expect(r.status).toBe('approval_required');
    expect(runs).toBe(0);
    const approved = await registry.invoke('restart_service', { host: 'trd-app-01' }, toolContext(app, 'alice', { approvedActionId: 'ACT-1' }));
    expect(approved.status).toBe('success');
    expect(runs).toBe(1);
    const audit = await db.query<{ outcome: string }>("SELECT outcome FROM audit_log WHERE action = 'tool:restart_service' AND id > $1 ORDER BY id", [last]);
    // An approved write is recorded as started before it runs, then with its outcome.
    expect(audit.map((a) => a.outcome)).toEqual(['approval_required', 'started', 'success']);
  });

  it('names the bad field of invalid input', async () => {
    const r = await registry.invoke('restart_service', { host: '' }, toolContext(app, 'alice'));
    expect(r.status).toBe('error');
    expect(r.error).toContain('host');
  });

  it('catches output that breaks the declared schema', async () => {
    const r = await registry.invoke('liar', {}, toolContext(app, 'alice'));
    expect(r.status).toBe('error');
    expect(r.error).toContain('output schema');
  });

  it('answers an unknown tool with the known ones', async () => {
    const r = await registry.invoke('rm_rf', {}, toolContext(app, 'alice'));
    expect(r.status).toBe('error');
    expect(r.error).toContain('restart_service');
  });

  it('counts and times calls in the metrics', async () => {
    // Its own calls, counted from what the metrics said before them (other tests call tools too).
    const successes = async () => Number(/warroom_tool_calls_total\{tool="restart_service",status="success"\} (\d+)/.exec(await metricsRegistry.metrics())?.[1] ?? 0);
    const before = await successes();
    expect((await registry.invoke('restart_service', { host: 'trd-app-02' }, toolContext(app, 'metrics', { approvedActionId: 'ACT-2' }))).status).toBe('success');
    expect((await registry.invoke('liar', {}, toolContext(app, 'metrics'))).status).toBe('error');
    expect(await successes()).toBe(before + 1);
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(new RegExp(`warroom_tool_calls_total\\{tool="restart_service",status="success"\\} ${before + 1}`));
    expect(text).toContain('warroom_tool_duration_seconds_bucket{le="0.001",tool="liar"}');
  });

  it('declares every shipped tool with a name, description, schemas and a risk class', () => {
    for (const tool of app.tools.list()) {
      expect(tool.name).toMatch(/^[a-z_]+$/);
      expect(tool.description.length).toBeGreaterThan(20);
      expect(['read', 'write', 'high']).toContain(tool.risk);
      expect(tool.input.safeParse).toBeTypeOf('function');
    }
  });
});
