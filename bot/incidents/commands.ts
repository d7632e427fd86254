import { WarroomError } from '../../core/errors.js';
import { parseTypedMoment } from '../../core/time.js';
import { requireWithin } from '../../core/text.js';
import { resolveSystem, listSystems } from '../../tools/oncall/systems.js';
import type { IncidentDeps } from './deps.js';
import { detectLang, t, type Lang, type OutgoingMessage, type Platform } from '../messages.js';
import type { BotReply, ChatPlatform } from '../platforms/platform.js';
import { declareIncident } from './declare.js';
import { authorize } from './permissions.js';
import {
  assignRole,
  changeSeverity,
  changeStatus,
  draftUpdateFor,
  postStatusUpdate,
  recordFact,
  resolveIncident,
  wasAnnounced,
  type Actor,
} from './flows.js';
import { severityLabel } from '../views/vocabulary.js';
import { parseRole, parseSeverity, parseStatus, type Severity } from './policy.js';
import { postmortemOf } from './postmortem.js';
import { answerStatus } from './status.js';
import { findPerson, incidentOfRoom, openIncidentsHeldBy, requireIncident, timelineOf, type IncidentRow } from './store.js';
import { ACTIONS, timelineView } from './views.js';

export interface IncidentContext {
  deps: IncidentDeps;
  /** The platform the command came from (undefined for the terminal). */
  platform: ChatPlatform | undefined;
  platformName: Platform;
  roomId: string;
  actor: Actor;
}

const SUBCOMMANDS: Record<string, string> = {
  declare: 'declare', 申报: 'declare', 宣告: 'declare', 报障: 'declare', open: 'declare',
  role: 'role', 角色: 'role', assign: 'role', 指派: 'role',
  status: 'status', 状态: 'status',
  severity: 'severity', sev: 'severity', 级别: 'severity', 定级: 'severity',
  update: 'update', 通报: 'update',
  draft: 'draft', 草稿: 'draft', 起草: 'draft',
  note: 'note', 记录: 'note', 备注: 'note',
  impact: 'impact', 影响: 'impact',
  eta: 'eta', 预计恢复: 'eta', 恢复时间: 'eta', 预计: 'eta',
  cause: 'cause', 'root-cause': 'cause', 根因: 'cause', 原因: 'cause',
  followup: 'followup', 'follow-up': 'followup', 改进: 'followup', 待办: 'followup',
  resolve: 'resolve', 解决: 'resolve', 结束: 'resolve', close: 'resolve',
  timeline: 'timeline', 时间线: 'timeline',
  postmortem: 'postmortem', 复盘: 'postmortem',
  help: 'help', 帮助: 'help',
};

export function incidentHelp(lang: Lang): OutgoingMessage {
  const lines = lang === 'zh'
    ? [
        '/incident declare P1 集中交易 开盘委托大量失败 [--since 09:25] — 申报故障：建群、按角色拉人、发定位卡、状态频道通告；故障起始默认取该系统本轮首条告警，计时与定位窗口由此起算',
        '/incident role ic|comms|ops|scribe @某人|me — 指派或认领角色（指挥可指派他人；有资格的人可认领空缺角色，如值班指挥认领指挥；任何已登记人员可认领记录员）',
        '/incident status [identified|mitigated] — 查看或推进状态（指挥/处置负责人）',
        '/incident severity P0–P3 — 调整级别（仅指挥）',
        '/incident update <内容> — 发布通报到本群和状态频道（沟通负责人/指挥）；/incident draft 起草一份',
        '/incident note|impact|cause|followup <内容> — 记入时间线（记录员的工作；根因：指挥/处置负责人/记录员）',
        '/incident eta <时间或说明> — 记录预计恢复时间，例如 /incident eta 10:30 前恢复（可记录影响的人即可记录；「什么时候能恢复」按此回答）',
        '/incident resolve [处置说明] — 解决并生成复盘草稿（仅指挥）',
        '谁可以做什么由策略文件决定（WARROOM_POLICY_FILE）；不在人员名单中的人只能查询',
        '/incident timeline · /incident postmortem — 时间线与复盘草稿',
        '在故障群外使用时，在命令中写上故障号，例如 /incident status INC-20261123-001',
      ]
    : [
        '/incident declare P1 jzjy orders failing at the open [--since 09:25] — declare: open a room, invite on-call by role, post the card, announce; the onset defaults to the first alert of the system\'s episode, and timing and the card\'s window count from it',
        '/incident role ic|comms|ops|scribe @person|me — assign or take a role (the commander assigns others; a qualified person takes a vacant role, e.g. the on-call commander the commander role; anyone known takes the scribe role)',
        '/incident status [identified|mitigated] — show or move the status (commander, operations lead)',
        '/incident severity P0–P3 — change severity (commander only)',
        '/incident update <text> — post a status update to the room and status channel (comms lead, commander); /incident draft drafts one',
        '/incident note|impact|cause|followup <text> — add to the timeline (the scribe\'s work; cause: commander, operations lead, scribe)',
        '/incident eta <when or text> — record the expected recovery, e.g. /incident eta by 10:30 (whoever may record the impact; "when will it be fixed?" is answered from it)',
        '/incident resolve [resolution] — resolve and draft the postmortem (commander only)',
        'Who may do what is the policy file\'s (WARROOM_POLICY_FILE); people not in Warroom\'s people list can only read',
        '/incident timeline · /incident postmortem — the timeline and the postmortem draft',
        'Outside the incident room, name the incident: /incident status INC-20261123-001',
      ];
  return { lang, title: t(lang, '/incident 命令', '/incident commands'), text: '', sections: [{ lines }] };
}

const reply = (message: OutgoingMessage, priv = false): BotReply => ({ message, ...(priv ? { private: true } : {}) });

/**
 * The flows post state changes to the incident room themselves; the person who acted gets a
 * private confirmation only when they acted somewhere else (another channel, a direct chat).
 */
async function confirm(ctx: IncidentContext, incidentId: string, message: OutgoingMessage): Promise<BotReply[]> {
  const incident = await requireIncident(ctx.deps.app.db, incidentId);
  const inRoom = incident.room?.platform === ctx.platformName && incident.room.id === ctx.roomId;
  return inRoom && wasAnnounced(message) ? [] : [reply(message, true)];
}

/** The incident a command is about: named in it, this room's, or the only open one the actor holds a role in. */
async function targetIncident(ctx: IncidentContext, args: string[]): Promise<{ incident: IncidentRow; rest: string[] }> {
  const idx = args.findIndex((a) => /^INC-\d{8}-\d{3,}$/i.test(a));
  if (idx >= 0) return { incident: await requireIncident(ctx.deps.app.db, args[idx]!), rest: args.filter((_, i) => i !== idx) };
  const here = await incidentOfRoom(ctx.deps.app.db, ctx.platformName, ctx.roomId);
  if (here) return { incident: here, rest: args };
  const mine = await openIncidentsHeldBy(ctx.deps.app.db, ctx.actor.id);
  if (mine.length === 1) return { incident: mine[0]!, rest: args };
  const lang = ctx.actor.lang;
  throw new WarroomError('which_incident', t(lang, '这里不是故障群，请在命令中写上故障号（INC-…）。', 'This is not an incident room: name the incident (INC-…) in the command.'), {
    hint: t(lang, '`status` 列出未解决的故障。', '`status` lists the open incidents.'),
  });
}

const ONSET_FLAGS = new Set(['--since', '--onset', '起始', '起于', '开始于']);

async function parseDeclare(ctx: IncidentContext, args: string[]): Promise<{ severity: Severity; system: string; title: string; defaulted: boolean; onset?: Date }> {
  const lang = ctx.actor.lang;
  let rest = [...args];
  // "--since 09:25" (or 起始 09:25): when the trouble began, if the declarer knows better than the alerts.
  let onset: Date | undefined;
  const flag = rest.findIndex((a) => ONSET_FLAGS.has(a.toLowerCase()));
  if (flag >= 0) {
    const app = ctx.deps.app;
    const value = rest[flag + 1] ?? '';
    onset = parseTypedMoment(value, app.clock(), app.config.WARROOM_TIMEZONE);
    if (!onset || onset > app.clock()) {
      throw new WarroomError('usage', t(lang, `「${rest[flag]} ${value}」不是过去的时刻：请写 09:25 或 2026-11-23T09:25:00+08:00。`, `"${rest[flag]} ${value}" is not a past moment: write 09:25 or 2026-11-23T09:25:00+08:00.`));
    }
    rest.splice(flag, 2);
  }
  let severity = parseSeverity(rest[0] ?? '');
  const defaulted = !severity;
  if (severity) rest = rest.slice(1);
  else {
    const at = rest.findIndex((a) => parseSeverity(a));
    if (at >= 0) {
      severity = parseSeverity(rest[at]!);
      rest.splice(at, 1);
    }
  }
  if (!rest.length) throw new WarroomError('usage', t(lang, '用法：/incident declare P1 <系统> <现象>', 'Usage: /incident declare P1 <system> <what is wrong>'));
  // System names can be several words ("Centralized Trading"): take the longest prefix that names one.
  const systems = await listSystems(ctx.deps.app.db);
  const names = new Set(systems.flatMap((s) => [s.id, s.name, ...s.aliases].map((n) => n.toLowerCase())));
  let take = 1;
  for (let n = Math.min(4, rest.length); n >= 1; n--) {
    if (names.has(rest.slice(0, n).join(' ').toLowerCase())) {
      take = n;
      break;
    }
  }
  const system = await resolveSystem(ctx.deps.app.db, rest.slice(0, take).join(' '));
  const title = requireWithin(rest.slice(take).join(' ').trim(), 'title', lang, { zh: '故障标题', en: 'incident title' }) || t(lang, `${system.name} 故障`, `${system.name} incident`);
  return { severity: severity ?? 'P2', system: system.id, title, defaulted, ...(onset ? { onset } : {}) };
}

export async function runIncidentCommand(ctx: IncidentContext, text: string, splitArgs: (s: string) => string[]): Promise<BotReply[]> {
  const args = splitArgs(text);
  const sub = SUBCOMMANDS[(args[0] ?? 'help').toLowerCase()];
  const rest = args.slice(1);
  const lang = ctx.actor.lang;
  const { deps } = ctx;
  switch (sub) {
    case undefined:
      return [reply({ lang, text: t(lang, `未知的 /incident 子命令「${args[0]}」。`, `Unknown /incident subcommand "${args[0]}".`) }, true), reply(incidentHelp(lang), true)];
    case 'help':
      return [reply(incidentHelp(lang), true)];
    case 'declare': {
      const d = await parseDeclare(ctx, rest);
      await authorize(deps.app, ctx.actor, { kind: 'declare', severity: d.severity }, { system: d.system });
      const declLang = detectLang(d.title) === 'en' && lang === 'en' ? 'en' : lang;
      const result = await declareIncident(deps.app, { platform: ctx.platform, severity: d.severity, system: d.system, title: d.title, actor: ctx.actor.id, source: 'command', lang: declLang, ...(d.onset ? { onset: d.onset } : {}) });
      const i = result.incident;
      const lines = [
        t(lang, `🚨 ${ctx.actor.id} 申报了 ${severityLabel(i.severity, lang)} 故障 ${i.id}：${i.title}`, `🚨 ${ctx.actor.id} declared ${severityLabel(i.severity, lang)} incident ${i.id}: ${i.title}`),
        result.room ? t(lang, `故障群：${result.room.name ?? result.room.id}（已邀请 ${result.invited.length} 人）`, `Room: ${result.room.name ?? result.room.id} (${result.invited.length} invited)`) : '',
        d.defaulted ? t(lang, '未写级别，按 P2 申报；指挥可用 `/incident severity P1` 调整。', 'No severity given: declared as P2; the commander can change it with `/incident severity P1`.') : '',
        ...result.warnings.map((w) => `⚠️ ${w}`),
      ].filter(Boolean);
      return [reply({ lang, text: lines.join('\n') })];
    }
    case 'role': {
      const role = parseRole(rest[0] ?? '');
      if (!role) throw new WarroomError('usage', t(lang, '用法：/incident role ic|comms|ops|scribe @某人|me', 'Usage: /incident role ic|comms|ops|scribe @person|me'));
      const { incident, rest: r2 } = await targetIncident(ctx, rest.slice(1));
      const who = r2[0];
      const person = !who || /^(me|我|self)$/i.test(who) ? { id: ctx.actor.id, name: null } : await personFromMention(ctx, who);
      return confirm(ctx, incident.id, await assignRole(deps, incident.id, ctx.actor, role, person));
    }
    case 'status': {
      const status = rest.map(parseStatus).find(Boolean);
      if (!status) {
        const id = rest.find((a) => /^INC-/i.test(a));
        const q = id ? { kind: 'one' as const, id } : { kind: 'open' as const };
        return [reply(await answerStatus(deps.app, q, lang, { platform: ctx.platformName, roomId: ctx.roomId }))];
      }
      const { incident } = await targetIncident(ctx, rest.filter((a) => !parseStatus(a)));
      return confirm(ctx, incident.id, await changeStatus(deps, incident.id, ctx.actor, status));
    }
    case 'severity': {
      const severity = rest.map(parseSeverity).find(Boolean);
      if (!severity) throw new WarroomError('usage', t(lang, '用法：/incident severity P0|P1|P2|P3', 'Usage: /incident severity P0|P1|P2|P3'));
      const { incident } = await targetIncident(ctx, rest.filter((a) => !parseSeverity(a)));
      return confirm(ctx, incident.id, await changeSeverity(deps, incident.id, ctx.actor, severity));
    }
    case 'update': {
      const { incident, rest: r2 } = await targetIncident(ctx, rest);
      const body = r2.join(' ').trim();
      if (!body) throw new WarroomError('usage', t(lang, '用法：/incident update <通报内容>（或 /incident draft 起草一份）', 'Usage: /incident update <text> (or /incident draft for a draft)'));
      return [reply(await postStatusUpdate(deps, incident.id, ctx.actor, body), true)];
    }
    case 'draft': {
      const { incident } = await targetIncident(ctx, rest);
      return [reply((await draftUpdateFor(deps, incident.id, lang, ctx.actor)).message, true)];
    }
    case 'note':
    case 'impact':
    case 'eta':
    case 'cause':
    case 'followup': {
      const { incident, rest: r2 } = await targetIncident(ctx, rest);
      const body = r2.join(' ').trim();
      if (!body) throw new WarroomError('usage', t(lang, `用法：/incident ${sub} <内容>`, `Usage: /incident ${sub} <text>`));
      return [reply(await recordFact(deps, incident.id, ctx.actor, sub, body))];
    }
    case 'resolve': {
      const { incident, rest: r2 } = await targetIncident(ctx, rest);
      return confirm(ctx, incident.id, await resolveIncident(deps, incident.id, ctx.actor, r2.join(' ').trim() || undefined));
    }
    case 'timeline': {
      const { incident } = await targetIncident(ctx, rest);
      return [reply(timelineView(incident, await timelineOf(deps.app.db, incident.id), lang, deps.app.config.WARROOM_TIMEZONE), true)];
    }
    case 'postmortem': {
      const { incident } = await targetIncident(ctx, rest);
      const text = await postmortemOf(deps.app.db, incident, deps.app.config.WARROOM_TIMEZONE);
      return [reply({ lang, title: t(lang, `${incident.id} 复盘草稿`, `${incident.id} postmortem draft`), text }, true)];
    }
  }
  return [];
}

/** `<@U123|name>` (Slack), `@zhangwei`, a person id, a WeCom id or a name. */
async function personFromMention(ctx: IncidentContext, who: string): Promise<{ id: string; name: string | null }> {
  requireWithin(who, 'name', ctx.actor.lang, { zh: '人员', en: 'person' });
  const slack = /^<@([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(who)?.[1];
  const key = slack ?? who.replace(/^@/, '');
  const person = await findPerson(ctx.deps.app.db, slack ? 'slack' : ctx.platformName, key);
  if (!person) {
    throw new WarroomError('unknown_person', t(ctx.actor.lang, `不认识「${who}」。`, `No person "${who}" is known to Warroom.`), {
      hint: t(ctx.actor.lang, '用人员 id、姓名或 @提及；人员名单由 `warroom import` 导入。', 'Use a person id, a name or an @mention; people are loaded with `warroom import`.'),
    });
  }
  return { id: person.id, name: person.name };
}

/** Button presses on incident messages. */
export async function runIncidentAction(ctx: IncidentContext, actionId: string, value: string): Promise<BotReply[]> {
  const { deps, actor } = ctx;
  const lang = actor.lang;
  const [id, arg] = value.split('|');
  switch (actionId) {
    case ACTIONS.takeRole: {
      const role = parseRole(arg ?? '') ?? 'incident-commander';
      return confirm(ctx, id!, await assignRole(deps, id!, actor, role, { id: actor.id, name: null }));
    }
    case ACTIONS.setStatus: {
      const status = parseStatus(arg ?? '');
      if (!status) throw new WarroomError('bad_action', `Unknown status in button value "${value}".`);
      return confirm(ctx, id!, await changeStatus(deps, id!, actor, status));
    }
    case ACTIONS.draftUpdate:
      return [reply((await draftUpdateFor(deps, id!, lang, actor)).message, true)];
    case ACTIONS.postUpdate:
      return [{ message: await postStatusUpdate(deps, id!, actor, '', Number(arg)), private: true, replaceOriginal: true }];
    case ACTIONS.editUpdate: {
      const rows = await deps.app.db.query<{ text: string }>('SELECT text FROM incident_updates WHERE id = $1', [Number(arg)]);
      const draft = rows[0]?.text ?? '';
      return [reply({ lang, text: t(lang, `复制下面一行，修改后发送：\n/incident update ${id} ${draft.replace(/\n/g, ' ')}`, `Copy the line below, edit it and send it:\n/incident update ${id} ${draft.replace(/\n/g, ' ')}`) }, true)];
    }
    case ACTIONS.resolve:
      return confirm(ctx, id!, await resolveIncident(deps, id!, actor, undefined));
    default:
      throw new WarroomError('unknown_action', t(lang, `未知按钮「${actionId}」。`, `Unknown button "${actionId}".`));
  }
}

