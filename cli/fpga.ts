import type { Command } from 'commander';
import { configuredClock } from '../app/create-app.js';
import { loadConfig } from '../core/config.js';
import { WarroomError } from '../core/errors.js';
import { runningClock } from '../core/time.js';
import { channelNumbers, describeFault, parseFaultSpec, startFpgaSimulator, FPGA_FAULT_KINDS } from '../tools/fpga/simulator.js';
import { addonStatus } from '../tools/fpga/status-block.js';
import { resolveIn, type CliIo } from './io.js';

function count(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new WarroomError('bad_option', `--${name} ${value}: a whole number of at least 1 is needed.`);
    return n;
  };
}

export function registerFpgaCommands(program: Command, io: CliIo): void {
  const fpga = program.command('fpga').description('FPGA market-data decoder cards: their status block (native/README.md)');
  fpga
    .command('simulate')
    .description('write an FPGA status block and keep changing it like a card\'s control plane, until Ctrl-C or SIGTERM (uses no store)')
    .requiredOption('--file <path>', 'the status block to write (replaced at start)')
    .option('--cards <n>', 'cards on the host', count('cards'), 2)
    .option('--channels <m>', 'channels per card (ChannelNo 2011, 2012, …)', count('channels'), 4)
    .option(
      '--fault <kind...>',
      `faults, each KIND[:card=N,channel=C,code=R,sessions=S,after=SECONDS]; KIND: ${FPGA_FAULT_KINDS.join(', ')} (e.g. login-rejected:card=1,code=102 stale-channel:channel=2012)`,
    )
    .option('--rate <hz>', 'frames written per second (at most 1000)', (v) => Number(v), 10)
    .option('--clock <iso>', 'the simulated clock starts at this moment (ISO 8601 with offset) and runs on; default WARROOM_CLOCK or the real time')
    .option('--market-hours', 'channels flow only in exchange sessions (09:15–11:30, 13:00–15:00 Beijing time): quiet at lunch')
    .option('--writer <kind>', 'addon or typescript (default: WARROOM_FPGA_READER, else the addon where it built)')
    .action(async (opts: { file: string; cards: number; channels: number; fault?: string[]; rate: number; clock?: string; marketHours?: boolean; writer?: string }) => {
      if (io.where === 'server') throw new WarroomError('not_here', '`warroom fpga simulate` runs in its own process, never inside the server.');
      let clock: () => Date;
      if (opts.clock) {
        const at = new Date(opts.clock);
        if (!/[zZ]|[+-]\d\d:?\d\d$/.test(opts.clock) || Number.isNaN(at.getTime())) {
          throw new WarroomError('bad_option', `--clock ${opts.clock}: use ISO 8601 with an offset, e.g. 2026-11-23T09:40:00+08:00.`);
        }
        clock = runningClock(at);
      } else clock = configuredClock(loadConfig());
      if (opts.writer !== undefined && opts.writer !== 'addon' && opts.writer !== 'typescript') {
        throw new WarroomError('bad_option', `--writer ${opts.writer}: addon or typescript.`);
      }
      const file = resolveIn(io, opts.file);
      const faults = (opts.fault ?? []).map((f) => parseFaultSpec(f, { cards: opts.cards, channels: opts.channels }));
      let failure: WarroomError | undefined;
      let wake: () => void = () => undefined;
      const sim = startFpgaSimulator({
        file,
        onError: (err) => {
          failure = err;
          wake();
        },
        cards: opts.cards,
        channels: opts.channels,
        faults,
        rate: opts.rate,
        clock,
        ...(opts.marketHours ? { marketHours: true } : {}),
        ...(opts.writer ? { prefer: opts.writer as 'addon' | 'typescript' } : {}),
      });
      const numbers = channelNumbers(opts.channels);
      const addon = addonStatus();
      io.out(
        `Simulating ${opts.cards} FPGA card${opts.cards === 1 ? '' : 's'} × ${opts.channels} channel${opts.channels === 1 ? '' : 's'} (${numbers.length > 4 ? `${numbers.slice(0, 3).join(', ')}, … ${numbers.at(-1)}` : numbers.join(', ')}) in ${file}\n` +
          `  writer: ${sim.writer === 'addon' ? 'the C++ addon (mmap, seqlock)' : `TypeScript (pwrite, seqlock)${addon.loaded ? '' : `: ${addon.error}`}`}; ${opts.rate} frames/s; clock from ${sim.spec.startedAt.toISOString()}\n` +
          `  faults: ${faults.length ? faults.map(describeFault).join('; ') : 'none'}\n` +
          `Read it with \`warroom fpga status --file ${opts.file}\`. Ctrl-C to stop.\n`,
      );
      await new Promise<void>((resolve) => {
        wake = resolve;
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.removeListener('SIGINT', wake);
      process.removeListener('SIGTERM', wake);
      await sim.stop();
      if (failure) throw failure;
      io.out(`\nStopped after ${sim.frames()} frames; ${file} keeps the last one.\n`);
    });
}
