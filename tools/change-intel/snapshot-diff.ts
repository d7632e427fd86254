import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';
import { listNoiseRules } from './noise-rules-store.js';
import { findSnapshots, snapshotHosts, type StoredSnapshot } from './snapshots-store.js';
import { DiffTally, diffHost, sideOf, tallyJson } from './diff/engine.js';
import { NoiseRules } from './diff/noise.js';
import { defineTool, type ToolContext } from '../tool.js';

const itemOut = z.object({ key: z.string(), value: z.unknown() });
const snapshotRef = z.object({ id: z.string(), host: z.string(), takenAt: z.string(), label: z.string().nullable(), changeId: z.string().nullable() });

async function noSnapshot(ctx: ToolContext, what: string): Promise<never> {
  const hosts = await snapshotHosts(ctx.db, 8);
  throw new WarroomError('snapshot_missing', `No ${what}.`, {
    hint:
      (hosts.length ? `Hosts with snapshots: ${hosts.map((h) => h.host).join(', ')}. ` : 'No snapshots are stored yet. ') +
      'Take them with `warroom sense --label before|after --change CAB-… --store`, or POST them to /api/snapshots.',
  });
}

const ref = (s: StoredSnapshot) => ({ id: s.id, host: s.host, takenAt: s.takenAt, label: s.label ?? null, changeId: s.changeId ?? null });

/**
 * Diff stored perception-factor snapshots: before/after a change on one host (by change id), the
 * two newest snapshots of a host, or a host against another (test vs production of the same role).
 */
export const diffSnapshotsTool = defineTool({
  name: 'diff_snapshots',
  description:
    'Compare stored perception-factor snapshots (processes, listening ports, key file hashes, packages, kernel parameters, mounts, DB schema and parameter tables, Kubernetes resources) of a host: before vs after a change ticket, its two newest snapshots, or against another host. Noise (PIDs, ephemeral ports, timestamps, counters, user rules) is left out and counted.',
  risk: 'read',
  input: z.object({
    host: z.string().trim().min(1),
    changeId: z.string().trim().min(1).optional().describe('change ticket the before/after snapshots were labelled with'),
    against: z.string().trim().min(1).optional().describe('another host to compare with (e.g. the production peer of a test host)'),
    maxItems: z.number().int().min(1).max(500).default(20).describe('entries shown per list'),
  }),
  output: z.object({
    host: z.string(),
    afterHost: z.string().nullable(),
    before: snapshotRef,
    after: snapshotRef,
    factors: z.array(
      z.object({
        factor: z.string(),
        added: z.array(itemOut),
        removed: z.array(itemOut),
        modified: z.array(z.object({ key: z.string(), before: z.unknown(), after: z.unknown() })),
        more: z.object({ added: z.number(), removed: z.number(), modified: z.number() }),
      }),
    ),
    uncompared: z.array(z.object({ factor: z.string(), reason: z.string() })),
    suppressed: z.number(),
    suppressedBy: z.record(z.number()),
    totals: z.object({ added: z.number(), removed: z.number(), modified: z.number() }),
  }),
  async run(input, ctx) {
    if (input.changeId && input.against) throw new WarroomError('diff_input', 'Give either a change id or another host to compare with, not both.');
    let before: StoredSnapshot | undefined;
    let after: StoredSnapshot | undefined;
    if (input.changeId) {
      [after] = await findSnapshots(ctx.db, { host: input.host, changeId: input.changeId, label: 'after', limit: 1 });
      if (!after) await noSnapshot(ctx, `"after" snapshot of ${input.host} for ${input.changeId}`);
      [before] = await findSnapshots(ctx.db, { host: input.host, changeId: input.changeId, label: 'before', limit: 1 });
      // Without a "before" taken for this change, the newest earlier snapshot (a baseline) is the reference.
      before ??= (await findSnapshots(ctx.db, { host: input.host, before: new Date(after!.takenAt), limit: 2 })).find((s) => s.id !== after!.id);
      if (!before) await noSnapshot(ctx, `"before" snapshot (or any earlier one) of ${input.host} for ${input.changeId}`);
    } else if (input.against) {
      [before] = await findSnapshots(ctx.db, { host: input.host, limit: 1 });
      [after] = await findSnapshots(ctx.db, { host: input.against, limit: 1 });
      if (!before) await noSnapshot(ctx, `snapshot of ${input.host}`);
      if (!after) await noSnapshot(ctx, `snapshot of ${input.against}`);
    } else {
      [after, before] = await findSnapshots(ctx.db, { host: input.host, limit: 2 });
      if (!before) await noSnapshot(ctx, `pair of snapshots of ${input.host} (two are needed)`);
    }
    const b = before!;
    const a = after!;
    const rules = new NoiseRules(await listNoiseRules(ctx.db));
    const tally = new DiffTally();
    const d = diffHost(sideOf(b), sideOf(a), rules, tally);
    const cut = <T>(list: T[]) => list.slice(0, input.maxItems);
    const t = tallyJson(tally);
    const data = {
      host: b.host,
      afterHost: a.host !== b.host ? a.host : null,
      before: ref(b),
      after: ref(a),
      factors: d.factors.map((f) => ({
        factor: f.factor,
        added: cut(f.added),
        removed: cut(f.removed),
        modified: cut(f.modified),
        more: { added: Math.max(0, f.added.length - input.maxItems), removed: Math.max(0, f.removed.length - input.maxItems), modified: Math.max(0, f.modified.length - input.maxItems) },
      })),
      uncompared: tally.uncompared.map(({ factor, reason }) => ({ factor, reason })),
      suppressed: t.suppressed,
      suppressedBy: t.suppressedBy,
      totals: { added: tally.added, removed: tally.removed, modified: tally.modified },
    };
    const n = tally.added + tally.removed + tally.modified;
    const pair = a.host !== b.host ? `${b.host} vs ${a.host}` : `${b.host} ${b.takenAt} → ${a.takenAt}`;
    return {
      data,
      status: n ? 'success' : 'no_data',
      summary: n
        ? `${pair}: ${tally.added} added, ${tally.removed} removed, ${tally.modified} modified in ${d.factors.length} factor(s); ${tally.suppressed} noise entr(ies) suppressed.`
        : `${pair}: no differences (${tally.suppressed} noise entr(ies) suppressed).`,
    };
  },
});
