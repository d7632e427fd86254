import type { Command } from 'commander';
import { createBot, type Bot } from '../bot/bot.js';
import { currentCard } from '../bot/actions/notifier.js';
import { renderText } from '../bot/render/text.js';
import type { App } from '../tools/services.js';
import type { ActionStatusView } from '../workers/actions.js';
import type { CliIo } from './io.js';

/** `warroom action status ACT-… --json`: the shape scripts read. */
export function actionStatusJson(view: ActionStatusView): Record<string, unknown> {
  const a = view.action;
  return {
    id: a.id,
    tool: a.tool,
    risk: a.risk,
    status: a.status,
    requestedBy: a.requestedBy,
    incident: a.incidentId,
    summary: a.plan.summary,
    approvalsNeeded: a.approvalsNeeded,
    approvals: a.approvals.map((x) => ({ by: x.by, at: x.at })),
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    ...(a.finishedAt ? { finishedAt: a.finishedAt.toISOString() } : {}),
    ...(a.error ? { error: a.error } : {}),
    steps: view.steps.map((s) => ({ name: s.step, title: s.title, status: s.status, ...(s.error ? { error: s.error } : {}) })),
  };
}

/**
 * `warroom action status|approve|reject|cancel|list`: the same decisions as the chat's `/action`
 * command and the card buttons (the same checks, the same audit), for scripts and the terminal.
 * Forwarded to the running server on the embedded store, whose sweeper then enqueues what is approved.
 */
export function registerActionCommands(program: Command, io: CliIo): void {
  const action = program.command('action').description('approved actions: status, approve, reject, cancel, list');
  const bot = (app: App): Bot => io.bot ?? createBot(app);
  action
    .command('status')
    .argument('<id>', 'the request id, e.g. ACT-20261123-001')
    .option('--json', 'print {id, tool, risk, status, requestedBy, approvals: [{by, at}], steps: [{name, status}]}')
    .description('state, approvers and steps of an action request')
    .action(async (id: string, opts: { json?: boolean }) => {
      await io.withApp(async (app) => {
        const b = bot(app);
        const view = await b.actions.status(id.toUpperCase(), 'en');
        io.out(opts.json ? `${JSON.stringify(actionStatusJson(view), null, 2)}\n` : `${renderText(await currentCard(b, view.action, { buttons: false }))}\n`);
      });
    });
  for (const verb of ['approve', 'reject', 'cancel'] as const) {
    action
      .command(verb)
      .argument('<id>', 'the request id')
      .argument('[reason...]', verb === 'reject' ? 'why (shown on the card and the timeline)' : 'not used')
      .option('--as <person>', 'who decides (a person id)', io.user)
      .description(`${verb} an action request (checked against the policy exactly like a button press; a refusal exits 2 and says why)`)
      .action(async (rawId: string, reason: string[], opts: { as: string }) => {
        await io.withApp(async (app) => {
          const b = bot(app);
          const id = rawId.toUpperCase();
          if (verb === 'approve') {
            const { action: a, complete } = await b.actions.approve(id, opts.as, 'en');
            io.out(complete ? `Approved ${a.id} (${a.approvals.length}/${a.approvalsNeeded}): it runs next.\n` : `Approval of ${a.id} recorded (${a.approvals.length}/${a.approvalsNeeded}): it needs ${a.approvalsNeeded - a.approvals.length} more, from someone else.\n`);
          } else if (verb === 'reject') {
            const a = await b.actions.reject(id, opts.as, 'en', reason.join(' ') || undefined);
            io.out(`${a.requestedBy === opts.as ? 'Withdrew' : 'Rejected'} ${a.id}.\n`);
          } else {
            const a = await b.actions.cancel(id, opts.as, 'en');
            io.out(a.status === 'cancelled' ? `Cancelled ${a.id}: it will not run.\n` : `Cancel requested for ${a.id}: it stops before its next step.\n`);
          }
        });
      });
  }
  action
    .command('list')
    .option('--json', 'print JSON')
    .description('recent action requests')
    .action(async (opts: { json?: boolean }) => {
      await io.withApp(async (app) => {
        const list = await bot(app).actions.list({ limit: 30 });
        if (opts.json) io.out(`${JSON.stringify({ actions: list.map((a) => ({ id: a.id, tool: a.tool, risk: a.risk, status: a.status, requestedBy: a.requestedBy, summary: a.plan.summary, createdAt: a.createdAt.toISOString() })) }, null, 2)}\n`);
        else io.out(list.length ? `${list.map((a) => `${a.id}  ${a.status.padEnd(10)} ${a.tool.padEnd(16)} ${a.plan.summary}`).join('\n')}\n` : 'No action requests.\n');
      });
    });
}
