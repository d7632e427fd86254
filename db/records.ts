import { z } from 'zod';

/**
 * The import/export format: one JSON document with any of these top-level arrays. Items may carry
 * extra fields; they are kept (in `extra`) and written back on export.
 */
const isoTime = z.string().datetime({ offset: true, message: 'expected an ISO 8601 time with offset, e.g. 2026-11-20T16:05:00+08:00' });
const id = z.string().trim().min(1, 'must not be empty').max(200);
const text = z.string().trim().min(1, 'must not be empty');

export const systemRecord = z
  .object({
    id,
    name: text,
    aliases: z.array(z.string()).optional(),
    tier: z.enum(['S', 'A', 'B', 'C']).optional(),
    dependsOn: z.array(id).optional(),
    owners: z
      .object({ ops: z.array(z.string()).optional(), dev: z.array(z.string()).optional(), business: z.array(z.string()).optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();

export const personRecord = z
  .object({ id, name: text, slack: z.string().optional(), wecom: z.string().optional(), roles: z.array(z.string()).optional() })
  .passthrough();

export const oncallRecord = z
  .object({ system: id, role: text, person: id, from: isoTime.optional(), to: isoTime.optional() })
  .passthrough()
  .refine((r) => !r.from || !r.to || Date.parse(r.from) < Date.parse(r.to), { message: '"from" must be before "to"', path: ['to'] });

export const changeRecord = z
  .object({
    id,
    title: text,
    system: id,
    risk: z.enum(['low', 'medium', 'high']).optional(),
    status: z.string().optional(),
    plannedStart: isoTime.optional(),
    plannedEnd: isoTime.optional(),
    executor: z.string().optional(),
    reviewer: z.string().optional(),
    objects: z.array(z.string()).optional(),
    rollbackPlan: z.string().optional(),
  })
  .passthrough();

export const changeEventRecord = z
  .object({
    id,
    at: isoTime,
    scene: z.string().optional(),
    operator: text,
    system: id,
    environment: z.string().optional(),
    action: text,
    object: text,
    changeId: z.string().optional(),
    source: z.string().optional(),
  })
  .passthrough();

export const alertRecord = z
  .object({
    id,
    fingerprint: z.string().optional(),
    system: id,
    severity: text,
    title: text,
    startsAt: isoTime,
    endsAt: isoTime.optional(),
    labels: z.record(z.unknown()).optional(),
  })
  .passthrough();

export const severity = z.enum(['P0', 'P1', 'P2', 'P3']);

export const incidentRecord = z
  .object({
    id,
    title: text,
    system: id,
    severity,
    status: z.enum(['investigating', 'identified', 'mitigated', 'resolved']).optional(),
    openedAt: isoTime,
    resolvedAt: isoTime.optional(),
    summary: z.string().optional(),
    rootCause: z.string().optional(),
    resolution: z.string().optional(),
    changeIds: z.array(z.string()).optional(),
  })
  .passthrough()
  .refine((r) => r.status !== 'resolved' || r.resolvedAt, { message: 'a resolved incident needs "resolvedAt"', path: ['resolvedAt'] });

/** Node ids, hosts and VIPs reach shell commands (the failover `script` driver): plain address characters only. */
const address = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:[\]-]*$/, 'use letters, digits and . _ : - [ ] only (a host name, an address or address:port)');

export const poolNodeRecord = z
  .object({
    id: address,
    host: address,
    role: z.enum(['primary', 'standby']),
    /** Higher goes first among the standbys; default 100. */
    priority: z.number().int().min(0).max(100_000).optional(),
    tags: z.array(z.string()).optional(),
    healthy: z.boolean().optional(),
    heartbeat: z.boolean().optional(),
    lastSeen: isoTime.optional(),
    holdsVip: z.boolean().optional(),
    /** The simulated driver fails this step on this node (demos and tests). */
    simulateFailure: z.enum(['start-service', 'health-check']).optional(),
  })
  .passthrough();

/** A failover pool (多对多池化) with its nodes nested; a pool's nodes are replaced as a whole on import. */
export const poolRecord = z
  .object({
    id,
    name: text,
    aliases: z.array(z.string()).optional(),
    system: id,
    vip: address,
    driver: z.enum(['simulated', 'script']).optional(),
    arbiterReachable: z.boolean().optional(),
    arbiterCheckedAt: isoTime.optional(),
    nodes: z.array(poolNodeRecord).min(1, 'a pool needs at least one node'),
  })
  .passthrough()
  .superRefine((pool, ctx) => {
    const seen = new Map<string, number>();
    pool.nodes.forEach((n, i) => {
      const first = seen.get(n.id);
      if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `duplicates nodes[${first}] (same id "${n.id}")`, path: ['nodes', i, 'id'] });
      else seen.set(n.id, i);
    });
  });

export const recordSchemas = {
  systems: systemRecord,
  people: personRecord,
  oncall: oncallRecord,
  changes: changeRecord,
  changeEvents: changeEventRecord,
  alerts: alertRecord,
  incidents: incidentRecord,
  pools: poolRecord,
} as const;

export type RecordKind = keyof typeof recordSchemas;
export const recordKinds = Object.keys(recordSchemas) as RecordKind[];

export type SystemRecord = z.infer<typeof systemRecord>;
export type PersonRecord = z.infer<typeof personRecord>;
export type OncallRecord = z.infer<typeof oncallRecord>;
export type ChangeRecord = z.infer<typeof changeRecord>;
export type ChangeEventRecord = z.infer<typeof changeEventRecord>;
export type AlertRecord = z.infer<typeof alertRecord>;
export type IncidentRecord = z.infer<typeof incidentRecord>;
export type PoolRecord = z.infer<typeof poolRecord>;
export type PoolNodeRecord = z.infer<typeof poolNodeRecord>;

export type ImportDocument = { [K in RecordKind]?: z.infer<(typeof recordSchemas)[K]>[] };
