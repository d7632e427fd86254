import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WarroomError } from '../core/errors.js';
import { shippedRunbooksDir } from '../core/paths.js';
import { evaluateRetrieval, readEvalSet } from '../knowledge/eval.js';
import { ingestRunbooks, type IngestReport } from '../knowledge/ingest.js';
import { searchRunbooks, type SearchHit } from '../knowledge/search.js';
import { resolveIn, type CliIo } from './io.js';

function parseTop(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new WarroomError('invalid_option', `--top must be a whole number from 1 to 50, not "${v}".`);
  return n;
}

export function printIngestReport(report: IngestReport, out: (text: string) => void): void {
  out(
    `Ingested ${report.files} file(s): ${report.runbooks} runbook(s) stored, ${report.chunks} chunk(s), ${report.skipped} unchanged, ` +
      `${report.removed} removed${report.reembedded ? `, ${report.reembedded} chunk(s) re-embedded` : ''}, ${report.errors.length} error(s) in ${report.seconds}s\n`,
  );
  for (const e of report.errors) out(`  error: ${e.file}: ${e.message}\n`);
}

function printHits(io: CliIo, hits: SearchHit[]): void {
  if (hits.length === 0) {
    io.out('No runbook matches. Is the knowledge base ingested? (`warroom kb ingest runbooks`)\n');
    return;
  }
  hits.forEach((h, i) => {
    const excerpt = h.text.split('\n').filter((l) => l.trim()).slice(0, 4).join('\n     ');
    io.out(`${i + 1}. ${h.title}\n   [${h.runbookId} § ${h.section}] ${h.source} (score ${h.score})\n     ${excerpt}\n\n`);
  });
}

export function registerKnowledgeCommands(program: Command, io: CliIo): void {
  const kb = program.command('kb').description('the runbook knowledge base');

  kb.command('ingest')
    .description('read every runbook under DIR, chunk by heading, embed and index (unchanged files are skipped)')
    .argument('[dir]', 'folder of Markdown runbooks', shippedRunbooksDir)
    .option('--prune', 'remove runbooks whose file is gone')
    .action(async (dir: string, opts: { prune?: boolean }) => {
      await io.withApp(async (app) => {
        const tty = io.errIsTTY;
        const report = await ingestRunbooks(app.db, resolveIn(io, dir), app.embedder, {
          prune: opts.prune === true,
          onProgress: (done, total, file) => {
            if (tty) io.err(`\r  ${done}/${total} ${file.slice(0, 60).padEnd(60)}`);
            else if (done === total || done % 50 === 0) io.err(`  ${done}/${total} files\n`);
          },
        });
        if (tty) io.err('\n');
        printIngestReport(report, io.out);
        if (report.errors.length) io.setExitCode(1);
      });
    });

  kb.command('search')
    .description('hybrid search (full text + vectors) for runbook passages; cites runbook id, section and source')
    .argument('[query...]', 'a symptom, a question or a pasted log line')
    .option('--top <n>', 'runbooks to return', parseTop, 5)
    .option('--json', 'print a JSON array of {runbookId, title, section, score, source, text}')
    .option('--batch <file>', 'one query per line; prints one JSON array per line')
    .action(async (words: string[], opts: { top: number; json?: boolean; batch?: string }) => {
      const query = words.join(' ').trim();
      if (!query && !opts.batch) throw new WarroomError('missing_query', 'Give a query, or --batch FILE.', { hint: 'e.g. warroom kb search "开盘后委托大量失败"' });
      await io.withApp(async (app) => {
        if (opts.batch) {
          const lines = readFileSync(resolveIn(io, opts.batch), 'utf8').split('\n').map((l) => l.trim());
          for (const line of lines) {
            if (!line) continue;
            io.out(`${JSON.stringify(await searchRunbooks(app.db, line, app.embedder, { top: opts.top }))}\n`);
          }
          return;
        }
        const hits = await searchRunbooks(app.db, query, app.embedder, { top: opts.top });
        if (opts.json) io.out(`${JSON.stringify(hits, null, 2)}\n`);
        else printHits(io, hits);
      });
    });

  kb.command('eval')
    .description('recall@1, recall@3 and MRR of the hybrid search against a plain BM25 baseline, on an evaluation set')
    .argument('<file>', 'JSON {"queries": [{"query", "expected"}]}')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const set = readEvalSet(resolveIn(io, file));
      await io.withApp(async (app) => {
        const r = await evaluateRetrieval(app.db, app.embedder, set);
        if (opts.json) {
          io.out(`${JSON.stringify(r, null, 2)}\n`);
          return;
        }
        const row = (name: string, s: typeof r.hybrid) => `${name.padEnd(22)} ${s.recallAt1.toFixed(3)}     ${s.recallAt3.toFixed(3)}     ${s.mrr.toFixed(3)}\n`;
        io.out(`${r.hybrid.queries} queries, embedder ${r.embedder}\n${''.padEnd(22)} recall@1  recall@3  MRR\n`);
        io.out(row('hybrid (BM25F+vector)', r.hybrid) + row('BM25 baseline', r.bm25));
        for (const [name, s] of Object.entries(r.splits)) {
          io.out(`${name} (${s.hybrid.queries} queries)\n`);
          io.out(row('  hybrid', s.hybrid) + row('  BM25 baseline', s.bm25));
        }
        for (const m of r.misses) io.out(`  miss${m.split ? ` (${m.split})` : ''}: "${m.query}" expected ${m.expected}, got ${m.got.join(', ') || 'nothing'}\n`);
      });
    });
}
