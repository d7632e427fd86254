import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadLocalizeScenarios, DECOY_KINDS } from '../../cli/eval/localize-scenarios.js';
import { runLocalizeEvaluation, type LocalizeEvalReport } from '../../cli/eval/localize-runner.js';
import { formatLocalizeEvalReport, localizeEvalReportJson } from '../../cli/localize-eval.js';
import { buildProgram } from '../../cli/program.js';
import type { CliIo } from '../../cli/io.js';

const DIR = join(import.meta.dirname, 'localize-scenarios');

describe('localization scenarios', () => {
  const scenarios = loadLocalizeScenarios(DIR);

  it('hold at least 40 scenarios, split in halves, with decoys of every kind in each half', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(40);
    const tune = scenarios.filter((s) => s.split === 'tune');
    const heldout = scenarios.filter((s) => s.split === 'heldout');
    expect(Math.abs(tune.length - heldout.length)).toBeLessThanOrEqual(2);
    for (const half of [tune, heldout]) {
      const kinds = new Set(half.flatMap((s) => s.decoys.map((d) => d.kind)));
      expect([...DECOY_KINDS].filter((k) => !kinds.has(k))).toEqual([]);
    }
  });

  it('refuses a scenario whose culprit is not in its data', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'scen-'));
    mkdirSync(join(dir, 'tune'));
    writeFileSync(
      join(dir, 'tune', 'bad.yaml'),
      'id: bad\ndescription: x\nsystem: jzjy\nat: "2026-11-23T09:40:00+08:00"\nculprit: CAB-1\ndecoys: [{ id: CAB-2, kind: nearest }]\ndata: { changes: [{ id: CAB-2, title: t, system: jzjy }] }\n',
    );
    expect(() => loadLocalizeScenarios(dir)).toThrow(/culprit "CAB-1" is neither a change nor an event/);
  });
});

describe('warroom localize eval', () => {
  let report: LocalizeEvalReport;

  it('runs every scenario: each loads, the card is built, and the culprit is among the candidates', async () => {
    report = await runLocalizeEvaluation(loadLocalizeScenarios(DIR));
    const errors = report.results.filter((r) => r.error).map((r) => `${r.id}: ${r.error}`);
    expect(errors).toEqual([]);
    expect(report.results.filter((r) => !r.culpritInCandidates).map((r) => r.id)).toEqual([]);
    expect(report.results.filter((r) => r.decoysOutside.length).map((r) => `${r.id}: ${r.decoysOutside.join(', ')}`)).toEqual([]);
    for (const r of report.results) expect(r.candidates).toBeGreaterThanOrEqual(2);
  }, 600_000);

  it('computes the naive rankers beside the card and prints the table', () => {
    for (const ranker of ['warroom', 'nearest', 'risk-nearest', 'same-system'] as const) {
      const all = report.rates[ranker].all;
      expect(all.total).toBe(report.scenarios);
      expect(all.top1).toBeLessThanOrEqual(all.top3);
      expect(report.rates[ranker].tune.total + report.rates[ranker].heldout.total).toBe(all.total);
    }
    // The decoys are set to catch the naive rankers: none of them is right most of the time.
    for (const ranker of ['nearest', 'risk-nearest', 'same-system'] as const) expect(report.rates[ranker].all.top1).toBeLessThan(report.scenarios / 2);
    const text = formatLocalizeEvalReport(report);
    expect(text).toContain('naive: nearest first');
    expect(text).toContain('naive: risk, then nearest');
    expect(text).toContain('naive: same system first, then nearest');
    expect(text).toContain('Warroom card');
    expect(JSON.parse(JSON.stringify(localizeEvalReportJson(report)))).toHaveProperty('rates.warroom.heldout.total');
    console.log(text);
  });

  it('the card puts the culprit in its first three everywhere, first far more often than any naive ranker', () => {
    const card = report.rates.warroom;
    // Measured (2026-12-03, 68 scenarios, 24 of them written after the first ranker and apart from it):
    // tune 32/34 top-1, held out 29/34 top-1 (of the first 22 held out 19, of the 12 new 10), top-3 68/68.
    // The goal for held out is 90 % top-1: the floor guards what was reached, not the goal.
    expect(card.all.top3).toBe(card.all.total);
    expect(card.tune.top1 / card.tune.total).toBeGreaterThanOrEqual(0.9);
    expect(card.heldout.top1 / card.heldout.total).toBeGreaterThanOrEqual(0.8);
    for (const naive of ['nearest', 'risk-nearest', 'same-system'] as const) expect(card.all.top1).toBeGreaterThan(report.rates[naive].all.top1 * 2);
  });
});

describe('the command line', () => {
  function cli(): { run(args: string[]): Promise<string> } {
    let out = '';
    const io: CliIo = {
      where: 'local',
      out: (t) => void (out += t),
      err: (t) => void (out += t),
      errIsTTY: false,
      cwd: process.cwd(),
      user: 'songkai',
      envUser: 'songkai',
      setExitCode: () => undefined,
      withApp: () => Promise.reject(new Error('the eval builds its own stores')),
    };
    return {
      async run(args) {
        out = '';
        await buildProgram(io).parseAsync(args, { from: 'user' });
        return out;
      },
    };
  }

  it('`warroom localize eval DIR --split heldout --only … --json` runs only those, beside `localize --system`', async () => {
    const out = await cli().run(['localize', 'eval', DIR, '--split', 'heldout', '--only', 'h03,t01', '--json']);
    const json = JSON.parse(out) as { scenarios: number; results: Array<{ id: string; split: string }>; rates: Record<string, { heldout: { total: number } }> };
    expect(json.scenarios).toBe(1);
    expect(json.results.map((r) => r.id)).toEqual(['h03-app-trade-cert-chain-weekend']);
    expect(Object.keys(json.rates)).toEqual(['warroom', 'nearest', 'risk-nearest', 'same-system']);
    await expect(cli().run(['localize', 'eval', DIR, '--split', 'dev'])).rejects.toThrow(/--split dev: use tune or heldout/);
    await expect(cli().run(['localize', '--json'])).rejects.toThrow(/--system/);
  }, 120_000);
});
