import type { Command } from 'commander';
import { renderText } from '../bot/render/text.js';
import { localizationView } from '../bot/views/localization-view.js';
import { toolContext } from '../tools/services.js';
import { WarroomError } from '../core/errors.js';
import { localizeToolRef } from '../tools/change-intel/localize.js';
import type { CliIo } from './io.js';
import { registerLocalizeEvalCommand } from './localize-eval.js';
import { parseTimeOption } from './run.js';

export function registerLocalizeCommand(program: Command, io: CliIo): void {
  const localize = program
    .command('localize')
    .description('fault-localization card for a system: suspicious changes with reasons, health, alerts, similar incidents, runbooks')
    // Not a required option: commander would demand it of the `eval` subcommand too.
    .option('--system <id>', 'system id, name or alias (required)')
    .option('--at <time>', 'the moment to localize at (ISO 8601); default now')
    .option('--onset <time>', 'when the trouble began (ISO 8601); default: the first alert of the system\'s current episode')
    .option('--symptom <text>', 'what is seen, e.g. the incident title')
    .option('--lang <lang>', 'zh or en for the readable card', 'zh')
    .option('--json', 'print the card as JSON')
    .action(async (opts: { system?: string; at?: string; onset?: string; symptom?: string; lang: string; json?: boolean }) => {
      if (!opts.system) throw new WarroomError('missing_option', "required option '--system <id>' not specified", { hint: 'e.g. warroom localize --system jzjy; or `warroom localize eval DIR` for the scenario evaluation.' });
      const system = opts.system;
      const at = parseTimeOption(opts.at);
      const onset = parseTimeOption(opts.onset, '--onset');
      await io.withApp(async (app) => {
        const input = { system, ...(at ? { at: at.toISOString() } : {}), ...(onset ? { onset: onset.toISOString() } : {}), ...(opts.symptom ? { symptom: opts.symptom } : {}) };
        const r = await app.tools.call(localizeToolRef, input, toolContext(app, io.envUser ?? 'cli'));
        if (r.status === 'error' || !r.data) throw new WarroomError('localize_failed', r.error ?? r.summary);
        if (opts.json) io.out(`${JSON.stringify(r.data, null, 2)}\n`);
        else io.out(`${renderText(localizationView(r.data, opts.lang === 'en' ? 'en' : 'zh', app.config.WARROOM_TIMEZONE))}\n`);
      });
    });
  registerLocalizeEvalCommand(localize, io);
}
