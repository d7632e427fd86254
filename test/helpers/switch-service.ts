import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { defineTool, stepsOf } from '../../tools/tool.js';

/**
 * A small "switch" for the reliability tests: an HTTP server that counts how often it is really
 * switched (POST /switch), says who is active (GET /state), and counts every call by step. The test
 * can hold a step's request, so a worker is caught in that step and killed there:
 * - `hold('switch')`: the switch is applied (counted, target active) but its answer never comes:
 *   the worker is killed after the effect and before the step is recorded done;
 * - `hold('switch-before')`: the request waits before the switch is applied (released by `release`);
 * - `hold('settle')`: the idempotent step after the switch waits.
 *
 * `switchServiceTool` is a high-risk tool whose steps talk to it: check (idempotent), switch (not
 * idempotent; with a probe on /state unless `probe: false`), settle (idempotent; stops on the action's
 * signal with `abortable: true`), verify (idempotent).
 */
export interface SwitchServer {
  url: string;
  /** How often the switch was applied. */
  switches: number;
  /** Who is active now. */
  active: string;
  /** Calls by step (check, switch, probe, settle, verify). */
  hits: Record<string, number>;
  /** Hold this step's requests until `release` (or for ever). */
  hold(step: 'switch' | 'switch-before' | 'settle'): void;
  release(step: 'switch' | 'switch-before' | 'settle'): void;
  /** Resolves when a request of this step has arrived (and is held) since `hold(step)`. */
  reached(step: string): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchServer(initial = 'node-a'): Promise<SwitchServer> {
  const holds = new Set<string>();
  const waiting = new Map<string, Array<() => void>>();
  const arrivals = new Map<string, Array<() => void>>();
  const arrived = new Set<string>();
  const held = new Set<ServerResponse>();
  const state = { switches: 0, active: initial, hits: {} as Record<string, number> };

  const arrive = (step: string) => {
    arrived.add(step);
    for (const f of arrivals.get(step)?.splice(0) ?? []) f();
  };
  const waitIfHeld = async (step: string) => {
    if (!holds.has(step)) return;
    await new Promise<void>((resolve) => waiting.set(step, [...(waiting.get(step) ?? []), resolve]));
  };
  const body = async (req: IncomingMessage) => {
    let s = '';
    for await (const chunk of req) s += String(chunk);
    return s ? (JSON.parse(s) as Record<string, unknown>) : {};
  };
  const send = (res: ServerResponse, status: number, data: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const step = url.searchParams.get('step') ?? 'none';
      state.hits[step] = (state.hits[step] ?? 0) + 1;
      if (req.method === 'POST' && url.pathname === '/switch') {
        const { target } = await body(req);
        arrive('switch-before');
        await waitIfHeld('switch-before');
        state.switches++;
        state.active = String(target);
        arrive('switch');
        if (holds.has('switch')) {
          // Applied, but the answer never comes: the worker dies not knowing.
          held.add(res);
          return;
        }
        return send(res, 200, { active: state.active, switches: state.switches });
      }
      if (req.method === 'GET' && url.pathname === '/state') return send(res, 200, { active: state.active });
      if (req.method === 'GET' && url.pathname === '/settle') {
        arrive('settle');
        await waitIfHeld('settle');
        return send(res, 200, { settled: true });
      }
      send(res, 404, { error: 'not found' });
    })().catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    get switches() {
      return state.switches;
    },
    get active() {
      return state.active;
    },
    get hits() {
      return state.hits;
    },
    hold(step) {
      holds.add(step);
      arrived.delete(step);
    },
    release(step) {
      holds.delete(step);
      for (const f of waiting.get(step)?.splice(0) ?? []) f();
    },
    reached(step) {
      if (arrived.has(step)) return Promise.resolve();
      return new Promise((resolve) => arrivals.set(step, [...(arrivals.get(step) ?? []), resolve]));
    },
    async close() {
      for (const h of held) h.destroy();
      holds.clear();
      for (const list of waiting.values()) for (const f of list.splice(0)) f();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function call(url: string, init: RequestInit = {}): Promise<{ active: string }> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status}`);
  return (await res.json()) as { active: string };
}

export const switchServiceTool = defineTool({
  name: 'switch_service',
  description: 'switch the active node of a service (reliability test tool)',
  risk: 'high',
  input: z.object({ server: z.string().url(), target: z.string(), probe: z.boolean().default(true), abortable: z.boolean().default(false) }),
  output: z.object({ active: z.string() }),
  async plan(input) {
    return {
      summary: `Switch the service to ${input.target}`,
      system: 'jzjy',
      steps: [
        { id: 'check', title: 'Check the current state' },
        { id: 'switch', title: `Switch to ${input.target}` },
        { id: 'settle', title: 'Let it settle' },
        { id: 'verify', title: `Verify ${input.target} is active` },
      ],
    };
  },
  async run(input, ctx) {
    const step = stepsOf(ctx);
    const before = await step({ id: 'check', title: 'Check the current state', idempotent: true }, () => call(`${input.server}/state?step=check`));
    await step(
      { id: 'switch', title: `Switch to ${input.target}`, idempotent: false },
      () => call(`${input.server}/switch?step=switch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: input.target }) }),
      input.probe
        ? {
            probe: async () => {
              const now = await call(`${input.server}/state?step=probe`);
              return now.active === input.target ? now : undefined;
            },
          }
        : {},
    );
    // With `abortable`, the settle step stops when the action's signal is aborted (a cancel, the worker shutting down).
    await step({ id: 'settle', title: 'Let it settle', idempotent: true }, () => call(`${input.server}/settle?step=settle`, input.abortable && ctx.signal ? { signal: ctx.signal } : {}));
    const after = await step({ id: 'verify', title: `Verify ${input.target} is active`, idempotent: true }, async () => {
      const now = await call(`${input.server}/state?step=verify`);
      if (now.active !== input.target) throw new Error(`${now.active} is active, not ${input.target}`);
      return now;
    });
    return { data: { active: after.active }, summary: `Switched from ${before.active} to ${after.active}` };
  },
});
