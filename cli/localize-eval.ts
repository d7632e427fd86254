import type { Command } from 'commander';
import { WarroomError } from '../core/errors.js';
import { loadLocalizeScenarios, SPLITS, type Split } from './eval/localize-scenarios.js';
import { RANKER_LABELS, RANKERS, runLocalizeEvaluation, type LocalizeEvalReport, type Rate, type ScenarioResult } from './eval/localize-runner.js';
import { resolveIn, type CliIo } from './io.js';

/**
 * `warroom localize eval DIR`: run the localization scenarios and print, for the card and for the
 * naive rankers over the same candidates, how often the culprit is first and in the top 3, per split.
 * Rates are reported, not enforced: the exit code is 0 unless the harness itself fails.
 */

function pct(n: number, total: number): string {
  return total ? `${n}/${total} ${((100 * n) / total).toFixed(0)}%` : '—';
}

function rateCells(r: Rate): string[] {
  return [pct(r.top1, r.total), pct(r.top3, r.total)];
}

function describeMiss(r: ScenarioResult): string {
  if (r.error) return `  ${r.split}/${r.id}: ERROR ${r.error}`;
  const o = r.outcomes.warroom;
  const top = o.top ? `${o.top.id} (${o.top.system}: ${o.top.title.slice(0, 60)})` : 'none';
  const traps = o.decoysAbove.length ? `; decoys above it: ${o.decoysAbove.map((d) => `${d.id} [${d.kind}]`).join(', ')}` : '';
  const aside = r.setAside.includes(r.culprit) ? ' (set aside by the card)' : '';
  return `  ${r.split}/${r.id}: culprit ${r.culprit} ranked ${o.rank ?? 'absent'}${aside}; top suspect ${top}${traps}`;
}

/** The report as a table of top-1 / top-3 rates per ranker and split, then the scenarios the card misses. */
export function formatLocalizeEvalReport(report: LocalizeEvalReport): string {
  const head = ['ranker', 'all top-1', 'all top-3', 'tune top-1', 'tune top-3', 'heldout top-1', 'heldout top-3'];
  const rows = RANKERS.map((k) => [RANKER_LABELS[k], ...rateCells(report.rates[k].all), ...rateCells(report.rates[k].tune), ...rateCells(report.rates[k].heldout)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const tune = report.results.filter((r) => r.split === 'tune').length;
  const out = [
    `Localization evaluation: ${report.scenarios} scenario(s) (${tune} tune, ${report.scenarios - tune} heldout); culprit ranked first (top-1) and in the first three (top-3)`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const notTop = report.results.filter((r) => r.error || r.outcomes.warroom.rank !== 1);
  if (notTop.length) {
    out.push('', `Culprit not first on the card (${notTop.length}):`);
    for (const r of notTop) out.push(describeMiss(r));
  } else out.push('', 'The card ranks the culprit first in every scenario.');
  const lost = report.results.filter((r) => !r.error && !r.culpritInCandidates);
  if (lost.length) out.push('', `Culprit outside the card's window (scenario needs fixing): ${lost.map((r) => r.id).join(', ')}`);
  const unset = report.results.filter((r) => !r.error && r.decoysOutside.length);
  if (unset.length) out.push('', `Decoys outside the card's window (never in play): ${unset.map((r) => `${r.id} (${r.decoysOutside.join(', ')})`).join('; ')}`);
  return `${out.join('\n')}\n`;
}

/** The report as JSON: the rates and each scenario's ranks under every ranker. */
export function localizeEvalReportJson(report: LocalizeEvalReport): unknown {
  return {
    scenarios: report.scenarios,
    rates: report.rates,
    failing: report.results.filter((r) => r.error || r.outcomes.warroom.rank !== 1).map((r) => ({ id: r.id, split: r.split, culprit: r.culprit, rank: r.outcomes.warroom.rank, top: r.outcomes.warroom.top?.id ?? null, error: r.error ?? null })),
    results: report.results,
  };
}

export function registerLocalizeEvalCommand(localize: Command, io: CliIo): void {
  localize
    .command('eval')
    .description('run the localization scenarios (a failing system, its changes, events and alerts, the culprit and its decoys) and print top-1/top-3 accuracy of the card beside naive rankers (nearest first; risk then nearest; same system first)')
    .argument('<dir>', 'folder of scenario files (YAML/JSON) with tune/ and heldout/ under it, e.g. test/change-intel/localize-scenarios')
    .option('--json', 'print the report as JSON')
    .option('--split <split>', 'only tune or heldout scenarios')
    .option('--only <ids>', 'only scenarios whose id contains one of these (comma-separated)')
    .option('--verbose', 'print each scenario as it finishes (to stderr)')
    .action(async (dir: string, own: { json?: boolean; split?: string; only?: string; verbose?: boolean }, cmd: Command) => {
      // `localize` has a --json of its own, which commander gives the parent: read both.
      const opts = { ...own, json: own.json === true || cmd.optsWithGlobals<{ json?: boolean }>().json === true };
      if (opts.split && !(SPLITS as readonly string[]).includes(opts.split)) throw new WarroomError('bad_option', `--split ${opts.split}: use tune or heldout.`);
      const scenarios = loadLocalizeScenarios(resolveIn(io, dir));
      const report = await runLocalizeEvaluation(scenarios, {
        ...(opts.split ? { split: opts.split as Split } : {}),
        ...(opts.only ? { only: opts.only.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        ...(opts.verbose ? { onScenario: (r) => io.err(`${r.outcomes.warroom.rank === 1 ? 'first' : 'MISS '} ${r.split}/${r.id} rank ${r.outcomes.warroom.rank ?? '-'} (${r.durationMs} ms)${r.error ? ` ERROR ${r.error}` : ''}\n`) } : {}),
      });
      io.out(opts.json ? `${JSON.stringify(localizeEvalReportJson(report), null, 2)}\n` : formatLocalizeEvalReport(report));
    });
}
