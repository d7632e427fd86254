import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WarroomError } from '../core/errors.js';

export const frontMatterSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,99}$/, 'must be lower-case letters, digits, ".", "_" or "-" (e.g. rb-redis-memory)'),
  title: z.string().trim().min(1, 'must not be empty'),
  systems: z.array(z.string().min(1)).min(1, 'must list at least one system id'),
  tags: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
});

export type RunbookFrontMatter = z.infer<typeof frontMatterSchema>;

export interface RunbookChunk {
  ord: number;
  /** The heading this text sits under (the title for text before the first heading). */
  section: string;
  /** Title, then each enclosing heading. */
  headingPath: string[];
  content: string;
}

export interface ParsedRunbook extends RunbookFrontMatter {
  source: string;
  contentHash: string;
  body: string;
  chunks: RunbookChunk[];
}

/** Chunks longer than this are split at paragraph boundaries, keeping their section. */
const MAX_CHUNK_CHARS = 1800;

export function hashContent(raw: string): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Parse one runbook file. Throws a WarroomError naming the file and the bad field. */
export function parseRunbook(raw: string, source: string): ParsedRunbook {
  const text = raw.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const m = text.match(/^---\n([\s\S]*?)\n---\n?([\s\S]*)$/);
  if (!m) {
    throw new WarroomError('runbook_invalid', `${source}: no YAML front matter`, {
      hint: 'A runbook starts with "---", the fields id, title, systems, tags, then "---" (see runbooks/README.md).',
    });
  }
  let meta: unknown;
  try {
    meta = parseYaml(m[1]!);
  } catch (err) {
    throw new WarroomError('runbook_invalid', `${source}: front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = frontMatterSchema.safeParse(meta ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WarroomError('runbook_invalid', `${source}: front matter field "${issue.path.join('.') || '(root)'}" ${issue.message === 'Required' ? 'is missing' : issue.message}`);
  }
  const body = m[2] ?? '';
  const chunks = chunkByHeading(body, parsed.data.title);
  if (chunks.length === 0) throw new WarroomError('runbook_invalid', `${source}: the runbook has no text after its front matter`);
  return { ...parsed.data, source, contentHash: hashContent(raw), body, chunks };
}

/** Split Markdown at headings; each chunk keeps its heading path. Code fences are not headings. */
export function chunkByHeading(body: string, title: string): RunbookChunk[] {
  const chunks: RunbookChunk[] = [];
  const path: Array<{ level: number; text: string }> = [];
  let section = title;
  let buf: string[] = [];
  let inFence = false;

  const flush = () => {
    const content = buf.join('\n').trim();
    buf = [];
    if (!content) return;
    const headingPath = [title, ...path.map((p) => p.text)];
    for (const piece of splitLong(content)) chunks.push({ ord: chunks.length, section, headingPath, content: piece });
  };

  for (const line of body.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const h = !inFence && line.match(/^(#{1,6})\s+(.+?)\s*#*\s*$/);
    if (h) {
      flush();
      const level = h[1]!.length;
      const text = h[2]!.trim();
      if (level === 1 && path.length === 0 && text === title) continue; // a repeated title is not a section
      while (path.length && path[path.length - 1]!.level >= level) path.pop();
      path.push({ level, text });
      section = text;
      continue;
    }
    buf.push(line);
  }
  flush();
  return chunks;
}

function splitLong(content: string): string[] {
  if (content.length <= MAX_CHUNK_CHARS) return [content];
  const out: string[] = [];
  let cur = '';
  for (const para of content.split(/\n{2,}/)) {
    if (cur && cur.length + para.length + 2 > MAX_CHUNK_CHARS) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n\n${para}` : para;
  }
  if (cur) out.push(cur);
  return out;
}
