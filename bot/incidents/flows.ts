import type { App } from '../../tools/services.js';
import { errorMessage, WarroomError } from '../../core/errors.js';
import { requireWithin } from '../../core/text.js';
import { appendAudit } from '../../db/audit.js';
import type { IncidentDeps } from './deps.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';
import { draftStatusUpdate } from './comms.js';
import { incidentFacts, incidentPolicy } from './facts.js';
import { minutesLabel, roleLabel, severityLabel, statusLabel } from '../views/vocabulary.js';
import { STATUSES, stageReachedBy, type Role, type Severity, type Status } from './policy.js';
import { authorize, type PermissionRequest } from './permissions.js';
import { draftPostmortem } from './postmortem.js';
import {
  addTimeline,
  getIncident,
  langOf,
  insertUpdate,
  markStage,
  messagesOf,
  postDraft,
  recordMessage,
  requireIncident,
  rolesOf,
  setIncidentExtra,
  setRole,
  systemNameOf,
  timelineOf,
  updateIncident,
  type IncidentRow,
} from './store.js';
import { ACTIONS, incidentCardView, type LocalizationCard } from './views.js';

/**
 * What people do to an incident once it exists. Each flow asks the policy who may do it (on the
 * server, from stored people, rotas and roles, never from the chat text; bot/incidents/permissions.ts),
 * records it in the audit log before changing anything (so a refused audit write stops the change),
 * then on the timeline, and refreshes the pinned card so the room always shows the current state.
 */

export interface Actor {
  /** Warroom person id, or `platform:user` for someone unknown. */
  id: string;
  lang: Lang;
}

async function holds(app: App, incident: IncidentRow, actor: string, roles: Role[]): Promise<boolean> {
  return (await rolesOf(app.db, incident.id)).some((r) => r.person === actor && roles.includes(r.role));
}

/** The policy's word on an act; a refusal is audited and thrown (bot/incidents/permissions.ts). */
async function requireAct(app: App, incident: IncidentRow, actor: Actor, action: Extract<PermissionRequest, { kind: 'act' }>['action']): Promise<void> {
  await authorize(app, actor, { kind: 'act', action }, { system: incident.system, incident: incident.id });
}

function ensureOpen(incident: IncidentRow, lang: Lang): void {
  if (incident.status === 'resolved') throw new WarroomError('incident_resolved', t(lang, `${incident.id} 已解决。`, `${incident.id} is already resolved.`), { status: 409 });
}

/** The first act of anyone holding a role marks the respond stage. */
export async function noteResponse(app: App, incident: IncidentRow, actor: string): Promise<void> {
  if (incident.stages.respond || incident.status === 'resolved') return;
  if (!(await holds(app, incident, actor, ['incident-commander', 'communications-lead', 'operations-lead', 'scribe']))) return;
  const now = app.clock();
  if (await markStage(app.db, incident.id, 'respond', now)) {
    await addTimeline(app.db, incident.id, { at: now, actor, kind: 'stage', text: t(langOf(incident), '进入响应阶段', 'Responded'), data: { stage: 'respond' } });
  }
}

/** Re-render the pinned card(s) and topic with the incident's current state. Failures are logged, not thrown. */
export async function refreshIncidentRoom(deps: IncidentDeps, incidentId: string): Promise<void> {
  const app = deps.app;
  const incident = await getIncident(app.db, incidentId);
  if (!incident) return;
  const lang = langOf(incident);
  const facts = await incidentFacts(app.db, incident, app.clock(), incidentPolicy(app.config));
  const name = await systemNameOf(app.db, incident.system);
  const card = incidentCardView(facts, incident.extra.card as LocalizationCard | undefined, name, lang, app.config.WARROOM_TIMEZONE);
  for (const ref of await messagesOf(app.db, incident.id, 'card')) {
    const platform = deps.platforms.get(ref.platform);
    await platform?.update(ref, card).catch((err: unknown) => app.logger.warn({ incident: incident.id, err: errorMessage(err) }, 'card update failed'));
  }
  const room = incident.room;
  const platform = room ? deps.platforms.get(room.platform) : undefined;
  if (room && platform) {
    const topic = `[${severityLabel(incident.severity, lang)} · ${statusLabel(incident.status, lang)}] ${name} — ${incident.title}`;
    await platform.setTopic({ platform: room.platform, id: room.id }, topic).catch((err: unknown) => app.logger.warn({ incident: incident.id, err: errorMessage(err) }, 'topic update failed'));
  }
}

/**
 * Tell the room about a change, wherever it was made (a button in a direct chat, a command in
 * another channel): everyone in the room must see status, severity and role changes.
 */
async function announce(deps: IncidentDeps, incident: IncidentRow, message: OutgoingMessage): Promise<OutgoingMessage> {
  await postToRoom(deps, incident, message)
    .then(() => announced.add(message))
    .catch((err: unknown) => deps.app.logger.warn({ incident: incident.id, err: errorMessage(err) }, 'room post failed'));
  return message;
}

const announced = new WeakSet<OutgoingMessage>();

/** Whether the room has already been told (so the actor in the room needs no second copy). */
export function wasAnnounced(message: OutgoingMessage): boolean {
  return announced.has(message);
}

/** Post into the incident's room, if it has one on a connected platform. */
async function postToRoom(deps: IncidentDeps, incident: IncidentRow, message: OutgoingMessage): Promise<void> {
  const room = incident.room;
  const platform = room ? deps.platforms.get(room.platform) : undefined;
  if (room && platform) await platform.post({ platform: room.platform, id: room.id }, message);
}

/** Post to the status channel of the incident's platform (and say whether there is one). */
async function postToStatusChannel(deps: IncidentDeps, incident: IncidentRow, message: OutgoingMessage): Promise<boolean> {
  const platform = incident.room ? deps.platforms.get(incident.room.platform) : [...deps.platforms.values()][0];
  const status = platform?.statusRoom();
  if (!platform || !status) return false;
  const ref = await platform.post(status, message);
  await recordMessage(deps.app.db, incident.id, 'announcement', ref);
  return true;
}

export async function assignRole(deps: IncidentDeps, incidentId: string, actor: Actor, role: Role, person: { id: string; name?: string | null }): Promise<OutgoingMessage> {
  const app = deps.app;
  const incident = await requireIncident(app.db, incidentId);
  ensureOpen(incident, actor.lang);
  const roles = await rolesOf(app.db, incident.id);
  const current = roles.find((r) => r.role === role);
  // The policy says who may take which role for themselves, and who gives roles to others (the
  // commander); a role someone else holds moves only through the commander or the takeover grant.
  await authorize(app, actor, { kind: 'role', role, forSelf: person.id === actor.id, heldBy: current?.person ?? null }, { system: incident.system, incident: incident.id });
  if (current?.person === person.id) return { lang: actor.lang, text: t(actor.lang, `${person.name ?? person.id} 已经是${roleLabel(role, actor.lang)}。`, `${person.name ?? person.id} is already the ${roleLabel(role, actor.lang)}.`) };
  const now = app.clock();
  await appendAudit(app.db, { actor: actor.id, action: 'incident.role', target: incident.id, outcome: 'ok', detail: { role, person: person.id } });
  await setRole(app.db, incident.id, role, person.id, actor.id, now);
  const text = t(actor.lang, `${roleLabel(role, actor.lang)}：${person.name ?? person.id}${current ? `（接替 ${current.name ?? current.person}）` : ''}`, `${roleLabel(role, actor.lang)}: ${person.name ?? person.id}${current ? ` (taking over from ${current.name ?? current.person})` : ''}`);
  await addTimeline(app.db, incident.id, { at: now, actor: actor.id, kind: 'role', text, data: { role, person: person.id, previous: current?.person ?? null } });
  await noteResponse(app, (await getIncident(app.db, incident.id))!, actor.id);
  await refreshIncidentRoom(deps, incident.id);
  return announce(deps, incident, { lang: actor.lang, text: `${incident.id} · ${text} (${actor.id})` });
}

export async function changeStatus(deps: IncidentDeps, incidentId: string, actor: Actor, status: Status): Promise<OutgoingMessage> {
  const app = deps.app;
  if (status === 'resolved') return resolveIncident(deps, incidentId, actor, undefined);
  const incident = await requireIncident(app.db, incidentId);
  ensureOpen(incident, actor.lang);
  await requireAct(app, incident, actor, 'status');
  if (incident.status === status) return { lang: actor.lang, text: t(actor.lang, `${incident.id} 已经是「${statusLabel(status, actor.lang)}」。`, `${incident.id} is already ${statusLabel(status, actor.lang)}.`) };
  if (STATUSES.indexOf(status) < STATUSES.indexOf(incident.status)) {
    // Going back (a fix that did not hold) is allowed and recorded; stage times keep their first value.
    app.logger.info({ incident: incident.id, from: incident.status, to: status }, 'status moved back');
  }
  const now = app.clock();
  await appendAudit(app.db, { actor: actor.id, action: 'incident.status', target: incident.id, outcome: 'ok', detail: { from: incident.status, to: status } });
  await updateIncident(app.db, incident.id, { status });
  await noteResponse(app, incident, actor.id);
  const stage = stageReachedBy(status);
  // Mitigated means recovered: the stages before it count as reached too.
  if (stage === 'recover') await markStage(app.db, incident.id, 'localize', now);
  if (stage) await markStage(app.db, incident.id, stage, now);
  const text = t(actor.lang, `状态：${statusLabel(incident.status, actor.lang)} → ${statusLabel(status, actor.lang)}`, `Status: ${statusLabel(incident.status, actor.lang)} → ${statusLabel(status, actor.lang)}`);
  await addTimeline(app.db, incident.id, { at: now, actor: actor.id, kind: 'status', text, data: { from: incident.status, to: status } });
  await refreshIncidentRoom(deps, incident.id);
  return announce(deps, incident, { lang: actor.lang, text: `${incident.id} · ${text} (${actor.id})` });
}

export async function changeSeverity(deps: IncidentDeps, incidentId: string, actor: Actor, severity: Severity): Promise<OutgoingMessage> {
  const app = deps.app;
  const incident = await requireIncident(app.db, incidentId);
  ensureOpen(incident, actor.lang);
  await requireAct(app, incident, actor, 'severity');
  if (incident.severity === severity) return { lang: actor.lang, text: t(actor.lang, `${incident.id} 已经是 ${severityLabel(severity, actor.lang)}。`, `${incident.id} is already ${severityLabel(severity, actor.lang)}.`) };
  const now = app.clock();
  // Audited first: when the audit log refuses the row, the severity does not change.
  await appendAudit(app.db, { actor: actor.id, action: 'incident.severity', target: incident.id, outcome: 'ok', detail: { from: incident.severity, to: severity } });
  await updateIncident(app.db, incident.id, { severity });
  const text = t(actor.lang, `级别：${severityLabel(incident.severity, actor.lang)} → ${severityLabel(severity, actor.lang)}`, `Severity: ${severityLabel(incident.severity, actor.lang)} → ${severityLabel(severity, actor.lang)}`);
  await addTimeline(app.db, incident.id, { at: now, actor: actor.id, kind: 'severity', text, data: { from: incident.severity, to: severity } });
  await noteResponse(app, incident, actor.id);
  await refreshIncidentRoom(deps, incident.id);
  return announce(deps, incident, { lang: actor.lang, text: `${incident.id} · ${text} (${actor.id})` });
}

/**
 * A note, impact, cause, expected recovery or follow-up on the timeline (the scribe's work; the policy
 * says who else may). The expected recovery (`eta`) is whoever may record the impact's to give.
 */
export async function recordFact(deps: IncidentDeps, incidentId: string, actor: Actor, kind: 'note' | 'impact' | 'cause' | 'eta' | 'followup', text: string, data: Record<string, unknown> = {}): Promise<OutgoingMessage> {
  const app = deps.app;
  requireWithin(text, 'note', actor.lang);
  const incident = await requireIncident(app.db, incidentId);
  await requireAct(app, incident, actor, kind === 'followup' ? 'note' : kind === 'eta' ? 'impact' : kind);
  const now = app.clock();
  if (kind === 'impact') await updateIncident(app.db, incident.id, { impact: text });
  if (kind === 'cause') await updateIncident(app.db, incident.id, { rootCause: text });
  // No column of its own: incidents.extra.eta, read by incident_status and the agents' incident context.
  if (kind === 'eta') await setIncidentExtra(app.db, incident.id, 'eta', { text, at: now.toISOString(), by: actor.id });
  const label = { note: t(actor.lang, '记录', 'Note'), impact: t(actor.lang, '影响', 'Impact'), cause: t(actor.lang, '根因', 'Root cause'), eta: t(actor.lang, '预计恢复', 'Expected recovery'), followup: t(actor.lang, '后续改进', 'Follow-up') }[kind];
  await addTimeline(app.db, incident.id, { at: now, actor: actor.id, kind, text: kind === 'note' || kind === 'followup' ? text : `${label}：${text}`, data });
  await noteResponse(app, incident, actor.id);
  if (kind === 'impact' || kind === 'eta') await refreshIncidentRoom(deps, incident.id);
  return { lang: actor.lang, text: t(actor.lang, `${incident.id} · 已记入时间线（${label}）。`, `${incident.id} · added to the timeline (${label}).`) };
}

/** Post a status update (typed, or a posted draft) to the room and the status channel. */
export async function postStatusUpdate(deps: IncidentDeps, incidentId: string, actor: Actor, text: string, draftId?: number): Promise<OutgoingMessage> {
  const app = deps.app;
  requireWithin(text, 'note', actor.lang, { zh: '通报', en: 'status update' });
  const incident = await requireIncident(app.db, incidentId);
  await requireAct(app, incident, actor, 'update');
  const now = app.clock();
  // Audited before anything is posted: a refused audit row stops the update.
  await appendAudit(app.db, { actor: actor.id, action: 'incident.update', target: incident.id, outcome: 'ok', detail: { draftId: draftId ?? null } });
  if (draftId !== undefined) {
    const posted = await postDraft(app.db, draftId, actor.id, now);
    if (!posted) return { lang: actor.lang, text: t(actor.lang, '这份草稿已发布或已作废。', 'That draft was already posted or discarded.') };
    text = posted.text;
  } else {
    await insertUpdate(app.db, incident.id, { status: 'posted', text, at: now, by: actor.id });
  }
  const message: OutgoingMessage = { lang: langOf(incident), title: t(langOf(incident), `${incident.id} 通报`, `${incident.id} status update`), text, context: [t(langOf(incident), `发布人：${actor.id}`, `Posted by ${actor.id}`)] };
  const inStatus = await postToStatusChannel(deps, incident, message).catch((err: unknown) => {
    app.logger.warn({ incident: incident.id, err: errorMessage(err) }, 'status channel post failed');
    return false;
  });
  await postToRoom(deps, incident, message);
  await addTimeline(app.db, incident.id, { at: now, actor: actor.id, kind: 'update', text: t(actor.lang, `发布通报：${text.split('\n')[0]}`, `Status update posted: ${text.split('\n')[0]}`), data: { statusChannel: inStatus, draftId: draftId ?? null } });
  await noteResponse(app, incident, actor.id);
  await refreshIncidentRoom(deps, incident.id);
  return {
    lang: actor.lang,
    text: inStatus
      ? t(actor.lang, `${incident.id} 通报已发布到本群和状态频道。`, `${incident.id} update posted to the room and the status channel.`)
      : t(actor.lang, `${incident.id} 通报已发布到本群（未配置状态频道）。`, `${incident.id} update posted to the room (no status channel is configured).`),
  };
}

/** Draft an update now for whoever asks (the timer does the same for the communications lead; it passes no actor). */
export async function draftUpdateFor(deps: IncidentDeps, incidentId: string, lang: Lang, actor?: Actor): Promise<{ draftId: number; message: OutgoingMessage }> {
  const app = deps.app;
  const incident = await requireIncident(app.db, incidentId);
  if (actor) await requireAct(app, incident, actor, 'draft');
  const now = app.clock();
  const facts = await incidentFacts(app.db, incident, now, incidentPolicy(app.config));
  const text = draftStatusUpdate(facts, await systemNameOf(app.db, incident.system), await timelineOf(app.db, incident.id), langOf(incident), app.config.WARROOM_TIMEZONE, now);
  const draftId = await insertUpdate(app.db, incident.id, { status: 'drafted', text, at: now });
  return {
    draftId,
    message: {
      lang,
      title: t(lang, `${incident.id} 通报草稿`, `${incident.id} draft status update`),
      text,
      context: [t(lang, '草稿只根据已记录的事实生成。可直接发布，或复制后用 `/incident update <修改后的内容>` 发布。', 'Drafted from recorded facts only. Post it as is, or copy it and post your edit with `/incident update <text>`.')],
      buttons: [
        { actionId: ACTIONS.postUpdate, label: t(lang, '发布到状态频道', 'Post to status channel'), value: `${incident.id}|${draftId}`, style: 'primary' },
        { actionId: ACTIONS.editUpdate, label: t(lang, '编辑后发布', 'Edit first'), value: `${incident.id}|${draftId}` },
      ],
    },
  };
}

export async function resolveIncident(deps: IncidentDeps, incidentId: string, actor: Actor, resolution: string | undefined): Promise<OutgoingMessage> {
  const app = deps.app;
  if (resolution) requireWithin(resolution, 'note', actor.lang, { zh: '处置说明', en: 'resolution' });
  const incident = await requireIncident(app.db, incidentId);
  ensureOpen(incident, actor.lang);
  await requireAct(app, incident, actor, 'resolve');
  const now = app.clock();
  // Audited first: when the audit log refuses the row, the incident stays open.
  await appendAudit(app.db, { actor: actor.id, action: 'incident.resolve', target: incident.id, outcome: 'ok' });
  await updateIncident(app.db, incident.id, { status: 'resolved', resolvedAt: now, ...(resolution ? { resolution } : {}) });
  for (const s of ['respond', 'localize', 'recover'] as const) await markStage(app.db, incident.id, s, now);
  await addTimeline(app.db, incident.id, { at: now, actor: actor.id, kind: 'resolved', text: t(actor.lang, `已解决${resolution ? `：${resolution}` : ''}`, `Resolved${resolution ? `: ${resolution}` : ''}`), data: {} });
  const resolved = (await getIncident(app.db, incident.id))!;
  const lang = langOf(resolved);
  const name = await systemNameOf(app.db, resolved.system);
  const postmortem = await draftPostmortem(app.db, resolved, name, lang, app.config.WARROOM_TIMEZONE);
  await updateIncident(app.db, incident.id, { postmortem });
  const minutes = Math.round((now.getTime() - resolved.opened_at.getTime()) / 60000);
  const notice: OutgoingMessage = {
    lang,
    title: `✅ ${resolved.id} ${statusLabel('resolved', lang)}`,
    text: t(lang, `${severityLabel(resolved.severity, lang)} ${name} — ${resolved.title}\n历时 ${minutesLabel(minutes, lang)}。${resolution ? `处置：${resolution}` : ''}`, `${severityLabel(resolved.severity, lang)} ${name} — ${resolved.title}\nOpen for ${minutesLabel(minutes, lang)}.${resolution ? ` Resolution: ${resolution}` : ''}`),
  };
  await postToStatusChannel(deps, resolved, notice).catch((err: unknown) => app.logger.warn({ incident: incident.id, err: errorMessage(err) }, 'status channel post failed'));
  await postToRoom(deps, resolved, notice);
  await postToRoom(deps, resolved, { lang, title: t(lang, `${resolved.id} 复盘草稿`, `${resolved.id} postmortem draft`), text: postmortem });
  await refreshIncidentRoom(deps, incident.id);
  return { lang: actor.lang, text: t(actor.lang, `${resolved.id} 已解决，复盘草稿已发到故障群（\`warroom postmortem ${resolved.id}\` 可打印）。`, `${resolved.id} resolved; the postmortem draft is in the room (\`warroom postmortem ${resolved.id}\` prints it).`) };
}
