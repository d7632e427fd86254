import type { StepRunner } from '../../tools/tool.js';

/** A step as a worker would record it: marked running before it runs, done with its result after. */
export interface StepRecord {
  status: 'running' | 'done';
  result?: unknown;
  runs: number;
  probed?: boolean;
}

export class SimulatedCrash extends Error {
  constructor(readonly step: string) {
    super(`simulated crash in step ${step}`);
  }
}

/**
 * A step runner that keeps its records in memory, with the worker's resume rules: a done step
 * returns its recorded result; an interrupted idempotent step runs again; an interrupted
 * non-idempotent step asks its probe and runs again only when the probe says it did not take effect.
 * `crashAfter` dies once that step's work is done but before it is recorded (the worst moment).
 */
export function memorySteps(records = new Map<string, StepRecord>(), options: { crashAfter?: string; crashBefore?: string } = {}): { run: StepRunner; records: Map<string, StepRecord>; order: string[] } {
  const order: string[] = [];
  const run: StepRunner = async <T>(spec: Parameters<StepRunner>[0], fn: (progress: (detail: string) => void) => Promise<T>, opts?: { probe?: () => Promise<T | undefined> }): Promise<T> => {
    order.push(spec.id);
    const rec = records.get(spec.id);
    if (rec?.status === 'done') return rec.result as T;
    if (rec?.status === 'running' && !spec.idempotent) {
      if (!opts?.probe) throw new Error(`step ${spec.id} was interrupted and has no probe: a human must check it`);
      const found = await opts.probe();
      if (found !== undefined) {
        records.set(spec.id, { status: 'done', result: found, runs: rec.runs, probed: true });
        return found;
      }
    }
    const runs = (rec?.runs ?? 0) + 1;
    records.set(spec.id, { status: 'running', runs });
    if (options.crashBefore === spec.id) throw new SimulatedCrash(spec.id);
    const result = await fn(() => undefined);
    if (options.crashAfter === spec.id) throw new SimulatedCrash(spec.id);
    records.set(spec.id, { status: 'done', result: JSON.parse(JSON.stringify(result)) as unknown, runs });
    return result;
  };
  return { run, records, order };
}
