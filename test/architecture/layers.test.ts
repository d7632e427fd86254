import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';

/**
 * The layering rule, checked on every import of every source file: imports run one way, from the
 * top down. A folder may import itself and the folders listed for it, nothing else.
 *
 *   app (composition root), cli  →  server  →  bot  →  agents, workers  →  tools  →  knowledge  →  db  →  core
 */
const LAYERS: Record<string, string[]> = {
  core: [],
  db: ['core'],
  knowledge: ['core', 'db'],
  native: ['core'],
  tools: ['core', 'db', 'knowledge', 'native'],
  workers: ['core', 'db', 'knowledge', 'native', 'tools'],
  agents: ['core', 'db', 'knowledge', 'native', 'tools', 'workers'],
  bot: ['core', 'db', 'knowledge', 'native', 'tools', 'workers', 'agents'],
  server: ['core', 'db', 'knowledge', 'native', 'tools', 'workers', 'agents', 'bot'],
  app: ['core', 'db', 'knowledge', 'native', 'tools', 'workers', 'agents', 'bot', 'server'],
  cli: ['core', 'db', 'knowledge', 'native', 'tools', 'workers', 'agents', 'bot', 'server', 'app'],
};
/** Only the composition root and the chat platforms may know the Bot itself. */
const BOT_FILE = 'bot/bot.ts';
const MAY_IMPORT_BOT = [/^app\//, /^cli\//, /^bot\/platforms\//, /^bot\/bot\.ts$/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(p);
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec) out.push(relative(packageRoot, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const files = Object.keys(LAYERS).flatMap((layer) => {
  try {
    return sourceFiles(join(packageRoot, layer));
  } catch {
    return [];
  }
});

describe('layering: imports run one way', () => {
  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('no folder imports a folder above it', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = relative(packageRoot, file);
      const layer = from.split('/')[0]!;
      for (const target of importsOf(file)) {
        const to = target.split('/')[0]!;
        if (to === layer || !(to in LAYERS)) continue;
        if (!LAYERS[layer]!.includes(to)) wrong.push(`${from} → ${target} (${layer} may import ${LAYERS[layer]!.join(', ') || 'nothing of Warroom'})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('only the composition root and the chat platforms import bot/bot.ts', () => {
    const wrong = files
      .map((f) => relative(packageRoot, f))
      .filter((from) => !MAY_IMPORT_BOT.some((re) => re.test(from)))
      .filter((from) => importsOf(join(packageRoot, from)).includes(BOT_FILE));
    expect(wrong).toEqual([]);
  });

  it('routes and the CLI reach the incident domain through its service, not the flows', () => {
    const wrong = files
      .map((f) => relative(packageRoot, f))
      .filter((from) => /^(server|cli)\//.test(from))
      .flatMap((from) => importsOf(join(packageRoot, from)).filter((to) => to.startsWith('bot/incidents/') && to !== 'bot/incidents/service.ts').map((to) => `${from} → ${to}`));
    expect(wrong).toEqual([]);
  });
});
