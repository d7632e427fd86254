import { randomBytes } from 'node:crypto';
import { toolContext, type App } from '../../tools/services.js';
import { errorMessage, isWarroomError } from '../../core/errors.js';
import { clipText, requireWithin, TEXT_LIMITS } from '../../core/text.js';
import { appendAuditIn } from '../../db/audit.js';
import { resolveSystem } from '../../tools/oncall/systems.js';
import { detectOnset } from '../../tools/change-intel/localization.js';
import { localizeToolRef } from '../../tools/change-intel/localize.js';
import type { Lang, OutgoingMessage } from '../messages.js';
import { t } from '../messages.js';
import type { ChatPlatform, MessageRef, RoomRef } from '../platforms/platform.js';
import { incidentFacts, incidentPolicy } from './facts.js';
import type { Severity } from './policy.js';
import { roleLabel, severityLabel } from '../views/vocabulary.js';
import { ROLES, type Role } from './policy.js';
import type { IncidentDeps } from './deps.js';
import {
  addTimeline,
  failedDeclareAttempt,
  finishDeclaration,
  getDeclaration,
  getIncident,
  insertDeclaration,
  insertIncident,
  langOf,
  markDeclareStep,
  mergeExtra,
  nextIncidentId,
  oncallAt,
  peopleByIds,
  recordMessage,
  setRole,
  setRoom,
  systemNameOf,
  unfinishedDeclarations,
  type DeclareStep,
  type IncidentRow,
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

  const memberIds = unique([...roleHolders.values(), input.actor, ...oncall.map((o) => o.id)]);
  // In invitation order: the commander first (WeCom makes the first member the group's owner).
  const members = (await peopleByIds(app.db, memberIds)).map((p) => p.id).sort((a, b) => memberIds.indexOf(a) - memberIds.indexOf(b));
  const platform = input.platform;

  // Step "record": the incident, its roles and the plan of the rest, in one transaction. The
  // declaration is held (a lock named after the incident) from before anyone can see it until
  // its steps are done, so a resumer in this or another process never works on it at once.
  let release: (() => Promise<void>) | undefined;
  let incident: IncidentRow;
  try {
    incident = await app.db.transaction(async (tx) => {
      const id = await nextIncidentId(tx, now, app.config.WARROOM_TIMEZONE);
      if (platform) release = await app.db.tryLock(declarationLock(id));
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
      await insertDeclaration(tx, {
        incidentId: id,
        platform: platform?.name ?? null,
        roomName: `${id} ${system.id}`,
        roomKey: randomBytes(13).toString('hex'),
        members,
        onset: given,
        doneAt: platform ? null : now,
      });
      // In the same transaction: no incident without its audit row (a refused row rolls it back).
      await appendAuditIn(tx, app.db.kind, { actor: input.actor, action: 'incident.declare', target: id, outcome: 'ok', detail: { severity: input.severity, system: system.id, source: input.source } });
      return row;
    });
  } catch (err) {
    await release?.();
    throw err;
  }

  if (!platform) {
    return { incident, invited: [], notOnPlatform: [], announced: false, warnings: [t(lang, '没有可用的聊天平台：未建群。', 'No chat platform is connected: no room was opened.')] };
  }
  if (!release) {
    // Cannot happen (nobody knew the id before the commit), but never run a declaration unheld.
    app.logger.warn({ incident: incident.id }, 'declaration lock was taken by someone else; the resumer finishes it');
    return { incident, invited: [], notOnPlatform: [], announced: false, warnings: [] };
  }
  try {
    return await runDeclaration(app, platform, incident.id, 'declare');
  } finally {
    await release();
  }
}

/** The lock that holds one declaration while its steps run. */
export function declarationLock(incidentId: string): string {
  return `warroom:declare:${incidentId}`;
}

/**
 * The steps after the record, each skipped when already recorded as done, so running it again
 * after a crash finishes the declaration: find or open the room (never a second one: the room is
 * looked up by its name, or made with the same key, when an earlier attempt may have made it),
 * invite, post the card (looked up by its key where the platform can), the commander's card, pin,
 * announce. The room and the localization card are made at the same time, as are the card and the
 * announcement. A failing optional step (localization, the commander's card, pin, announce) is a
 * warning and counts as done; a failing room or card leaves the declaration to be resumed.
 * The caller holds `declarationLock(incidentId)`.
 */
export async function runDeclaration(app: App, platform: ChatPlatform, incidentId: string, why: 'declare' | 'resume'): Promise<DeclareResult> {
  const decl = await getDeclaration(app.db, incidentId);
  const first = await getIncident(app.db, incidentId);
  if (!decl || !first) throw new Error(`declaration ${incidentId} not found`);
  const lang = langOf(first);
  const warnings: string[] = [];
  const warn = (zh: string, en: string) => (err: unknown) => {
    warnings.push(t(lang, `${zh}：${errorMessage(err)}`, `${en}: ${errorMessage(err)}`));
  };
  const steps = decl.steps;
  const mark = async (step: DeclareStep, data: Record<string, unknown> = {}) => {
    const entry = { at: app.clock().toISOString(), ...data };
    await markDeclareStep(app.db, incidentId, step, entry);
    steps[step] = entry;
  };

  const systemName = await systemNameOf(app.db, first.system);
  const people = (await peopleByIds(app.db, decl.members)).sort((a, b) => decl.members.indexOf(a.id) - decl.members.indexOf(b.id));
  const platformIds = new Map<string, string>();
  const notOnPlatform: string[] = [];
  for (const p of people) {
    const pid = platform.userIdOf(p);
    if (pid) platformIds.set(p.id, pid);
    else notOnPlatform.push(p.id);
  }
  const invited = [...platformIds.keys()];
  const result: DeclareResult = { incident: first, invited, notOnPlatform, announced: false, warnings };

  try {
    // Room ∥ localization card.
    const topic = `[${severityLabel(first.severity, lang)}] ${systemName} — ${first.title}`;
    let found = false;
    const openRoom = async (): Promise<RoomRef> => {
      if (steps.room && first.room) return { platform: first.room.platform, id: first.room.id, ...(first.room.name ? { name: first.room.name } : {}) };
      let room: RoomRef | undefined;
      if (steps['room-requested'] && platform.findRoom) {
        room = await platform.findRoom({ name: decl.room_name, key: decl.room_key, notBefore: decl.created_at });
        found = room !== undefined;
      }
      if (!room) {
        if (!steps['room-requested']) await mark('room-requested');
        room = await platform.createRoom({ name: decl.room_name, topic, memberIds: [...platformIds.values()], key: decl.room_key });
      }
      const made = room;
      await app.db.transaction(async (tx) => {
        await setRoom(tx, incidentId, { platform: made.platform, id: made.id, ...(made.name ? { name: made.name } : {}) });
        await addTimeline(tx, incidentId, {
          at: app.clock(),
          actor: 'warroom',
          kind: 'room',
          text: t(lang, `建群 ${made.name ?? made.id}，邀请 ${invited.length} 人`, `Opened room ${made.name ?? made.id}, invited ${invited.length}`),
          data: { platform: made.platform, room: made.id, invited, notOnPlatform, ...(found ? { found: true } : {}) },
        });
        const entry = { at: app.clock().toISOString(), id: made.id, ...(found ? { found: true } : {}) };
        await markDeclareStep(tx, incidentId, 'room', entry);
        steps.room = entry;
        if (!found) {
          // createRoom invited everyone and set the topic; a room found again may have missed both.
          const invitedEntry = { at: entry.at, invited };
          await markDeclareStep(tx, incidentId, 'invite', invitedEntry);
          steps.invite = invitedEntry;
        }
      });
      return made;
    };
    const localizeCard = async (): Promise<LocalizationCard | undefined> => {
      if (steps.localize) return first.extra.card as LocalizationCard | undefined;
      const card = await localize(app, first.declared_by ?? 'warroom', first.system, first, decl.onset ?? undefined).catch((err: unknown) => {
        warn('定位卡生成失败', 'Localization card failed')(err);
        return undefined;
      });
      if (card) await mergeExtra(app.db, incidentId, { card });
      await mark('localize', card ? {} : { failed: true });
      return card;
    };
    const [roomDone, cardDone] = await Promise.allSettled([openRoom(), localizeCard()]);
    if (roomDone.status === 'rejected') throw roomDone.reason;
    const room = roomDone.value;
    const card = cardDone.status === 'fulfilled' ? cardDone.value : undefined;
    result.room = room;

    if (!steps.invite) {
      await platform.invite(room, [...platformIds.values()]);
      if (found) await platform.setTopic(room, topic).catch(warn('设置群话题失败', 'Setting the room topic failed'));
      await mark('invite', { invited });
    }

    const fresh = (await getIncident(app.db, incidentId))!;
    result.incident = fresh;
    const facts = await incidentFacts(app.db, fresh, app.clock(), incidentPolicy(app.config));
    const cardMessage = incidentCardView(facts, card, systemName, lang, app.config.WARROOM_TIMEZONE);
    if (notOnPlatform.length) {
      cardMessage.context = [...(cardMessage.context ?? []), t(lang, `未能邀请（无${platform.name}账号）：${notOnPlatform.join('、')}`, `Could not invite (no ${platform.name} id): ${notOnPlatform.join(', ')}`)];
    }

    // Card ∥ announcement. Each is marked "requested" before it is sent: only then may a copy
    // already be on the platform, to be looked for instead of posting a second.
    const postOnce = async (step: 'card' | 'announce', where: RoomRef, message: OutgoingMessage): Promise<MessageRef> => {
      const requested = step === 'card' ? 'card-requested' : 'announce-requested';
      const key = `${step}:${incidentId}`;
      let ref: MessageRef | undefined;
      if (steps[requested] && platform.findPosted) {
        ref = await platform.findPosted(where, key).catch((err: unknown) => {
          app.logger.warn({ incident: incidentId, step, err: errorMessage(err) }, 'could not look for an earlier post; posting again');
          return undefined;
        });
        if (ref) app.logger.info({ incident: incidentId, step, message: ref.id }, 'declaration: found the post an earlier attempt made');
      }
      if (!ref) {
        if (!steps[requested]) await mark(requested);
        ref = await platform.post(where, message, { key });
      }
      return ref;
    };
    const cardStep = async (): Promise<MessageRef> => {
      const recorded = steps.card;
      if (recorded && typeof recorded.id === 'string' && typeof recorded.roomId === 'string') return { platform: room.platform, roomId: recorded.roomId, id: recorded.id };
      const ref = await postOnce('card', room, cardMessage);
      await recordMessage(app.db, incidentId, 'card', ref);
      await mark('card', { roomId: ref.roomId, id: ref.id });
      return ref;
    };
    const announceStep = async (): Promise<void> => {
      const recorded = steps.announce;
      if (recorded) {
        result.announced = typeof recorded.id === 'string';
        return;
      }
      const status = platform.statusRoom();
      if (!status) return mark('announce', { skipped: true });
      const view = announcementView(fresh, systemName, room.name ?? room.id, facts.roles, lang, app.config.WARROOM_TIMEZONE);
      try {
        const ref = await postOnce('announce', status, view);
        await recordMessage(app.db, incidentId, 'announcement', ref);
        await mark('announce', { roomId: ref.roomId, id: ref.id });
        result.announced = true;
      } catch (err) {
        warn('状态频道通告失败', 'Status channel announcement failed')(err);
        await mark('announce', { failed: true });
      }
    };
    const [cardPosted, announcedDone] = await Promise.allSettled([cardStep(), announceStep()]);
    if (cardPosted.status === 'rejected') throw cardPosted.reason;
    if (announcedDone.status === 'rejected') throw announcedDone.reason;
    const posted = cardPosted.value;
    result.card = posted;

    if (platform.roomButtons === false && !steps.dm) {
      // Group chats there cannot carry buttons: the commander gets the card with its buttons directly.
      const commander = facts.roles.find((r) => r.role === 'incident-commander');
      const uid = commander ? platform.userIdOf({ id: commander.person, slack: commander.slack, wecom: commander.wecom }) : undefined;
      if (uid) {
        try {
          const ref = await platform.sendDirect(uid, cardMessage);
          await recordMessage(app.db, incidentId, 'card', ref);
          await mark('dm', { roomId: ref.roomId, id: ref.id });
        } catch (err) {
          warn('向指挥发送操作卡失败', 'Sending the action card to the commander failed')(err);
          await mark('dm', { failed: true });
        }
      } else await mark('dm', { skipped: true });
    }

    let pinned = steps.pin?.pinned === true;
    if (!steps.pin) {
      pinned = await platform.pin(posted).catch((err: unknown) => {
        warn('置顶失败', 'Pinning the card failed')(err);
        return false;
      });
      await mark('pin', { pinned });
    }

    await app.db.transaction(async (tx) => {
      await addTimeline(tx, incidentId, {
        at: app.clock(),
        actor: 'warroom',
        kind: 'card',
        text: t(lang, `发布${pinned ? '并置顶' : ''}定位卡${result.announced ? '，已在状态频道通告' : ''}`, `Posted${pinned ? ' and pinned' : ''} the context card${result.announced ? '; announced in the status channel' : ''}`),
        data: { pinned, announced: result.announced, ...(why === 'resume' ? { resumed: true } : {}) },
      });
      await finishDeclaration(tx, incidentId, app.clock());
    });
  } catch (err) {
    // The room or the card could not be made: the incident stands, and the declaration is left to
    // be finished at the next start or timer pass, unless the problem is one retrying cannot fix.
    const permanent = isWarroomError(err) && err.status < 500;
    await failedDeclareAttempt(app.db, incidentId, errorMessage(err));
    if (permanent) await finishDeclaration(app.db, incidentId, app.clock(), errorMessage(err));
    app.logger.warn({ incident: incidentId, why, err: errorMessage(err), permanent }, 'declaration step failed');
    if (why === 'resume') throw err;
    warnings.push(
      permanent
        ? t(lang, `未能建群：${errorMessage(err)}`, `The room could not be opened: ${errorMessage(err)}`)
        : t(lang, `建群或发布定位卡未完成（${errorMessage(err)}），Warroom 会自动重试。`, `Opening the room or posting the card did not finish (${errorMessage(err)}); Warroom will retry.`),
    );
  }
  for (const w of warnings) app.logger.warn({ incident: incidentId, warning: w }, 'declare step failed');
  return result;
}

/**
 * Finish the declarations a crash (or a failing chat API) left half-done: at start and on every
 * timer pass. Each is taken under its lock, so a declaration still running here or in another
 * process, or one another resumer has taken, is left alone. Returns the incidents finished.
 */
export async function resumeDeclarations(deps: IncidentDeps): Promise<string[]> {
  const { app } = deps;
  const finished: string[] = [];
  for (const row of await unfinishedDeclarations(app.db, [...deps.platforms.values()].map((p) => p.name))) {
    const platform = deps.platforms.get(row.platform);
    if (!platform) continue;
    const release = await app.db.tryLock(declarationLock(row.incident_id));
    if (!release) continue;
    try {
      // Finished by another process between the query and the lock?
      const decl = await getDeclaration(app.db, row.incident_id);
      if (!decl || decl.done_at) continue;
      const done = Object.keys(decl.steps);
      app.logger.info({ incident: row.incident_id, platform: row.platform, done }, 'resuming an unfinished declaration');
      const r = await runDeclaration(app, platform, row.incident_id, 'resume');
      finished.push(row.incident_id);
      app.logger.info({ incident: row.incident_id, room: r.room?.id, card: r.card?.id, announced: r.announced, warnings: r.warnings }, 'declaration resumed and finished');
    } catch (err) {
      app.logger.warn({ incident: row.incident_id, err: errorMessage(err) }, 'resuming a declaration failed; trying again on the next timer pass');
    } finally {
      await release();
    }
  }
  return finished;
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

