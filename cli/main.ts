#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { configuredClock } from '../app/create-app.js';
import { loadConfig } from '../core/config.js';
import { createBot } from '../bot/bot.js';
import { renderText } from '../bot/render/text.js';
import { errorMessage, WarroomError } from '../core/errors.js';
import { resolveFromCwd, shippedRunbooksDir } from '../core/paths.js';
import { formatShort, formatZoned, runningClock } from '../core/time.js';
import { verifyAuditChain } from '../db/audit.js';
import { loadDemo } from '../db/demo.js';
import { exportDocument, importJson, type ImportReport } from '../db/import.js';
import { migrate } from '../db/migrate.js';
import { ingestRunbooks } from '../knowledge/ingest.js';
import { registerChangeIntelCommands } from './change-intel.js';
import { runTerminalChat } from './chat.js';
import { printIngestReport, registerKnowledgeCommands } from './kb.js';
import { registerLocalizeCommand } from './localize.js';
import { parseTimeOption, reportError, withApp } from './run.js';
import { startServer } from './start.js';
import { startWarroom } from '../app/warroom.js';
import { offlineIncidentService } from '../bot/incidents/service.js';

const program = new Command();
program
  .name('warroom')
  .description('Chat-first AIOps bot for securities and futures trading operations.')
  .showHelpAfterError('(run `warroom --help` for usage)');

const defaultUser = () => process.env.WARROOM_USER ?? safeUserName();
function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'local';
  }
}

function parseAt(value: string | undefined): (() => Date) | undefined {
  const at = parseTimeOption(value);
  return at ? () => at : undefined;
}

function printImportReport(report: ImportReport): void {
  for (const [kind, c] of Object.entries(report.counts)) {
    process.stdout.write(`  ${kind.padEnd(13)} ${c.inserted} new, ${c.updated} updated, ${c.unchanged} unchanged\n`);
  }
  for (const w of report.warnings) process.stdout.write(`  warning: ${w}\n`);
}

program
  .command('start')
  .description('run the HTTP server (health, metrics, webhooks, chat platforms) until SIGTERM; prints a sign-in link for the web chat')
  .option('--allow-remote', 'listen beyond loopback (WARROOM_HOST) even with the web chat on or webhooks without WARROOM_INGEST_TOKEN')
  .action(async (opts: { allowRemote?: boolean }) => startServer({ allowRemote: opts.allowRemote === true }));

program
  .command('chat')
  .description('terminal chat over the same conversation pipeline as Slack and WeCom')
  .option('--as <person>', 'who you are (a person id or platform user)', defaultUser())
  .option('--at <time>', 'pretend it is this moment (ISO 8601), for replays')
  .action(async (opts: { as: string; at?: string }) => {
    const clock = parseAt(opts.at);
    await withApp((app) => runTerminalChat(app, opts.as), clock ? { clock } : {});
  });

program
  .command('ask')
  .description('answer one question or command and exit')
  .argument('<question...>', 'the question, e.g. "集中交易最近3个交易日有哪些变更"')
  .option('--as <person>', 'who is asking', defaultUser())
  .option('--at <time>', 'pretend it is this moment (ISO 8601)')
  .option('--json', 'print the neutral reply messages as JSON')
  .action(async (words: string[], opts: { as: string; at?: string; json?: boolean }) => {
    const clock = parseAt(opts.at);
    await withApp(async (app) => {
      const replies = (await createBot(app).handle({ kind: 'message', platform: 'cli', userId: opts.as, room: { platform: 'cli', id: 'ask', kind: 'dm' }, text: words.join(' '), at: app.clock() })).map((r) => r.message);
      process.stdout.write(opts.json ? `${JSON.stringify(replies, null, 2)}\n` : `${replies.map(renderText).join('\n\n')}\n`);
    }, clock ? { clock } : {});
  });

program
  .command('import')
  .description('import systems, people, on-call, changes, change events, alerts and incidents from a JSON file (all or nothing)')
  .argument('<file>', 'JSON document with any of the top-level arrays')
  .action(async (file: string) => {
    const path = resolveFromCwd(file);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new WarroomError('import_unreadable', `Cannot read ${file}: ${(err as Error).message}`, { hint: 'The file must be a JSON document.' });
    }
    await withApp(async (app) => {
      const report = await importJson(app.db, doc, file);
      process.stdout.write(`Imported ${file}:\n`);
      printImportReport(report);
    });
  });

program
  .command('export')
  .description('write everything in the store in the import format')
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(async (opts: { out?: string }) => {
    await withApp(async (app) => {
      const json = `${JSON.stringify(await exportDocument(app.db, app.config.WARROOM_TIMEZONE), null, 2)}\n`;
      if (opts.out) writeFileSync(resolveFromCwd(opts.out), json);
      else process.stdout.write(json);
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
    await withApp(
      async (app) => {
        const result = await loadDemo(app.db, app.calendar, { now: realClock(), shift: opts.shift });
        const tz = app.config.WARROOM_TIMEZONE;
        process.stdout.write(`Demo data loaded into ${app.db.description}${result.reused ? ' (updated in place: the store already held it)' : ''}:\n`);
        printImportReport(result.report);
        printIngestReport(await ingestRunbooks(app.db, shippedRunbooksDir, app.embedder, { prune: true }));
        const moment = formatZoned(result.moment, tz);
        if (opts.realTime) {
          process.stdout.write(`\nAnswering at the real time. The story's moment is ${moment}: ask as of it with \`warroom ask --at ${moment} "…"\`.\n`);
        } else {
          clock = runningClock(result.moment);
          app.demoMoment = result.moment;
          process.stdout.write(
            `\nDemo clock: ${formatShort(result.moment, tz, 'en')} (${tz}), the story's moment — 10 minutes after the open, alerts firing on 集中交易, nothing declared yet. ` +
              `It runs on from there; --real-time answers at the real time.\nLater one-off questions as of the story: warroom ask --at ${moment} "…"\n`,
          );
        }
        if (opts.chat || opts.serve) {
          // The web chat runs beside the terminal (same process, same embedded database).
          const server = await startWarroom(app, { port: app.config.WARROOM_PORT, host: app.config.WARROOM_HOST, ...(opts.allowRemote ? { allowRemote: true } : {}) }).catch((err: unknown) => {
            // Listening beyond loopback unasked is a refusal, not a busy port: stop and say why.
            if (err instanceof WarroomError && err.code === 'remote_listen_refused') throw err;
            process.stdout.write(`\n(web chat not started: ${errorMessage(err)}; set WARROOM_PORT to a free port to get it)\n`);
            return undefined;
          });
          const link = await server?.signInLink?.(opts.as);
          if (server && link) {
            process.stdout.write(
              `\nWeb chat (incident rooms, cards and buttons) — open this sign-in link in your browser:\n\n` +
                `  Web chat: ${link.url}\n\n` +
                `It signs that browser in as ${opts.as} (switch person in the page); it works once, until ${formatZoned(link.expiresAt, tz)}. Starting the demo again prints a new one.\n`,
            );
          } else if (server) process.stdout.write(`\nServing ${server.baseUrl} with ${server.platforms.names.join(', ')}\n`);
          try {
            if (opts.chat) {
              process.stdout.write('\nTry: 集中交易最近3个交易日有哪些变更 · who is on call for jzjy · 行情卡跟交易所网关的连接断了 · /incident declare P1 集中交易 开盘委托大量失败 · 现在什么情况 · help\n\n');
              await runTerminalChat(app, opts.as, server?.bot);
            } else {
              process.stdout.write('Press Ctrl-C to stop.\n');
              await new Promise<void>((resolve) => {
                process.once('SIGINT', () => resolve());
                process.once('SIGTERM', () => resolve());
              });
            }
          } finally {
            await server?.close();
          }
        }
      },
      { clock: () => clock() },
    );
  });

program
  .command('migrate')
  .description('apply database migrations (also done on every start)')
  .action(async () => {
    await withApp(async (app) => {
      const applied = await migrate(app.db);
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
    });
  });

const audit = program.command('audit').description('the tamper-evident audit log');
audit
  .command('verify')
  .description('recompute the hash chain of the audit log')
  .action(async () => {
    await withApp(async (app) => {
      const v = await verifyAuditChain(app.db);
      if (!v.ok) throw new WarroomError('audit_broken', `Audit log chain is broken at row ${v.brokenAt} (of ${v.rows}).`, { hint: 'Rows were changed outside Warroom; investigate before trusting the log.' });
      process.stdout.write(`Audit log intact: ${v.rows} rows.\n`);
    });
  });

program
  .command('postmortem')
  .description('print the postmortem draft of an incident (stored at resolve; drafted now if still open)')
  .argument('<incident>', 'incident id, e.g. INC-20261123-001')
  .action(async (id: string) => {
    await withApp(async (app) => {
      process.stdout.write(await offlineIncidentService(app).postmortem(id));
    });
  });

registerKnowledgeCommands(program);
registerChangeIntelCommands(program);
registerLocalizeCommand(program);

program.parseAsync(process.argv).catch(reportError);
