import type { App } from '../core/app.js';
import { toolContext } from '../core/app.js';
import { runbookView } from './views/runbook-views.js';
import { changesView, incidentsView, oncallView, systemsView, toolProblemView } from './views/tool-views.js';
import { t, type IncomingMessage, type Lang, type OutgoingMessage } from './messages.js';
import { parseTradingDays } from '../agents/intents.js';

export interface CommandContext {
  app: App;
  message: IncomingMessage;
  actor: string;
  lang: Lang;
  args: string[];
}

export interface Command {
  /** The English name first; the others (Chinese included) are aliases. */
  names: string[];
  usage: { zh: string; en: string };
  summary: { zh: string; en: string };
  run(ctx: CommandContext): Promise<OutgoingMessage>;
}

const NEIGHBOUR_FLAGS = new Set(['--neighbours', '--neighbors', '-n', '上下游', '含上下游']);

export const commands: Command[] = [
  {
    names: ['help', '帮助', '?', '？'],
    usage: { zh: '帮助', en: 'help' },
    summary: { zh: '列出所有命令', en: 'list every command' },
    async run({ lang }) {
      return helpMessage(lang);
    },
  },
  {
    names: ['systems', '系统', '系统列表'],
    usage: { zh: '系统 [关键字]', en: 'systems [word]' },
    summary: { zh: '列出已知系统及其依赖', en: 'list the known systems and their dependencies' },
    async run({ app, actor, lang, args }) {
      const r = await app.tools.invoke('list_systems', args.length ? { query: args.join(' ') } : {}, toolContext(app, actor));
      return r.status === 'success' ? systemsView(r.data as never, lang) : toolProblemView(r, lang);
    },
  },
  {
    names: ['oncall', '值班'],
    usage: { zh: '值班 <系统> [角色]', en: 'oncall <system> [role]' },
    summary: { zh: '某系统当前的值班人员（按角色）', en: 'who is on call for a system, by role' },
    async run({ app, actor, lang, args }) {
      if (!args[0]) return usageError(this, lang);
      const r = await app.tools.invoke('who_is_oncall', { system: args[0], ...(args[1] ? { role: args[1] } : {}) }, toolContext(app, actor));
      return r.status === 'error' ? toolProblemView(r, lang) : oncallView(r.data as never, lang);
    },
  },
  {
    names: ['changes', '变更'],
    usage: { zh: '变更 <系统> [交易日数，默认 3] [上下游]', en: 'changes <system> [trading days, default 3] [--neighbours]' },
    summary: { zh: '某系统（及上下游）最近 N 个交易日的变更单和变更操作事件', en: "a system's (and its neighbours') change tickets and operation events in the last N trading days" },
    async run({ app, actor, lang, args }) {
      const includeNeighbours = args.some((a) => NEIGHBOUR_FLAGS.has(a.toLowerCase()));
      const rest = args.filter((a) => !NEIGHBOUR_FLAGS.has(a.toLowerCase()));
      const dayArg = rest.find((a) => /^\d+$/.test(a) || /交易日|天|days?$/i.test(a));
      const system = rest.filter((a) => a !== dayArg).join(' ');
      if (!system) return usageError(this, lang);
      const days = dayArg ? (/^\d+$/.test(dayArg) ? Number(dayArg) : parseTradingDays(dayArg, app.config.WARROOM_CHANGE_WINDOW_DAYS)) : app.config.WARROOM_CHANGE_WINDOW_DAYS;
      const r = await app.tools.invoke('change_lookup', { system, days, includeNeighbours }, toolContext(app, actor));
      return r.status === 'error' ? toolProblemView(r, lang) : changesView(r.data as never, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['runbook', '手册', '运行手册'],
    usage: { zh: '手册 <runbook id>', en: 'runbook <id>' },
    summary: { zh: '显示一份运行手册全文', en: 'show one runbook in full' },
    async run({ app, actor, lang, args }) {
      if (!args[0]) return usageError(this, lang);
      const r = await app.tools.invoke('get_runbook', { id: args[0] }, toolContext(app, actor));
      return r.status === 'error' ? toolProblemView(r, lang) : runbookView(r.data as never, lang);
    },
  },
  {
    names: ['incidents', '故障', 'open'],
    usage: { zh: '故障', en: 'incidents' },
    summary: { zh: '当前未恢复的故障', en: 'open incidents right now' },
    async run({ app, actor, lang }) {
      const r = await app.tools.invoke('open_incidents', {}, toolContext(app, actor));
      return r.status === 'error' ? toolProblemView(r, lang) : incidentsView(r.data as never, lang);
    },
  },
];

function usageError(cmd: Command, lang: Lang): OutgoingMessage {
  return { lang, text: t(lang, `用法：${cmd.usage.zh}`, `Usage: ${cmd.usage.en}`) };
}

export function helpMessage(lang: Lang): OutgoingMessage {
  return {
    lang,
    title: t(lang, 'Warroom 命令', 'Warroom commands'),
    text: t(lang, '直接提问也可以，例如「集中交易最近3个交易日有哪些变更」。', 'You can also just ask, e.g. "what changed on jzjy in the last 3 trading days?"'),
    sections: [
      {
        lines: commands.map((c) => `${lang === 'zh' ? c.usage.zh : c.usage.en} — ${lang === 'zh' ? c.summary.zh : c.summary.en}${c.names.length > 1 ? ` (${c.names.filter((n) => n !== (lang === 'zh' ? c.usage.zh.split(' ')[0] : c.usage.en.split(' ')[0])).join(', ')})` : ''}`),
      },
    ],
  };
}

export function findCommand(word: string): Command | undefined {
  const w = word.toLowerCase();
  return commands.find((c) => c.names.includes(w));
}
