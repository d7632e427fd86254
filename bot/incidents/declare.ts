import { toolContext, type App } from '../../tools/services.js';
import { errorMessage } from '../../core/errors.js';
import { clipText, requireWithin, TEXT_LIMITS } from '../../core/text.js';
import { appendAuditIn } from '../../db/audit.js';
import { resolveSystem } from '../../tools/oncall/systems.js';
import { detectOnset } from '../../tools/change-intel/localization.js';
import { localizeToolRef } from '../../tools/change-intel/localize.js';
import type { Lang } from '../messages.js';
import { t } from '../messages.js';
import type { ChatPlatform, MessageRef, RoomRef } from '../platforms/platform.js';
import { incidentFacts, incidentPolicy } from './facts.js';
import type { Severity } from './policy.js';
import { roleLabel, severityLabel } from '../views/vocabulary.js';
import { ROLES, type Role } from './policy.js';
import {
  addTimeline,
  getIncident,
  insertIncident,
  mergeExtra,
  nextIncidentId,
  oncallAt,
  peopleByIds,
  recordMessage,
  rolesOf,
  setRole,
  setRoom,
  type IncidentRow,
  type PersonRow,
} from './store.js';
import { announcementView, incidentCardView, type LocalizationCard } from './views.js';

export interface DeclareInput {
  /** Where to open the room; without one the incident is recorded and announced nowhere. */
  platform: ChatPlatform | undefined;
  severity: Severity;
  /** System id, name or alias. */
  system: string;
  title: string;
  /** The Warroom person (or platform user) declaring. */
  actor: string;
  source: 'command' | 'alert' | 'button' | 'api';
  lang: Lang;
  /** The alert that triggered it: the onset is no later than the alert's start. */
  alert?: { id: string; startsAt: Date };
  /** When the trouble began, if the declarer says (`--since 09:25`); otherwise the first alert of the system's episode. */
  onset?: Date;
}

export interface DeclareResult {
  incident: IncidentRow;
  room?: RoomRef;
  /** People invited, by Warroom id. */
  invited: string[];
  /** People who should be in the room but have no id on the platform. */
  notOnPlatform: string[];
  card?: MessageRef;
  announced: boolean;
  /** Steps that failed; the flow goes on without them and says so. */
  warnings: string[];
}

/**
 * "Declare first, then fix": record the incident, open a room named after it, bring in the on-call
 * people of the system and its dependencies by role, post and pin the context card, and announce it
 * in the status channel. Each step lands on the timeline; a failing optional step (pin, announce)
 * becomes a warning, not a failed declaration.
 */
export async function declareIncident(app: App, input: DeclareInput): Promise<DeclareResult> {
  const now = app.clock();
  const { lang } = input;
  // A typed title over the cap is refused; an alert's summary (machine text) is cut visibly.
  input = { ...input, title: input.alert ? clipText(input.title, TEXT_LIMITS.title) : requireWithin(input.title, 'title', lang, { zh: '故障标题', en: 'incident title' }) };
  const system = await resolveSystem(app.db, input.system);
  const warnings: string[] = [];

  // Who: on-call people of the system and what it depends on; the roles come from the system's own rota.
  const systems = [system.id, ...system.depends_on];
  const oncall = await oncallAt(app.db, systems, now);
  const roleHolders = new Map<Role, string>();
  for (const role of ROLES) {
    const holder = oncall.find((o) => o.system === system.id && o.oncall_role === role);
    if (holder) roleHolders.set(role, holder.id);
  }
  const [declarer] = await peopleByIds(app.db, [input.actor]);
  if (!roleHolders.has('incident-commander') && declarer) roleHolders.set('incident-commander', declarer.id);

  // The onset (stage "discover"): stage timing and the card's window count from it, not from the typing.
  const given = input.onset && input.onset <= now ? input.onset : undefined;
  const detected = given ? undefined : (await detectOnset({ db: app.db }, system.id, now))?.at;
  const fromAlert = input.alert && input.alert.startsAt < now ? input.alert.startsAt : undefined;
  const onset = given ?? [detected, fromAlert].filter((d): d is Date => d !== undefined).sort((a, b) => a.getTime() - b.getTime())[0] ?? now;

  const incident = await app.db.transaction(async (tx) => {
    const id = await nextIncidentId(tx, now, app.config.WARROOM_TIMEZONE);
    const row = await insertIncident(tx, {
      id,
      title: input.title,
      system: system.id,
      severity: input.severity,
      openedAt: now,
      discoveredAt: onset,
      declaredBy: input.actor,
      extra: { lang, source: input.source, ...(input.alert ? { alert: input.alert.id } : {}) },
    });
    await addTimeline(tx, id, {
      at: now,
      actor: input.actor,
      kind: 'declared',
      text: t(lang, `申报 ${severityLabel(input.severity, lang)} 故障：${system.name} — ${input.title}`, `Declared ${severityLabel(input.severity, lang)}: ${system.name} — ${input.title}`),
      data: { source: input.source, onset: onset.toISOString(), ...(input.alert ? { alert: input.alert.id } : {}) },
    });
    for (const [role, person] of roleHolders) {
      await setRole(tx, id, role, person, 'warroom', now);
      await addTimeline(tx, id, { at: now, actor: 'warroom', kind: 'role', text: `${roleLabel(role, lang)} → ${person}`, data: { role, person, from: 'oncall' } });
    }
    // In the same transaction: no incident without its audit row (a refused row rolls it back).
    await appendAuditIn(tx, app.db.kind, { actor: input.actor, action: 'incident.declare', target: id, outcome: 'ok', detail: { severity: input.severity, system: system.id, source: input.source } });
    return row;
  });

  const memberIds = unique([...roleHolders.values(), input.actor, ...oncall.map((o) => o.id)]);
  // In invitation order: the commander first (WeCom makes the first member the group's owner).
  const people = (await peopleByIds(app.db, memberIds)).sort((a, b) => memberIds.indexOf(a.id) - memberIds.indexOf(b.id));
  const result: DeclareResult = { incident, invited: [], notOnPlatform: [], announced: false, warnings };
  const platform = input.platform;
  if (!platform) {
    warnings.push(t(lang, '没有可用的聊天平台：未建群。', 'No chat platform is connected: no room was opened.'));
    return result;
  }

  const platformIds = new Map<string, string>();
  for (const p of people) {
    const pid = platform.userIdOf(p);
    if (pid) platformIds.set(p.id, pid);
    else result.notOnPlatform.push(p.id);
  }
  const topic = `[${severityLabel(incident.severity, lang)}] ${system.name} — ${incident.title}`;

  // The room and the localization card are independent: build them at the same time.
  const [room, card] = await Promise.all([
    platform.createRoom({ name: `${incident.id} ${system.id}`, topic, memberIds: [...platformIds.values()] }),
    localize(app, input.actor, system.id, incident, given).catch((err: unknown) => {
      warnings.push(t(lang, `定位卡生成失败：${errorMessage(err)}`, `Localization card failed: ${errorMessage(err)}`));
      return undefined;
    }),
  ]);
  result.room = room;
  result.invited = [...platformIds.keys()];
  await setRoom(app.db, incident.id, { platform: room.platform, id: room.id, ...(room.name ? { name: room.name } : {}) });
  if (card) await mergeExtra(app.db, incident.id, { card });
  await addTimeline(app.db, incident.id, {
    at: app.clock(),
    actor: 'warroom',
    kind: 'room',
    text: t(lang, `建群 ${room.name ?? room.id}，邀请 ${result.invited.length} 人`, `Opened room ${room.name ?? room.id}, invited ${result.invited.length}`),
    data: { platform: room.platform, room: room.id, invited: result.invited, notOnPlatform: result.notOnPlatform },
  });

  const fresh = (await getIncident(app.db, incident.id))!;
  const facts = await incidentFacts(app.db, fresh, app.clock(), incidentPolicy(app.config));
  const cardMessage = incidentCardView(facts, card, system.name, lang, app.config.WARROOM_TIMEZONE);
  if (result.notOnPlatform.length) {
    cardMessage.context = [...(cardMessage.context ?? []), t(lang, `未能邀请（无${platform.name}账号）：${result.notOnPlatform.join('、')}`, `Could not invite (no ${platform.name} id): ${result.notOnPlatform.join(', ')}`)];
  }
  const status = platform.statusRoom();
  const [posted, announced] = await Promise.all([
    platform.post(room, cardMessage),
    status
      ? platform.post(status, announcementView(fresh, system.name, room.name ?? room.id, facts.roles, lang, app.config.WARROOM_TIMEZONE)).catch((err: unknown) => {
          warnings.push(t(lang, `状态频道通告失败：${errorMessage(err)}`, `Status channel announcement failed: ${errorMessage(err)}`));
          return undefined;
        })
      : Promise.resolve(undefined),
  ]);
  result.card = posted;
  await recordMessage(app.db, incident.id, 'card', posted);
  if (platform.roomButtons === false) {
    // Group chats there cannot carry buttons: the commander gets the card with its buttons directly.
    const commander = people.find((p) => p.id === roleHolders.get('incident-commander'));
    const uid = commander ? platform.userIdOf(commander) : undefined;
    if (uid) {
      await platform
        .sendDirect(uid, cardMessage)
        .then((ref) => recordMessage(app.db, incident.id, 'card', ref))
        .catch((err: unknown) => warnings.push(t(lang, `向指挥发送操作卡失败：${errorMessage(err)}`, `Sending the action card to the commander failed: ${errorMessage(err)}`)));
    }
  }
  const pinned = await platform.pin(posted).catch((err: unknown) => {
    warnings.push(t(lang, `置顶失败：${errorMessage(err)}`, `Pinning the card failed: ${errorMessage(err)}`));
    return false;
  });
  if (announced) {
    result.announced = true;
    await recordMessage(app.db, incident.id, 'announcement', announced);
  }
  await addTimeline(app.db, incident.id, {
    at: app.clock(),
    actor: 'warroom',
    kind: 'card',
    text: t(lang, `发布${pinned ? '并置顶' : ''}定位卡${result.announced ? '，已在状态频道通告' : ''}`, `Posted${pinned ? ' and pinned' : ''} the context card${result.announced ? '; announced in the status channel' : ''}`),
    data: { pinned, announced: result.announced },
  });
  for (const w of warnings) app.logger.warn({ incident: incident.id, warning: w }, 'declare step failed');
  return result;
}

/** The card as of the declaration; its window counts back from the onset (given, or found from the alerts). */
async function localize(app: App, actor: string, system: string, incident: IncidentRow, onset: Date | undefined): Promise<LocalizationCard | undefined> {
  const r = await app.tools.call(
    localizeToolRef,
    { system, at: incident.opened_at.toISOString(), ...(onset ? { onset: onset.toISOString() } : {}), symptom: incident.title },
    toolContext(app, actor, { incidentId: incident.id }),
  );
  if (r.status === 'error') throw new Error(r.summary);
  return r.data;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

