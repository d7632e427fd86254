import { createHash } from 'node:crypto';
import { z, type ZodIssue } from 'zod';
import { errorMessage, WarroomError } from '../../core/errors.js';
import { formatShort } from '../../core/time.js';
import { findSystem, listSystems, matchSystem, type SystemRow } from '../../tools/oncall/systems.js';
import type { IncidentDeps } from './deps.js';
import { authorize } from './permissions.js';
import { detectLang, t, type Lang } from '../messages.js';
import type { ChatPlatform } from '../platforms/platform.js';
import { declareIncident } from './declare.js';
import { alertRank, severityForAlert } from './policy.js';
import { openIncidents } from './store.js';
import { ACTIONS } from './views.js';
import { storeAlertBatch, writeIncidentLinks, yieldToEventLoop, type AlertToStore, type IncidentLink, type StoredAlert } from './alert-store.js';

/** Longest alert title kept, in characters: a longer one (an Alertmanager summary, say) is cut to it, ending in "…". */
export const ALERT_TITLE_MAX = 500;
/** Alert times before this are refused (Go's zero time, 0001-01-01, is how a sender says "not set"). */
export const ALERT_TIME_MIN = new Date('2000-01-01T00:00:00Z');
/** Alert times further ahead of Warroom's clock than this are refused: the sender's clock or time zone is wrong. */
export const ALERT_TIME_MAX_AHEAD_MS = 24 * 60 * 60 * 1000;
/** How many bad fields one 400 lists. */
const MAX_REPORTED_PROBLEMS = 20;
/** Alerts handled between two yields to the event loop, so /healthz and the chat keep answering during a big batch. */
const YIELD_EVERY = 1000;

const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** One alert in Warroom's format (POST /api/alerts); times are checked apart, so their errors say what is wrong. */
export const incomingAlertSchema = z.object({
  id: text(200).optional(),
  fingerprint: text(200).optional(),
  system: text(200),
  severity: text(40),
  /** Cut to ALERT_TITLE_MAX characters, not refused. */
  title: z.string().min(1, 'must not be empty'),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  labels: z.record(z.string()).optional(),
});

/** One alert of an Alertmanager webhook body (`{"version": "4", "alerts": [...]}`). */
const alertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']).optional(),
  labels: z.record(z.string()),
  annotations: z.record(z.string()).optional(),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  fingerprint: z.string().max(200, 'must be at most 200 characters').optional(),
});

/** An alert read from a request body: checked, times parsed, the title cut to size. */
export interface ParsedAlert {
  /** Its place in the body; messages name it `alerts[index]`. */
  index: number;
  id?: string;
  fingerprint?: string;
  system: string;
  /** The field that named the system (`system`, or `labels.service` in an Alertmanager body), for messages. */
  systemField: string;
  severity: string;
  title: string;
  startsAt?: Date;
  endsAt?: Date;
  resolved: boolean;
  labels: Record<string, string>;
}

interface Problem {
  path: string;
  message: string;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
/** Go's zero time: Alertmanager's endsAt of an alert that has not ended. */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(?:\.0+)?Z$/i;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * An alert time: ISO 8601 with a zone (RFC 3339, as Alertmanager sends it), a real calendar date,
 * from 2000-01-01 to a day ahead of `now`. Parsed by hand: `Date.parse` takes 2026-02-30 as 2 March,
 * and reading back year 0001 through JavaScript's legacy date parser gives 2001.
 */
export function parseAlertTime(value: string, now: Date): Date | string {
  const m = ISO_TIME.exec(value);
  const example = 'e.g. 2026-11-23T09:35:00+08:00 or 2026-11-23T01:35:00Z';
  if (!m) return `"${clip(value, 40)}" is not an ISO 8601 time with a zone (${example})`;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const zone = m[8]!.toUpperCase();
  const offsetH = zone === 'Z' ? 0 : Number(zone.slice(1, 3));
  const offsetM = zone === 'Z' ? 0 : Number(zone.slice(-2));
  if (year < ALERT_TIME_MIN.getUTCFullYear()) return `"${value}" is before 2000-01-01: not a time an alert started or ended`;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 || offsetH > 23 || offsetM > 59) {
    return `"${value}" is not a real date and time (${example})`;
  }
  const sign = zone.startsWith('-') ? -1 : 1;
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - sign * (offsetH * 60 + offsetM) * 60_000);
  if (at < ALERT_TIME_MIN) return `"${value}" is before 2000-01-01: not a time an alert started or ended`;
  if (at.getTime() > now.getTime() + ALERT_TIME_MAX_AHEAD_MS) {
    return `"${value}" is more than a day ahead of Warroom's clock (${now.toISOString()}): check the sender's clock and time zone`;
  }
  return at;
}

/** At most `max` characters (code points, so no emoji or rare Han character is cut in half), the last one "…" when cut. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

function issuePath(index: number, issue: ZodIssue): string {
  let p = `alerts[${index}]`;
  for (const seg of issue.path) p += typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
  return p;
}

function timeField(value: string | undefined, path: string, now: Date, problems: Problem[], zeroIsUnset: boolean): Date | undefined {
  if (value === undefined || value === '' || (zeroIsUnset && GO_ZERO_TIME.test(value))) return undefined;
  const at = parseAlertTime(value, now);
  if (typeof at === 'string') {
    problems.push({ path, message: at });
    return undefined;
  }
  return at;
}

function readWarroomAlert(item: unknown, index: number, now: Date, problems: Problem[]): ParsedAlert | undefined {
  const r = incomingAlertSchema.safeParse(item);
  if (!r.success) {
    for (const issue of r.error.issues) problems.push({ path: issuePath(index, issue), message: issue.message });
    return undefined;
  }
  const a = r.data;
  const before = problems.length;
  const startsAt = timeField(a.startsAt, `alerts[${index}].startsAt`, now, problems, false);
  // Go's zero time as endsAt is "not ended" (alerts forwarded from Alertmanager carry it).
  const endsAt = timeField(a.endsAt, `alerts[${index}].endsAt`, now, problems, true);
  if (startsAt && endsAt && endsAt < startsAt) problems.push({ path: `alerts[${index}].endsAt`, message: `"${a.endsAt}" is before startsAt ("${a.startsAt}")` });
  if (problems.length > before) return undefined;
  return {
    index,
    ...(a.id ? { id: a.id } : {}),
    ...(a.fingerprint ? { fingerprint: a.fingerprint } : {}),
    system: a.system,
    systemField: 'system',
    severity: a.severity,
    title: clip(a.title, ALERT_TITLE_MAX),
    ...(startsAt ? { startsAt } : {}),
    ...(endsAt ? { endsAt } : {}),
    resolved: a.status === 'resolved' || endsAt !== undefined,
    labels: a.labels ?? {},
  };
}

function readAlertmanagerAlert(item: unknown, index: number, now: Date, problems: Problem[]): ParsedAlert | undefined {
  const r = alertmanagerAlertSchema.safeParse(item);
  if (!r.success) {
    for (const issue of r.error.issues) problems.push({ path: issuePath(index, issue), message: issue.message });
    return undefined;
  }
  const a = r.data;
  const before = problems.length;
  const systemLabel = (['system', 'service', 'app'] as const).find((k) => a.labels[k]);
  const system = systemLabel ? a.labels[systemLabel]! : '';
  if (!systemLabel) problems.push({ path: `alerts[${index}].labels`, message: 'needs a "system" label (or "service", or "app") naming the system' });
  else if (system.length > 200) problems.push({ path: `alerts[${index}].labels.${systemLabel}`, message: 'must be at most 200 characters' });
  const severity = a.labels.severity || 'warning';
  if (severity.length > 40) problems.push({ path: `alerts[${index}].labels.severity`, message: 'must be at most 40 characters' });
  const startsAt = timeField(a.startsAt, `alerts[${index}].startsAt`, now, problems, false);
  const resolved = a.status === 'resolved';
  // A firing alert's endsAt is Alertmanager's guess of when it times out (or the zero time): not used.
  const endsAt = resolved ? timeField(a.endsAt, `alerts[${index}].endsAt`, now, problems, true) : undefined;
  if (startsAt && endsAt && endsAt < startsAt) problems.push({ path: `alerts[${index}].endsAt`, message: `"${a.endsAt}" is before startsAt ("${a.startsAt}")` });
  if (problems.length > before) return undefined;
  return {
    index,
    ...(a.fingerprint ? { fingerprint: a.fingerprint } : {}),
    system,
    systemField: `labels.${systemLabel}`,
    severity,
    title: clip(a.annotations?.summary || a.labels.alertname || 'alert', ALERT_TITLE_MAX),
    ...(startsAt ? { startsAt } : {}),
    ...(endsAt ? { endsAt } : {}),
    resolved,
    labels: a.labels,
  };
}

function invalid(problems: Problem[], total = problems.length): WarroomError {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => `  ${p.path}: ${p.message}`);
  if (total > MAX_REPORTED_PROBLEMS) shown.push(`  … and ${total - MAX_REPORTED_PROBLEMS} more`);
  const first = problems[0]!;
  return new WarroomError('invalid_body', total === 1 ? `Invalid alert: ${first.path}: ${first.message}; nothing was stored.` : `${total} invalid fields in the alerts; nothing was stored:\n${shown.join('\n')}`, {
    status: 400,
    hint: 'Fix the fields named above and send the whole batch again. An alert needs system, severity and title; see README.md ("Alerts").',
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Read a request body: one alert, an array of them, or `{"alerts": [...]}` (an Alertmanager webhook,
 * or Warroom's alerts under that key). Every alert is checked before anything is stored; bad fields
 * are named (`alerts[1999].startsAt: …`) and any of them rejects the whole body with 400. More than
 * `maxItems` alerts is a 413.
 */
export async function parseAlertBody(body: unknown, limits: { now: Date; maxItems: number }): Promise<ParsedAlert[]> {
  let items: unknown[];
  let wrapped = false;
  if (Array.isArray(body)) items = body;
  else if (isObject(body) && 'alerts' in body) {
    if (!Array.isArray(body.alerts)) throw new WarroomError('invalid_body', 'Invalid alert: alerts: must be an array of alerts.', { status: 400 });
    items = body.alerts;
    wrapped = true;
  } else if (isObject(body)) items = [body];
  else throw new WarroomError('invalid_body', `Expected an alert object, an array of them or an Alertmanager webhook body, got ${body === null ? 'null' : typeof body}.`, { status: 400 });
  if (!items.length) throw new WarroomError('invalid_body', 'No alerts in the body: the array is empty.', { status: 400 });
  if (items.length > limits.maxItems) {
    throw new WarroomError('too_many_alerts', `${items.length} alerts in one request; the limit is ${limits.maxItems} (WARROOM_ALERTS_MAX_ITEMS). Nothing was stored.`, {
      status: 413,
      hint: `Split the batch into requests of at most ${limits.maxItems} alerts, or raise WARROOM_ALERTS_MAX_ITEMS.`,
    });
  }
  const problems: Problem[] = [];
  const out: ParsedAlert[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
    const item = items[i];
    // Under "alerts", an item without Warroom's system or title is an Alertmanager alert.
    const alertmanager = wrapped && isObject(item) && !('system' in item) && !('title' in item);
    const a = alertmanager ? readAlertmanagerAlert(item, i, limits.now, problems) : readWarroomAlert(item, i, limits.now, problems);
    if (a) out.push(a);
  }
  if (problems.length) throw invalid(problems);
  return out;
}

export interface AlertOutcome {
  alert: string;
  fingerprint: string;
  /** declared: a new incident room; attached: joined an open incident of the system; repeat: count raised; offered: posted with a Declare button; stored: below the threshold; cleared: resolved. */
  action: 'declared' | 'attached' | 'repeat' | 'offered' | 'stored' | 'cleared';
  incident?: string;
  count?: number;
}

function fingerprintOf(a: ParsedAlert, system: string): string {
  if (a.fingerprint) return a.fingerprint;
  const labels = Object.entries(a.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([system, a.title, labels])).digest('hex').slice(0, 16);
}

/** The platform where rooms for alerts open: Slack, else WeCom, else the local chat. */
export function primaryPlatform(deps: IncidentDeps): ChatPlatform | undefined {
  return deps.platforms.get('slack') ?? deps.platforms.get('wecom') ?? deps.platforms.get('local');
}

/**
 * Store a batch of alerts, deduplicated by fingerprint, and act on them in order: a repeat of an
 * open alert raises its count and never opens a second room; a new alert at or above
 * WARROOM_ALERT_MIN_SEVERITY opens an incident room, unless the system already has an open incident,
 * which it then joins. Every alert's system is resolved first (an unknown one rejects the batch with
 * 400, nothing stored); the batch is stored in one transaction with a few multi-row statements; then
 * the incident logic runs per alert, its writes gathered into one more transaction.
 */
export async function ingestAlerts(deps: IncidentDeps, alerts: ParsedAlert[]): Promise<AlertOutcome[]> {
  const app = deps.app;
  const now = app.clock();

  // Systems: one query for the batch; names are resolved once each.
  const systems = await listSystems(app.db);
  const byName = new Map<string, SystemRow | undefined>();
  const problems: Problem[] = [];
  let unknown = 0;
  const systemOf: SystemRow[] = new Array(alerts.length);
  for (let i = 0; i < alerts.length; i++) {
    const a = alerts[i]!;
    if (!byName.has(a.system)) byName.set(a.system, findSystem(systems, a.system));
    const found = byName.get(a.system);
    if (found) {
      systemOf[i] = found;
      continue;
    }
    unknown++;
    if (problems.length < MAX_REPORTED_PROBLEMS) {
      let message = `no system matches "${clip(a.system, 60)}"`;
      try {
        matchSystem(systems, a.system);
      } catch (err) {
        if (err instanceof WarroomError && err.hint) message += `; ${err.hint}`;
      }
      problems.push({ path: `alerts[${a.index}].${a.systemField}`, message });
    }
  }
  if (unknown) throw invalid(problems, unknown);

  const batch: AlertToStore[] = new Array(alerts.length);
  for (let i = 0; i < alerts.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
    const a = alerts[i]!;
    const fingerprint = fingerprintOf(a, systemOf[i]!.id);
    const startsAt = a.startsAt ?? now;
    batch[i] = {
      id: a.id ?? `ALT-${fingerprint}-${startsAt.getTime().toString(36)}`,
      fingerprint,
      system: systemOf[i]!.id,
      severity: a.severity,
      title: a.title,
      startsAt,
      endsAt: a.resolved ? (a.endsAt ?? now) : undefined,
      resolved: a.resolved,
      labels: a.labels,
    };
  }
  const stored = await storeAlertBatch(app.db, batch, now);
  return actOnAlerts(deps, batch, systemOf, stored, now);
}

/** The incident logic for a stored batch, alert by alert in order; database writes are gathered. */
async function actOnAlerts(deps: IncidentDeps, batch: AlertToStore[], systems: SystemRow[], stored: StoredAlert[], now: Date): Promise<AlertOutcome[]> {
  const app = deps.app;
  const threshold = alertRank(app.config.WARROOM_ALERT_MIN_SEVERITY);
  const minor = alertRank('minor');
  const results: AlertOutcome[] = new Array(batch.length);

  // The open incident of each system (the one a lookup per alert found first), when any alert may need it.
  const openBySystem = new Map<string, string>();
  // A repeat of an alert that should have an incident and has none (an earlier delivery failed
  // after storing it) is acted on like a new one, so the sender's retry heals it.
  const orphan = (s: StoredAlert, i: number): boolean => s.kind === 'repeat' && !s.row?.incident && alertRank(batch[i]!.severity) >= threshold;
  if (stored.some((s, i) => (s.kind === 'new' || orphan(s, i)) && alertRank(batch[i]!.severity) >= threshold)) {
    for (const inc of await openIncidents(app.db)) if (!openBySystem.has(inc.system)) openBySystem.set(inc.system, inc.id);
  }
  const links: IncidentLink[] = [];
  try {
    for (let i = 0; i < batch.length; i++) {
      if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
      const a = batch[i]!;
      const s = stored[i]!;
      const row = s.row;
      const fingerprint = a.fingerprint;
      const incident = row?.incident ? { incident: row.incident } : {};
      if (s.kind === 'cleared') {
        results[i] = { alert: row?.id ?? '', fingerprint, action: 'cleared', ...incident };
        continue;
      }
      if (s.kind === 'repeat' && !orphan(s, i)) {
        results[i] = { alert: row!.id, fingerprint, action: 'repeat', count: s.count, ...incident };
        continue;
      }
      const id = row!.id;
      const lang: Lang = detectLang(a.title);
      const rank = alertRank(a.severity);
      if (rank >= threshold) {
        const already = openBySystem.get(a.system);
        if (already) {
          row!.incident = already;
          links.push({ alert: id, incident: already, timeline: { at: now, actor: 'alerting', kind: 'alert', text: `${a.severity} ${a.title}`, data: { alert: id, fingerprint } } });
          results[i] = { alert: id, fingerprint, action: 'attached', incident: already };
          continue;
        }
        const declared = await declareIncident(app, {
          platform: primaryPlatform(deps),
          severity: severityForAlert(a.severity),
          system: a.system,
          title: a.title,
          actor: 'alerting',
          source: 'alert',
          lang,
          alert: { id, startsAt: a.startsAt },
        });
        row!.incident = declared.incident.id;
        openBySystem.set(a.system, declared.incident.id);
        links.push({ alert: id, incident: declared.incident.id });
        results[i] = { alert: id, fingerprint, action: 'declared', incident: declared.incident.id };
        continue;
      }
      if (rank >= minor) {
        const platform = primaryPlatform(deps);
        const status = platform?.statusRoom();
        if (platform && status) {
          await platform
            .post(status, {
              lang,
              title: t(lang, `告警：${systems[i]!.name}`, `Alert: ${systems[i]!.name}`),
              text: `${a.severity} · ${a.title}`,
              fields: [{ label: t(lang, '开始', 'Since'), value: formatShort(a.startsAt, app.config.WARROOM_TIMEZONE, lang) }],
              context: [t(lang, `低于自动申报级别（${app.config.WARROOM_ALERT_MIN_SEVERITY}）；需要时请申报。`, `Below the automatic declaration level (${app.config.WARROOM_ALERT_MIN_SEVERITY}); declare if needed.`)],
              buttons: [{ actionId: ACTIONS.declareAlert, label: t(lang, '申报故障', 'Declare incident'), value: id, style: 'danger' }],
            })
            .catch((err: unknown) => app.logger.warn({ alert: id, err: errorMessage(err) }, 'alert post failed'));
          results[i] = { alert: id, fingerprint, action: 'offered' };
          continue;
        }
      }
      results[i] = { alert: id, fingerprint, action: 'stored' };
    }
  } finally {
    // Also when a declaration failed half-way through the batch: what was decided before it is kept.
    await writeIncidentLinks(app.db, links);
  }
  return results;
}

/** The Declare button on an alert message. */
export async function declareFromAlert(deps: IncidentDeps, platform: ChatPlatform | undefined, alertId: string, actor: string, lang: Lang): Promise<string> {
  const app = deps.app;
  const rows = await app.db.query<{ id: string; system: string; severity: string; title: string; starts_at: Date; incident_id: string | null }>(
    'SELECT id, system, severity, title, starts_at, incident_id FROM alerts WHERE id = $1',
    [alertId],
  );
  const alert = rows[0];
  if (!alert) throw new WarroomError('unknown_alert', t(lang, `没有告警 ${alertId}。`, `No alert ${alertId}.`));
  if (alert.incident_id) return t(lang, `该告警已在故障 ${alert.incident_id} 中处理。`, `This alert is already handled in ${alert.incident_id}.`);
  await authorize(app, { id: actor, lang }, { kind: 'declare', severity: severityForAlert(alert.severity) }, { system: alert.system });
  const result = await declareIncident(app, { platform, severity: severityForAlert(alert.severity), system: alert.system, title: alert.title, actor, source: 'button', lang, alert: { id: alert.id, startsAt: alert.starts_at } });
  await app.db.query('UPDATE alerts SET incident_id = $2 WHERE id = $1', [alert.id, result.incident.id]);
  return t(lang, `${actor} 根据告警申报了 ${result.incident.id}，故障群 ${result.room?.name ?? '（未建）'}。`, `${actor} declared ${result.incident.id} from the alert; room ${result.room?.name ?? '(none)'}.`);
}
