/**
 * The model's answer split into the answer and its hypotheses: the system prompt asks for a last
 * section opened by "Hypotheses:" / "假设：" with one bullet each. The section leaves the text (the
 * bot shows hypotheses apart from facts); an answer without one keeps its text whole.
 */
const HEADING = /^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(?:hypothes[ie]s|假设|推测|猜测)\s*(?:\*\*|__)?\s*[:：]?\s*(?:\*\*|__)?\s*$/i;
const BULLET = /^\s*(?:[-*•·]|\d+[.)、])\s+(.*\S)\s*$/;

export function splitHypotheses(text: string): { text: string; hypotheses: string[] } {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => HEADING.test(l));
  if (at < 0) return { text: text.trim(), hypotheses: [] };
  const hypotheses: string[] = [];
  let end = at + 1;
  for (; end < lines.length; end++) {
    const line = lines[end]!;
    if (line.trim() === '') continue;
    const m = BULLET.exec(line);
    if (!m) break;
    hypotheses.push(m[1]!);
  }
  if (!hypotheses.length) return { text: text.trim(), hypotheses: [] };
  const rest = [...lines.slice(0, at), ...lines.slice(end)].join('\n').trim();
  return { text: rest, hypotheses };
}
