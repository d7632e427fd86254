import type { App } from '../tools/services.js';
import { toolContext } from '../tools/services.js';
import { toolProblemView } from './views/tool-views.js';
import { toolResultView } from './views/tool-view-table.js';
import { changeLookupTool } from '../tools/change-intel/change-lookup.js';
import { localizeToolRef } from '../tools/change-intel/localize.js';
import { noiseRuleAddTool, noiseRuleRemoveTool, noiseRulesTool } from '../tools/change-intel/noise-rules.js';
import { diffSnapshotsTool } from '../tools/change-intel/snapshot-diff.js';
import { openIncidentsTool } from '../tools/incidents/open-incidents.js';
import { fpgaStatusToolRef } from '../tools/fpga/fpga-status.js';
import { getRunbookTool } from '../tools/knowledge-search/search-runbooks.js';
import { listSystemsTool } from '../tools/oncall/list-systems.js';
import { oncallTool } from '../tools/oncall/oncall.js';
import { t, type IncomingMessage, type Lang, type OutgoingMessage } from './messages.js';
import { parseCardNumber, parseTradingDays } from '../agents/intents.js';
import { appendAudit } from '../db/audit.js';
import { isKnownPerson } from './incidents/permissions.js';

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
      const r = await app.tools.call(listSystemsTool, args.length ? { query: args.join(' ') } : {}, toolContext(app, actor));
      return r.status === 'success' ? toolResultView(r, lang, app.config.WARROOM_TIMEZONE) : toolProblemView(r, lang);
    },
  },
  {
    names: ['oncall', '值班'],
    usage: { zh: '值班 <系统> [角色]', en: 'oncall <system> [role]' },
    summary: { zh: '某系统当前的值班人员（按角色）', en: 'who is on call for a system, by role' },
    async run({ app, actor, lang, args }) {
      if (!args[0]) return usageError(this, lang);
      const r = await app.tools.call(oncallTool, { system: args[0], ...(args[1] ? { role: args[1] } : {}) }, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
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
      const r = await app.tools.call(changeLookupTool, { system, days, includeNeighbours }, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['runbook', '手册', '运行手册'],
    usage: { zh: '手册 <runbook id>', en: 'runbook <id>' },
    summary: { zh: '显示一份运行手册全文', en: 'show one runbook in full' },
    async run({ app, actor, lang, args }) {
      if (!args[0]) return usageError(this, lang);
      const r = await app.tools.call(getRunbookTool, { id: args[0] }, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['localize', '定位', '故障定位'],
    usage: { zh: '定位 <系统> [ISO 时间]', en: 'localize <system> [ISO time]' },
    summary: {
      zh: '故障定位卡：近 3 个交易日变更按可疑度排序（含上下游）、健康度、近 2 小时告警、相似故障、推荐手册',
      en: 'fault-localization card: changes of the last 3 trading days ranked by suspicion (with neighbours), health, alerts, similar incidents, runbooks',
    },
    async run({ app, actor, lang, args }) {
      if (!args[0]) return usageError(this, lang);
      const at = args.find((a) => /^\d{4}-\d{2}-\d{2}T/.test(a));
      const system = args.filter((a) => a !== at).join(' ');
      const r = await app.tools.call(localizeToolRef, { system, ...(at ? { at } : {}) }, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['fpga', '行情卡状态', 'fpga状态'],
    usage: { zh: '行情卡状态 [卡号]', en: 'fpga [card]' },
    summary: {
      zh: 'FPGA 行情卡状态：MDGW 连接与登录、组播、TOE 会话、当前路径，各通道速率与新鲜度，问题与对应手册',
      en: 'FPGA decoder status: MDGW link and login, multicast, TOE sessions, active path, per-channel rates and freshness, problems with their runbooks',
    },
    async run({ app, actor, lang, args }) {
      const card = parseCardNumber(args.join(' '));
      const r = await app.tools.call(fpgaStatusToolRef, card !== undefined ? { card } : {}, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['incidents', '故障', 'open'],
    usage: { zh: '故障', en: 'incidents' },
    summary: { zh: '当前未恢复的故障', en: 'open incidents right now' },
    async run({ app, actor, lang }) {
      const r = await app.tools.call(openIncidentsTool, {}, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['diff', '对比', '差异'],
    usage: { zh: '对比 <主机> [变更单号 | vs <主机>]', en: 'diff <host> [change id | vs <host>]' },
    summary: {
      zh: '主机感知因子（进程、端口、关键文件、软件包、内核参数…）变更前后或与另一主机的差异，已降噪',
      en: "a host's perception factors (processes, ports, key files, packages, kernel parameters…) before/after a change or against another host, denoised",
    },
    async run({ app, actor, lang, args }) {
      const [host, ...rest] = args;
      if (!host) return usageError(this, lang);
      // "diff h CAB-…" is a change (ticket ids start with an upper-case prefix), wherever it stands in
      // the sentence ("对比 h 在 CAB-… 前后的感知因子"); "diff h vs h2" (or "diff h h2") compares two hosts.
      const isChange = (w: string) => /^[A-Z][A-Z0-9]*-/.test(w) || /^[A-Za-z]+-\d{6,}/.test(w);
      const isHost = (w: string) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(w) && !isChange(w) && !/^(vs\.?|versus|against|before|after|around|the|change|and)$/i.test(w);
      const vsAt = rest.findIndex((w) => /^(vs\.?|versus|against|对|和|与)$/i.test(w));
      const versus = vsAt >= 0 ? rest[vsAt + 1] : undefined;
      const changeId = rest.find(isChange);
      const other = rest[0] && isHost(rest[0]) ? rest[0] : undefined;
      const input = versus ? { host, against: versus } : changeId ? { host, changeId } : other ? { host, against: other } : { host };
      const r = await app.tools.call(diffSnapshotsTool, input, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
  {
    names: ['noise', '降噪'],
    usage: { zh: '降噪 <因子> <键或通配> [原因] | 降噪 列表 | 降噪 删除 <编号>', en: 'noise <factor> <key or glob> [reason] | noise list | noise rm <id>' },
    summary: { zh: '一键降噪：把对比结果中的一项标记为噪声，此后的对比自动过滤', en: 'one-click denoise: mark a diff entry as noise; later diffs leave it out' },
    async run({ app, actor, lang, args }) {
      const [first, second] = args;
      if (!first || /^(list|ls|列表|规则)$/i.test(first)) {
        const r = await app.tools.call(noiseRulesTool, {}, toolContext(app, actor));
        return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
      }
      // Adding or removing a rule changes what everyone's diffs show: people unknown to Warroom only read.
      if (!(await isKnownPerson(app, actor))) return unknownPersonReply(app, actor, lang, 'noise.rule');
      if (/^(rm|remove|del|delete|删除|移除)$/i.test(first)) {
        if (!second) return usageError(this, lang);
        const r = await app.tools.call(noiseRuleRemoveTool, { id: Number(second) }, toolContext(app, actor));
        return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
      }
      if (!second) return usageError(this, lang);
      const reason = args.slice(2).join(' ');
      const r = await app.tools.call(noiseRuleAddTool, { factor: first, keyPattern: second, ...(reason ? { reason } : {}) }, toolContext(app, actor));
      return toolResultView(r, lang, app.config.WARROOM_TIMEZONE);
    },
  },
];

/** The reply to someone not in `people` who tries to change something (audited as denied). */
async function unknownPersonReply(app: App, actor: string, lang: Lang, action: string): Promise<OutgoingMessage> {
  await appendAudit(app.db, { actor, action, outcome: 'denied', detail: { reason: 'unknown-person' } });
  return {
    lang,
    text: t(
      lang,
      `你（${actor}）不在 Warroom 的人员名单中，只能查询。\n请管理员把你加入人员名单（people，用 \`warroom import\` 导入）。`,
      `You (${actor}) are not known to Warroom, so you can only read.\nAsk an admin to add you to people (\`warroom import\`).`,
    ),
  };
}

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
      {
        title: t(lang, '故障', 'Incidents'),
        lines: [
          t(lang, '/incident declare P1 集中交易 开盘委托大量失败 — 申报故障，建群拉人发定位卡', '/incident declare P1 jzjy orders failing — declare: room, people by role, context card'),
          t(lang, '/incident role|status|severity|update|note|resolve|timeline|postmortem — 故障群内的命令（/incident help 查看详情）', '/incident role|status|severity|update|note|resolve|timeline|postmortem — commands in the room (`/incident help` for details)'),
          t(lang, '现在什么情况 · status INC-… · 今天有哪些故障 — 给管理者的现状', "status · status INC-… · today's incidents — where things stand, for managers"),
        ],
      },
      {
        title: t(lang, '操作（需审批）', 'Actions (need approval)'),
        lines: [
          t(lang, '/failover status [池] — 主备池状态；/failover switch <池> [--to <节点>] [原因] — 申请切换（两人审批）', '/failover status [pool] — failover pools; /failover switch <pool> [--to <node>] [reason] — request a switch (two approvers)'),
          t(lang, '行情卡切换 <卡号> [--to software|fpga] [原因] — 申请把 FPGA 卡的下游切到软件解码路径或切回（两人审批）', "/fpga switch <card> [--to software|fpga] [reason] — request moving an FPGA card's consumers to the software decoder or back (two approvers)"),
          t(lang, '/action approve|reject|cancel|status <ACT-…> · /action list — 审批、驳回、取消、查看操作申请', '/action approve|reject|cancel|status <ACT-…> · /action list — decide on and follow action requests'),
        ],
      },
    ],
  };
}

export function findCommand(word: string): Command | undefined {
  const w = word.toLowerCase();
  return commands.find((c) => c.names.includes(w));
}
