import type { Command } from 'commander';
import { renderText } from '../bot/render/text.js';
import { fpgaStatusView } from '../bot/views/fpga-view.js';
import { WarroomError } from '../core/errors.js';
import { fpgaStatusToolRef } from '../tools/fpga/fpga-status.js';
import { toolContext } from '../tools/services.js';
import { resolveIn, type CliIo } from './io.js';

/**
 * `warroom fpga status [--file F] [--card N] [--json]`: the same tool and wording as the chat's
 * `fpga` / `行情卡状态`. Registered under `fpga` whichever of this file and `fpga simulate` comes first.
 */
export function registerFpgaStatusCommand(program: Command, io: CliIo): void {
  const fpga = program.commands.find((c) => c.name() === 'fpga') ?? program.command('fpga').description('FPGA market-data decoder: its status block, the simulator');
  fpga
    .command('status')
    .description("read the decoder's status block twice a second apart: MDGW link and login, multicast, TOE, active path, per-channel rates and freshness, problems in plain words with their runbooks")
    .option('--file <file>', 'the status block (default: WARROOM_FPGA_STATUS_FILE, else WARROOM_HOME/fpga-status.bin)')
    .option('--card <n>', 'one card only')
    .option('--lang <lang>', 'zh or en for the readable answer', 'zh')
    .option('--json', 'print {reader, cards: [{card, mdgw: {tcp, login, rejectCode?}, multicast, toeSessions, activePath, channels: [{channel, stale, …}], problems: [text]}], citations}')
    .action(async (opts: { file?: string; card?: string; lang: string; json?: boolean }) => {
      const card = opts.card === undefined ? undefined : Number(opts.card);
      if (card !== undefined && (!Number.isInteger(card) || card < 0)) throw new WarroomError('usage', `--card must be a card number (0, 1, …), not "${opts.card}".`);
      const file = opts.file ? resolveIn(io, opts.file) : undefined;
      await io.withApp(async (app) => {
        const r = await app.tools.call(fpgaStatusToolRef, { ...(file ? { file } : {}), ...(card !== undefined ? { card } : {}) }, toolContext(app, io.envUser ?? 'cli'));
        if (r.status === 'error' || !r.data) throw new WarroomError('fpga_status_failed', r.error ?? r.summary);
        io.out(opts.json ? `${JSON.stringify(r.data, null, 2)}\n` : `${renderText(fpgaStatusView(r.data, opts.lang === 'en' ? 'en' : 'zh', app.config.WARROOM_TIMEZONE))}\n`);
      });
    });
}
