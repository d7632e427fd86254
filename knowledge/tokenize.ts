import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

/**
 * One tokenizer for indexing and querying, Chinese and English alike: jieba (search mode) for Han
 * text, lower-cased words for Latin text, and log-line friendly handling of identifiers
 * (`ORA-12519` → `ora-12519`, `ora`, `12519`; `maxPoolSize` → `maxpoolsize`, `max`, `pool`, `size`).
 */
let jieba: Jieba | undefined;
function segmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

// Function words that carry no meaning for retrieval. Kept short on purpose: negations such as
// 不 / not are meaningful in runbooks ("do not switch") and stay.
const STOP = new Set([
  '的', '了', '是', '在', '和', '与', '及', '或', '也', '都', '就', '把', '被', '跟', '对', '从', '到', '为', '而', '又', '还', '吗', '呢', '吧', '啊', '呀',
  '我', '我们', '你', '你们', '他', '她', '它', '这', '那', '这个', '那个', '一个', '什么', '怎么', '怎么办', '怎样', '如何', '请问', '一下', '有', '没', '能', '会', '要', '该', '可以',
  // 前 / 后 stay: "开盘后" (after the open) and "盘前" (pre-open) are different trading phases.
  '个', '些', '上', '下', '中', '里', '时', '后来', '现在', '今天', '刚才', '突然', '好像', '一直', '大量', '很多', '出现', '发现',
  'the', 'a', 'an', 'and', 'or', 'of', 'to', 'in', 'on', 'at', 'for', 'is', 'are', 'was', 'were', 'be', 'been', 'it', 'its', 'this', 'that', 'with',
  'as', 'by', 'from', 'we', 'our', 'i', 'you', 'my', 'me', 'do', 'does', 'did', 'how', 'what', 'why', 'when', 'which', 'who', 'should', 'can', 'could',
  'there', 'here', 'all', 'any', 'some', 'after', 'before', 'now', 'just', 'again', 'seems', 'getting', 'got', 'has', 'have', 'had', 'into', 'up',
]);

const HAN = /[\u3400-\u9fff]/;
const SEGMENT = /[\u3400-\u9fff]+|[A-Za-z0-9][A-Za-z0-9_.\-:/]*/g;

// Dates, clock times and tiny numbers from pasted log lines say nothing about the fault.
const NOISE = /^(\d{1,2}|\d{4}-\d{2}-\d{2}(t[\d:.]+)?|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)$/;

function pushWord(out: string[], raw: string): void {
  const word = raw.replace(/[.\-:/_]+$/, '');
  if (!word || NOISE.test(word.toLowerCase())) return;
  const lower = word.toLowerCase();
  // Identifiers keep their whole form and their parts: a pasted `HikariPool-1` or `ORA-00257`
  // must match both the exact string and the words around it.
  const parts = word.split(/[_.\-:/]+/).filter(Boolean);
  const camel = parts.flatMap((p) => p.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)).filter(Boolean);
  const pieces = new Set<string>();
  if (lower.length >= 2 || /\d/.test(lower)) pieces.add(lower);
  for (const p of [...parts, ...camel]) {
    const lp = p.toLowerCase();
    if (lp.length >= 2 || /^\d+$/.test(lp)) pieces.add(lp);
  }
  for (const p of pieces) if (!STOP.has(p) && !NOISE.test(p)) out.push(p);
}

/** Tokens in order, duplicates kept (term frequency matters for indexing). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SEGMENT)) {
    const seg = m[0];
    if (HAN.test(seg)) {
      for (const w of segmenter().cutForSearch(seg, true)) {
        if (w.trim() && !STOP.has(w)) out.push(w);
      }
    } else {
      pushWord(out, seg);
    }
  }
  return out;
}

/** Han character bigrams: robust to segmentation differences between a query and a runbook. */
export function hanBigrams(text: string): string[] {
  const out: string[] = [];
  for (const run of text.match(/[\u3400-\u9fff]+/g) ?? []) {
    for (let i = 0; i + 1 < run.length; i++) out.push(run.slice(i, i + 2));
  }
  return out;
}
