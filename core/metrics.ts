import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry for the process; /metrics serves it. */
export const metricsRegistry = new Registry();
let defaultsCollected = false;

export function enableDefaultMetrics(): void {
  if (defaultsCollected) return;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'warroom_' });
  defaultsCollected = true;
}

export const httpRequests = new Counter({
  name: 'warroom_http_requests_total',
  help: 'HTTP requests served, by route and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const httpDuration = new Histogram({
  name: 'warroom_http_request_duration_seconds',
  help: 'HTTP request latency.',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const toolCalls = new Counter({
  name: 'warroom_tool_calls_total',
  help: 'Tool calls, by tool and result status.',
  labelNames: ['tool', 'status'] as const,
  registers: [metricsRegistry],
});

export const toolDuration = new Histogram({
  name: 'warroom_tool_duration_seconds',
  help: 'Tool call latency, validation and audit included.',
  labelNames: ['tool'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
  registers: [metricsRegistry],
});
