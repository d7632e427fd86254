import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { configuredClock } from '../app/create-app.js';
import { loadConfig } from '../core/config.js';
import { createBot } from '../bot/bot.js';
import { renderText } from '../bot/render/text.js';
import type { OutgoingMessage } from '../bot/messages.js';
import type { AgentAnswer } from '../agents/types.js';
import { errorMessage, WarroomError } from '../core/errors.js';
import { shippedRunbooksDir } from '../core/paths.js';
import { formatShort, formatZoned, runningClock } from '../core/time.js';
import { loadDemo } from '../db/demo.js';
import { exportDocument, importJson, type ImportReport } from '../db/import.js';
import { migrate } from '../db/migrate.js';
import { ingestRunbooks } from '../knowledge/ingest.js';
import { registerAuditCommands } from './audit.js';
import { registerChangeIntelCommands } from './change-intel.js';
import { registerFailoverCommands } from './failover.js';
import { registerFpgaCommands } from './fpga.js';
import { startFpgaSimulator } from '../tools/fpga/simulator.js';
import { fpgaStatusFile } from '../tools/fpga/fpga-status.js';
import { registerFpgaStatusCommand } from './fpga-status.js';
import { runTerminalChat } from './chat.js';
import { resolveIn, type CliIo } from './io.js';
import { printIngestReport, registerKnowledgeCommands } from './kb.js';
import { registerLocalizeCommand } from './localize.js';
import { parseTimeOption } from './run.js';
import { startServer } from './start.js';
import { registerActionCommands } from './actions.js';
import { registerAgentEvalCommand } from './agent-eval.js';
import { runWorker } from './worker.js';
import { startWarroom } from '../app/warroom.js';
import { createWebSessions } from '../bot/platforms/local/sessions.js';
import { signInPath } from '../bot/platforms/local/index.js';
import { urlHost } from '../core/hosts.js';
import { offlineIncidentService } from '../bot/incidents/service.js';

/**
 * Commands that read or write the store and run just as well inside the server that owns the
 * embedded store: while one runs, they are sent there (cli/forward.ts) instead of opening it.
 */
export const FORWARDED_COMMANDS = new Set([
  'ask',
  'import',
  'export',
  'postmortem',
  'audit verify',
  'audit tail',
  'kb ingest',
  'kb search',
  'kb eval',
  'localize',
  'diff',
  'noise add',
  'noise list',
  'noise rm',
  'chat-link',
  'action status',
  'action approve',
  'action reject',
  'action cancel',
  'action list',
  'failover status',
  'fpga status',
]);

/** Commands that need the store to themselves (or a terminal): refused while another process owns it. */
export const OWNER_COMMANDS = new Set(['start', 'chat', 'demo', 'migrate', 'worker']);

/** "kb search" for the `search` subcommand of `kb`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function parseAt(value: string | undefined): (() => Date) | undefined {
  const at = parseTimeOption(value);
  return at ? () => at : undefined;
}

/**
 * What `warroom ask --json` shows of an answer beside its messages: which planner answered (and why
 * the offline one, when the model failed), each tool call with its input, status and summary (the
 * data is in the messages), the runbook passages cited, and the actions proposed.
 */
export function agentJson(answer: AgentAnswer): Record<string, unknown> {
  return {
    planner: answer.planner,
    ...(answer.fallback ? { fallback: answer.fallback } : {}),
    intent: answer.intent,
    ...(answer.text ? { text: answer.text } : {}),
    toolCalls: answer.toolCalls.map((c) => ({
      name: c.tool,
      input: c.input ?? null,
      status: c.status,
      summary: c.summary,
      ...(c.error ? { error: c.error } : {}),
      durationMs: c.durationMs,
    })),
    citations: answer.citations,
    hypotheses: answer.hypotheses,
    proposedActions: answer.proposedActions,
    ...(answer.clarify ? { clarify: answer.clarify } : {}),
    ...(answer.notes?.length ? { notes: answer.notes } : {}),
    ...(answer.usage ? { usage: answer.usage } : {}),
  };
}

function printImportReport(io: CliIo, report: ImportReport): void {
  for (const [kind, c] of Object.entries(report.counts)) {
    io.out(`  ${kind.padEnd(13)} ${c.inserted} new, ${c.updated} updated, ${c.unchanged} unchanged\n`);
  }
  for (const w of report.warnings) io.out(`  warning: ${w}\n`);
}

/**
 * The whole command line, defined once: `io` says where it runs (this process, or the server the
 * command was forwarded to) and where its output goes.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('warroom')
    .description('Chat-first AIOps bot for securities and futures trading operations.')
    .showHelpAfterError('(run `warroom --help` for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  // In the server, a parse error or --help must not end the process: commander throws instead.
  if (io.where === 'server') program.exitOverride();

  program
    .command('start')
    .description('run the HTTP server (health, metrics, webhooks, chat platforms) until SIGTERM; prints a sign-in link for the web chat')
    .option('--allow-remote', 'listen beyond loopback (WARROOM_HOST) even with the web chat on or webhooks without WARROOM_INGEST_TOKEN')
    .action(async (opts: { allowRemote?: boolean }) => startServer({ allowRemote: opts.allowRemote === true }));

  program
    .command('worker')
    .description('run the action workers (BullMQ on REDIS_URL, PostgreSQL on DATABASE_URL) until SIGTERM; `start` runs them too unless WARROOM_WORKER=off')
    .action(async () => runWorker());

  program
    .command('chat')
    .description('terminal chat over the same conversation pipeline as Slack and WeCom')
    .option('--as <person>', 'who you are (a person id or platform user)', io.user)
    .option('--at <time>', 'pretend it is this moment (ISO 8601), for replays')
    .action(async (opts: { as: string; at?: string }) => {
      const clock = parseAt(opts.at);
      await io.withApp((app) => runTerminalChat(app, opts.as), { ...(clock ? { clock } : {}), owner: { role: 'chat', command: 'warroom chat' } });
    });

  program
    .command('ask')
    .description('answer one question or command and exit')
    .argument('<question...>', 'the question, e.g. "集中交易最近3个交易日有哪些变更"')
    .option('--as <person>', 'who is asking', io.user)
    .option('--at <time>', 'pretend it is this moment (ISO 8601)')
    .option('--json', 'print {replies, agent} as JSON: the neutral reply messages, and for a question the tool calls (name, input, status, summary), citations, planner, fallback and proposed actions')
    .action(async (words: string[], opts: { as: string; at?: string; json?: boolean }) => {
      const clock = parseAt(opts.at);
      await io.withApp(async (app) => {
        // A slow answer says it is being worked on, on stderr, where it does not mix with the answer.
        const progress = !opts.json && io.errIsTTY ? { show: async (m: OutgoingMessage) => void io.err(`${renderText(m)}\n`) } : null;
        const event = { kind: 'message' as const, platform: 'cli' as const, userId: opts.as, room: { platform: 'cli' as const, id: 'ask', kind: 'dm' as const }, text: words.join(' '), at: app.clock() };
        const replies = await (io.bot ?? createBot(app)).handle(event, { progress });
        if (!opts.json) {
          io.out(`${replies.map((r) => renderText(r.message)).join('\n\n')}\n`);
          return;
        }
        const answer = replies.find((r) => r.answer)?.answer;
        io.out(`${JSON.stringify({ replies: replies.map((r) => r.message), agent: answer ? agentJson(answer) : null }, null, 2)}\n`);
      }, clock ? { clock } : {});
    });

  program
    .command('import')
    .description('import systems, people, on-call, changes, change events, alerts and incidents from a JSON file (all or nothing)')
    .argument('<file>', 'JSON document with any of the top-level arrays')
    .action(async (file: string) => {
      const path = resolveIn(io, file);
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new WarroomError('import_unreadable', `Cannot read ${file}: ${(err as Error).message}`, { hint: 'The file must be a JSON document.' });
      }
      await io.withApp(async (app) => {
        const report = await importJson(app.db, doc, file);
        io.out(`Imported ${file}:\n`);
        printImportReport(io, report);
      });
    });

  program
    .command('export')
    .description('write everything in the store in the import format')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (opts: { out?: string }) => {
      await io.withApp(async (app) => {
        const json = `${JSON.stringify(await exportDocument(app.db, app.config.WARROOM_TIMEZONE), null, 2)}\n`;
        if (opts.out) writeFileSync(resolveIn(io, opts.out), json);
        else io.out(json);
      });
    });

  program
    .command('demo')
    .description('load the demo data set (moved to a recent week) and the shipped runbooks; the chat answers as of the story\'s moment')
    .option('--chat', 'open the terminal chat afterwards (the web chat is served beside it)')
    .option('--serve', 'serve the web chat (and webhooks) afterwards, until Ctrl-C')
    .option('--no-shift', 'keep the dates as written (week of 2026-11-23)')
    .option('--real-time', 'answer at the real time instead of the story\'s moment (the story\'s alerts and changes may then be out of range)')
    .option('--as <person>', 'who you are in the chat (a demo person id)', 'songkai')
    .option('--allow-remote', 'listen beyond loopback (WARROOM_HOST) even with the web chat on or webhooks without WARROOM_INGEST_TOKEN')
    .action(async (opts: { chat?: boolean; serve?: boolean; shift: boolean; realTime?: boolean; as: string; allowRemote?: boolean }) => {
      // The demo tells one story: Monday morning, alerts firing after the open. Unless asked for real
      // time, the app's clock starts at that moment and runs on, so the answers hold on any day.
      const realClock = configuredClock(loadConfig());
      let clock = realClock;
      const serving = opts.chat || opts.serve;
      // The demo's FPGA decoder is a simulator in this process: an approved path switch asks it.
      if (serving) process.env.WARROOM_FPGA_SWITCH_DRIVER ??= 'simulator';
      await io.withApp(
        async (app) => {
          const result = await loadDemo(app.db, app.calendar, { now: realClock(), shift: opts.shift });
          const tz = app.config.WARROOM_TIMEZONE;
          io.out(`Demo data loaded into ${app.db.description}${result.reused ? ' (updated in place: the store already held it)' : ''}:\n`);
          printImportReport(io, result.report);
          printIngestReport(await ingestRunbooks(app.db, shippedRunbooksDir, app.embedder, { prune: true }), io.out);
          const moment = formatZoned(result.moment, tz);
          if (opts.realTime) {
            io.out(`\nAnswering at the real time. The story's moment is ${moment}: ask as of it with \`warroom ask --at ${moment} "…"\`.\n`);
          } else {
            clock = runningClock(result.moment);
            app.demoMoment = result.moment;
            io.out(
              `\nDemo clock: ${formatShort(result.moment, tz, 'en')} (${tz}), the story's moment — 10 minutes after the open, alerts firing on 集中交易, nothing declared yet. ` +
                `It runs on from there; --real-time answers at the real time.\nLater one-off questions as of the story: warroom ask --at ${moment} "…"\n`,
            );
          }
          if (serving) {
            // The web chat runs beside the terminal (same process, same embedded database); CLI
            // commands started meanwhile are forwarded to it.
            const { runForwardedCommand } = await import('./serve.js');
            const server = await startWarroom(app, { port: app.config.WARROOM_PORT, host: app.config.WARROOM_HOST, cli: runForwardedCommand, ...(opts.allowRemote ? { allowRemote: true } : {}) }).catch((err: unknown) => {
              // Listening beyond loopback unasked is a refusal, not a busy port: stop and say why.
              if (err instanceof WarroomError && err.code === 'remote_listen_refused') throw err;
              io.out(`\n(web chat not started: ${errorMessage(err)}; set WARROOM_PORT to a free port to get it)\n`);
              return undefined;
            });
            // An FPGA decoder for the chat to read: one card whose MDGW login is rejected, one with a stale channel.
            const fpga = server
              ? startFpgaSimulator({
                  file: fpgaStatusFile(app.config),
                  faults: ['login-rejected:card=1,code=102', 'stale-channel:card=0,channel=2012'],
                  keepAlive: false,
                  onError: (err) => app.logger.warn({ err: err.message }, 'the demo FPGA simulator stopped'),
                })
              : undefined;
            if (fpga) io.out(`\nFPGA decoder simulator writing ${fpga.file} (card 1: MDGW login rejected; card 0: channel 2012 stale): ask \`fpga\` or 行情卡状态.\n`);
            const link = await server?.signInLink?.(opts.as);
            if (server && link) {
              io.out(
                `\nWeb chat (incident rooms, cards and buttons) — open this sign-in link in your browser:\n\n` +
                  `  Web chat: ${link.url}\n\n` +
                  `It signs that browser in as ${opts.as} (switch person in the page); it works once, for 24 hours. For another browser or person: \`warroom chat-link --as <person>\` in another terminal.\n`,
              );
            } else if (server) io.out(`\nServing ${server.baseUrl} with ${server.platforms.names.join(', ')}\n`);
            try {
              if (opts.chat) {
                io.out('\nTry: 集中交易最近3个交易日有哪些变更 · who is on call for jzjy · 行情卡状态 · /failover status 中登报盘 · /incident declare P1 集中交易 开盘委托大量失败 · 现在什么情况 · help\n\n');
                await runTerminalChat(app, opts.as, server?.bot);
              } else {
                io.out('Press Ctrl-C to stop.\n');
                await new Promise<void>((resolve) => {
                  process.once('SIGINT', () => resolve());
                  process.once('SIGTERM', () => resolve());
                });
              }
            } finally {
              await fpga?.stop();
              await server?.close();
            }
          }
        },
        { clock: () => clock(), owner: serving ? { role: 'server', command: `warroom demo --${opts.chat ? 'chat' : 'serve'}` } : { role: 'command', command: 'warroom demo' } },
      );
    });

  program
    .command('migrate')
    .description('apply database migrations (also done on every start)')
    .action(async () => {
      await io.withApp(async (app) => {
        const applied = await migrate(app.db);
        io.out(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
      });
    });

  registerAuditCommands(program, io);

  program
    .command('postmortem')
    .description('print the postmortem draft of an incident (stored at resolve; drafted now if still open)')
    .argument('<incident>', 'incident id, e.g. INC-20261123-001')
    .action(async (id: string) => {
      await io.withApp(async (app) => {
        io.out(await offlineIncidentService(app).postmortem(id));
      });
    });

  registerKnowledgeCommands(program, io);
  registerActionCommands(program, io);
  registerChangeIntelCommands(program, io);
  registerLocalizeCommand(program, io);
  registerFailoverCommands(program, io);
  registerFpgaCommands(program, io);
  registerFpgaStatusCommand(program, io);
  registerAgentEvalCommand(program, io);

  program
    .command('chat-link')
    .description('print a new one-time sign-in link for the web chat (made by the running server when one owns the store)')
    .option('--as <person>', 'the person (id in people) the browser acts as first; switch in the page')
    .action(async (opts: { as?: string }) => {
      await io.withApp(async (app) => {
        if (app.config.WARROOM_WEB_CHAT === 'off') {
          throw new WarroomError('web_chat_off', 'The web chat is off (WARROOM_WEB_CHAT=off): there is nothing to sign in to.', { hint: 'Set WARROOM_WEB_CHAT=on (or auto with no Slack/WeCom) and start Warroom again.' });
        }
        if (opts.as && !(await app.db.query('SELECT 1 FROM people WHERE id = $1', [opts.as]))[0]) {
          throw new WarroomError('unknown_person', `No person "${opts.as}" in people.`, { hint: 'Use a person id from `warroom export` (people), or leave out --as and choose in the page.' });
        }
        const { token, expiresAt } = await createWebSessions({ db: () => app.db, now: () => app.clock() }).mintSignInToken();
        const base = io.serverBase ?? `http://${urlHost(app.config.WARROOM_HOST)}:${app.config.WARROOM_PORT}`;
        io.out(`Web chat sign-in link (works once, for 24 hours${app.demoMoment ? '' : `, until ${formatZoned(expiresAt, app.config.WARROOM_TIMEZONE)}`}):\n  ${base}${signInPath(token, opts.as)}\n`);
        if (!io.serverBase) {
          io.out('No Warroom process serves this store from here: the link works once a Warroom on this store serves its web chat at that address (WARROOM_HOST, WARROOM_PORT).\n');
        }
      });
    });
  return program;
}
