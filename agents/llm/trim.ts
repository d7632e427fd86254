/**
 * Large tool output cut down before it reaches the model (HolmesGPT's habit): long lists keep their
 * first items and say how many there were, long strings keep their start and say how much was cut,
 * so the model knows the counts and that it did not see everything.
 */
export interface Trimmed {
  value: unknown;
  /** What was cut, in words the model (and a reader of the transcript) understands. */
  cuts: string[];
}

function walk(value: unknown, path: string, items: number, chars: number, cuts: string[]): unknown {
  if (typeof value === 'string') {
    if (value.length <= chars) return value;
    cuts.push(`${path || 'value'}: kept the first ${chars} of ${value.length} characters`);
    return `${value.slice(0, chars)}…[${value.length - chars} more characters cut]`;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, items).map((v, i) => walk(v, `${path}[${i}]`, items, chars, cuts));
    if (value.length > items) {
      cuts.push(`${path || 'value'}: kept the first ${items} of ${value.length} items`);
      kept.push(`…[${value.length - items} more items cut; ${value.length} in all]`);
    }
    return kept;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, path ? `${path}.${k}` : k, items, chars, cuts);
    return out;
  }
  return value;
}

/** `value` as it fits in `maxChars` of JSON: fewer items and shorter strings until it fits, then a hard cut. */
export function trimForModel(value: unknown, maxChars: number): Trimmed {
  if (value === undefined) return { value, cuts: [] };
  if (JSON.stringify(value).length <= maxChars) return { value, cuts: [] };
  let items = 20;
  let chars = Math.max(200, Math.floor(maxChars / 4));
  for (;;) {
    const cuts: string[] = [];
    const trimmed = walk(value, '', items, chars, cuts);
    if (JSON.stringify(trimmed).length <= maxChars) return { value: trimmed, cuts };
    if (items <= 1 && chars <= 80) {
      const json = JSON.stringify(trimmed);
      return { value: `${json.slice(0, maxChars)}…[${json.length - maxChars} more characters of JSON cut]`, cuts: [...cuts, `the whole output: kept the first ${maxChars} of ${json.length} characters`] };
    }
    items = Math.max(1, Math.floor(items / 2));
    chars = Math.max(80, Math.floor(chars / 2));
  }
}
