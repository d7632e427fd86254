import type { OutgoingMessage } from '../messages.js';

/** Plain text for the terminal chat and `warroom ask`. Buttons are shown as numbered choices. */
export function renderText(msg: OutgoingMessage): string {
  const out: string[] = [];
  if (msg.title) out.push(`■ ${msg.title}`);
  if (msg.text) out.push(msg.text);
  if (msg.fields?.length) {
    const width = Math.max(...msg.fields.map((f) => displayWidth(f.label)));
    for (const f of msg.fields) out.push(`  ${f.label}${' '.repeat(width - displayWidth(f.label))}  ${f.value}`);
  }
  for (const s of msg.sections ?? []) {
    if (s.title) out.push(`\n${s.title}`);
    for (const line of s.lines) out.push(`  • ${line}`);
  }
  if (msg.buttons?.length) out.push(msg.buttons.map((b, i) => `[${i + 1}] ${b.label}`).join('  '));
  if (msg.context?.length) out.push(...msg.context.map((c) => `  ↳ ${c}`));
  return out.join('\n');
}

/** Han and full-width characters take two columns in a terminal. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}
