import type { FactorItem } from '../sensors/sensor.js';
import { sensorIdPattern } from '../sensors/sensor.js';
import { describeIssues, snapshotHeaderSchema, snapshotSchema, type Snapshot } from '../snapshot.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `snapshotSchema.safeParse`, fast. zod spends ~20 µs per factor item, so a host with a few thousand
 * items costs tens of milliseconds of the event loop, and a fleet of thousands minutes. The header
 * is still parsed by zod; the items are checked by a loop that accepts exactly what the schema
 * accepts (and returns the same shape: items reduced to key and value). Anything it does not accept
 * goes through zod after all, for zod's own description of every problem.
 */
export function parseSnapshot(doc: unknown): { success: true; data: Snapshot } | { success: false; problems: string[] } {
  const slow = () => {
    const parsed = snapshotSchema.safeParse(doc);
    return parsed.success ? { success: true as const, data: parsed.data as Snapshot } : { success: false as const, problems: describeIssues(parsed.error) };
  };
  if (!isRecord(doc) || !isRecord(doc.factors)) return slow();
  const { factors, ...rest } = doc;
  const header = snapshotHeaderSchema.safeParse(rest);
  if (!header.success) return slow();
  const out: Record<string, FactorItem[]> = {};
  for (const [id, items] of Object.entries(factors)) {
    if (!sensorIdPattern.test(id) || !Array.isArray(items)) return slow();
    const list: FactorItem[] = new Array<FactorItem>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      if (!isRecord(item)) return slow();
      const { key, value } = item;
      if (typeof key !== 'string' || key.length < 1 || key.length > 8192 || value === undefined) return slow();
      list[i] = { key, value };
    }
    out[id] = list;
  }
  return { success: true, data: { ...(header.data as Omit<Snapshot, 'factors'>), factors: out } };
}
