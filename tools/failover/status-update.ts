import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import type { Db } from '../../db/db.js';
import { loadPool, resolvePool, setArbiter, updateNode, type Pool } from './pool-store.js';

/**
 * A status report from the pool's monitoring (POST /api/failover/status): only the facts given
 * change. Every node named counts as seen now. Unknown fields are refused: a misspelt `helthy`
 * must not pass as "no news".
 */
export const statusUpdateSchema = z
  .object({
    pool: z.string().trim().min(1),
    arbiterReachable: z.boolean().optional(),
    nodes: z
      .array(
        z
          .object({
            node: z.string().trim().min(1),
            healthy: z.boolean().optional(),
            heartbeat: z.boolean().optional(),
            holdsVip: z.boolean().optional(),
            role: z.enum(['primary', 'standby']).optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .refine((u) => u.arbiterReachable !== undefined || u.nodes.length > 0, { message: 'nothing to update: give arbiterReachable or nodes', path: ['nodes'] });

export type StatusUpdate = z.output<typeof statusUpdateSchema>;

function pathOf(path: Array<string | number>): string {
  return path.reduce<string>((p, seg) => (typeof seg === 'number' ? `${p}[${seg}]` : p ? `${p}.${seg}` : seg), '');
}

/** The body, validated; a 400 naming the first bad field otherwise (`nodes[1].healthy: Expected boolean…`). */
export function parseStatusUpdate(body: unknown): StatusUpdate {
  const parsed = statusUpdateSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => {
    const keys = i.code === z.ZodIssueCode.unrecognized_keys ? i.keys : [];
    const field = pathOf([...i.path, ...(keys.length === 1 ? [keys[0]!] : [])]) || '(body)';
    return { field, message: i.message };
  });
  throw new WarroomError('invalid_body', issues.map((i) => `${i.field}: ${i.message}`).join('; '), {
    status: 400,
    details: { field: issues[0]!.field },
    hint: 'Send {"pool": "<id>", "arbiterReachable"?: bool, "nodes": [{"node": "<id>", "healthy"?, "heartbeat"?, "holdsVip"?, "role"?: "primary"|"standby"}]}.',
  });
}

/** Apply a report in one transaction: all of it, or nothing when a node is unknown. */
export async function applyStatusUpdate(db: Db, update: StatusUpdate, now: Date): Promise<Pool> {
  const pool = await resolvePool(db, update.pool);
  update.nodes.forEach((n, i) => {
    if (!pool.nodes.some((x) => x.id === n.node)) {
      throw new WarroomError('invalid_body', `nodes[${i}].node: ${pool.id} has no node "${n.node}".`, { status: 400, details: { field: `nodes[${i}].node` }, hint: `Its nodes: ${pool.nodes.map((x) => x.id).join(', ')}.` });
    }
  });
  await db.transaction(async (tx) => {
    if (update.arbiterReachable !== undefined) await setArbiter(tx, pool.id, update.arbiterReachable, now);
    for (const { node, ...facts } of update.nodes) await updateNode(tx, pool.id, node, { ...facts, lastSeen: now });
  });
  return loadPool(db, pool.id);
}
