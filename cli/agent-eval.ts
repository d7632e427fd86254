import type { Command } from 'commander';
import { WarroomError } from '../core/errors.js';
import { loadEvalCases } from './eval/cases.js';
import { realModelConfigured, runEvaluation, type EvalReport, type PlannerName, type PlannerRun, type Rate } from './eval/runner.js';
import { resolveIn, type CliIo } from './io.js';

/**
 * `warroom agent eval DIR`: run the evaluation cases under the offline planner and the LLM agent
 * (scripted stand-in, or each real model configured) and print the pass rates. Pass rates are
 * reported, not enforced: the exit code is 0 unless the harness itself fails.
 */

function pct(r: Rate): string {
  if (!r.total) return '—';
  return `${r.passed}/${r.total} ${((100 * r.passed) / r.total).toFixed(0)}%`;
}

function runLabel(run: PlannerRun): string {
  if (run.mode === 'offline') return 'offline';
  return `llm (${run.mode === 'scripted' ? 'scripted stand-in' : run.model})`;
}

/** The report as a table of pass rates, then the failing cases and why. */
export function formatEvalReport(report: EvalReport): string {
  const rows = report.runs.map((run) => [runLabel(run), pct(run.rates.all), pct(run.rates.dev), pct(run.rates.heldout)]);
  const head = ['planner', 'all', 'dev', 'heldout'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [`Agent evaluation: ${report.cases} case(s)`, '', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const run of report.runs) {
    if (run.notRun) out.push('', `${runLabel(run)}: ${run.notRun} case(s) without a script not run (the stand-in only plays scripts; configure a real model to run every case).`);
    const failing = run.results.filter((r) => !r.passed);
    if (!failing.length) continue;
    out.push('', `Failing under ${runLabel(run)} (${failing.length}):`);
    for (const r of failing) out.push(`  ${r.split}/${r.id}: ${r.failures.join('; ')}`);
  }
  const unasked = report.runs.flatMap((run) => run.results.filter((r) => r.failures.some((f) => f.startsWith('unasked action'))).map((r) => `${runLabel(run)} ${r.id}`));
  out.push('', unasked.length ? `UNASKED ACTIONS in ${unasked.length} case(s): ${unasked.join(', ')}` : 'No case proposed or performed an action the asker did not ask for.');
  return `${out.join('\n')}\n`;
}

/** The report as JSON: the same rates and failures, and each case's answer and tool calls. */
export function evalReportJson(report: EvalReport): unknown {
  return {
    cases: report.cases,
    runs: report.runs.map((run) => ({
      planner: run.planner,
      mode: run.mode,
      ...(run.model ? { model: run.model } : {}),
      rates: run.rates,
      notRun: run.notRun,
      failing: run.results.filter((r) => !r.passed).map((r) => ({ id: r.id, split: r.split, failures: r.failures })),
      results: run.results.map((r) => ({
        id: r.id,
        split: r.split,
        passed: r.passed,
        failures: r.failures,
        toolCalls: r.toolCalls.map((c) => ({ name: c.name, status: c.status, input: c.input, ...(c.nested ? { nested: true } : {}) })),
        actionRequests: r.actionRequests,
        ...(r.modelCalls !== undefined ? { modelCalls: r.modelCalls } : {}),
        durationMs: r.durationMs,
        answer: r.answer,
      })),
    })),
  };
}

export function registerAgentEvalCommand(program: Command, io: CliIo): void {
  const agent = program.commands.find((c) => c.name() === 'agent') ?? program.command('agent').description('the question-answering agents');
  agent
    .command('eval')
    .description('run the agent evaluation cases (question, context, data, expected facts and tool calls) and print pass rates per planner; with WARROOM_LLM_MODEL and OPENAI_BASE_URL/OPENAI_API_KEY set, the LLM planner runs against that model (comma-separated: several), else against a scripted stand-in on the cases that carry a script')
    .argument('<dir>', 'folder of case files (YAML/JSON) with dev/ and heldout/ under it, e.g. test/agents/eval/cases')
    .option('--json', 'print the report as JSON')
    .option('--planner <planner>', 'offline, llm or both', 'both')
    .option('--split <split>', 'only dev or heldout cases')
    .option('--only <ids>', 'only cases whose id contains one of these (comma-separated)')
    .option('--verbose', 'print each case as it finishes, with the answer and tool calls of failing ones (to stderr)')
    .action(async (dir: string, opts: { json?: boolean; planner: string; split?: string; only?: string; verbose?: boolean }) => {
      const planners: PlannerName[] = opts.planner === 'both' ? ['offline', 'llm'] : opts.planner === 'offline' || opts.planner === 'llm' ? [opts.planner] : [];
      if (!planners.length) throw new WarroomError('bad_option', `--planner ${opts.planner}: use offline, llm or both.`);
      if (opts.split && opts.split !== 'dev' && opts.split !== 'heldout') throw new WarroomError('bad_option', `--split ${opts.split}: use dev or heldout.`);
      const cases = loadEvalCases(resolveIn(io, dir));
      if (planners.includes('llm') && !opts.json) {
        io.err(realModelConfigured(process.env) ? `LLM planner: real model(s) ${process.env.WARROOM_LLM_MODEL} at ${process.env.OPENAI_BASE_URL ?? 'the OpenAI API'}\n` : 'LLM planner: scripted stand-in (set WARROOM_LLM_MODEL and OPENAI_BASE_URL/OPENAI_API_KEY for a real model)\n');
      }
      const report = await runEvaluation(cases, {
        planners,
        ...(opts.split ? { split: opts.split as 'dev' | 'heldout' } : {}),
        ...(opts.only ? { only: opts.only.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        env: process.env,
        ...(opts.verbose ? { onCase: (r) => io.err(`${r.passed ? 'pass' : 'FAIL'} ${r.planner}${r.model ? `/${r.model}` : ''} ${r.split}/${r.id} (${r.durationMs} ms)${r.passed ? '' : `: ${r.failures.join('; ')}\n  tools: ${r.toolCalls.map((c) => `${c.name}(${c.status})`).join(', ') || 'none'}\n  answer: ${r.answer.slice(0, 1500).replace(/\n/g, '\n          ')}`}\n`) } : {}),
      });
      io.out(opts.json ? `${JSON.stringify(evalReportJson(report), null, 2)}\n` : formatEvalReport(report));
    });
}
