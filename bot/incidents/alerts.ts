import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errorMessage, WarroomError } from '../../core/errors.js';
import { formatShort } from '../../core/time.js';
import { resolveSystem } from '../../tools/oncall/systems.js';
import type { IncidentDeps } from './deps.js';
import { authorize } from './permissions.js';
import { detectLang, t, type Lang } from '../messages.js';
import type { ChatPlatform } from '../platforms/platform.js';
import { declareIncident } from './declare.js';
import { alertRank, severityForAlert } from './policy.js';
import { addTimeline, openIncidents } from './store.js';
import { ACTIONS } from './views.js';

/** One alert as Warroom takes it (POST /api/alerts); Alertmanager's webhook body is accepted too. */
export const incomingAlertSchema = z.object({
  id: z.string().min(1).max(200).optional(),
  fingerprint: z.string().min(1).max(200).optional(),
  system: z.string().min(1).max(200),
  severity: z.string().min(1).max(40),
  title: z.string().min(1).max(500),
  startsAt: z.string().datetime({ offset: true }).optional(),
  endsAt: z.string().datetime({ offset: true }).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  labels: z.record(z.string()).optional(),
});
export type IncomingAlert = z.infer<typeof incomingAlertSchema>;

const alertmanagerSchema = z.object({
  alerts: z.array(
    z.object({
      status: z.enum(['firing', 'resolved']).optional(),
      labels: z.record(z.string()),
      annotations: z.record(z.string()).optional(),
      startsAt: z.string().optional(),
      endsAt: z.string().optional(),
      fingerprint: z.string().optional(),
    }),
  ),
});

const isoOrUndefined = (s: string | undefined) => (s && !s.startsWith('0001-') && !Number.isNaN(Date.parse(s)) ? new Date(s).toISOString() : undefined);

/** Read a request body: one alert, an array of them, or an Alertmanager webhook. Bad fields are named. */
export function parseAlertBody(body: unknown): IncomingAlert[] {
  const am = alertmanagerSchema.safeParse(body);
  if (am.success && typeof body === 'object' && body !== null && 'alerts' in body) {
    return am.data.alerts.map((a, i) => {
      const system = a.labels.system ?? a.labels.service ?? a.labels.app;
      if (!system) throw new WarroomError('invalid_body', `alerts[${i}].labels: needs a "system" (or "service") label naming the system.`, { status: 400 });
      return incomingAlertSchema.parse({
        fingerprint: a.fingerprint,
        system,
        severity: a.labels.severity ?? 'warning',
        title: a.annotations?.summary ?? a.labels.alertname ?? 'alert',
        startsAt: isoOrUndefined(a.startsAt),
        endsAt: a.status === 'resolved' ? isoOrUndefined(a.endsAt) : undefined,
        status: a.status,
        labels: a.labels,
      });
    });
  }
  const items = Array.isArray(body) ? body : [body];
  if (!items.length) throw new WarroomError('invalid_body', 'The array is empty: no alerts.', { status: 400 });
  return items.map((item, i) => {
    const r = incomingAlertSchema.safeParse(item);
    if (r.success) return r.data;
    const detail = r.error.issues.map((x) => `${Array.isArray(body) ? `[${i}].` : ''}${x.path.join('.') || '(alert)'}: ${x.message}`).join('; ');
    throw new WarroomError('invalid_body', `Invalid alert: ${detail}`, { status: 400, hint: 'An alert needs system, severity and title; see README.md ("Alerts").' });
  });
}

export interface AlertOutcome {
  alert: string;
  fingerprint: string;
  /** declared: a new incident room; attached: joined an open incident of the system; repeat: count raised; offered: posted with a Declare button; stored: below the threshold; cleared: resolved. */
  action: 'declared' | 'attached' | 'repeat' | 'offered' | 'stored' | 'cleared';
  incident?: string;
  count?: number;
}

function fingerprintOf(a: IncomingAlert, system: string): string {
  if (a.fingerprint) return a.fingerprint;
  const labels = Object.entries(a.labels ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return createHash('sha256').update(JSON.stringify([system, a.title, labels])).digest('hex').slice(0, 16);
}

/** The platform where rooms for alerts open: Slack, else WeCom, else the local chat. */
export function primaryPlatform(deps: IncidentDeps): ChatPlatform | undefined {
  return deps.platforms.get('slack') ?? deps.platforms.get('wecom') ?? deps.platforms.get('local');
}

/**
 * Store an alert, deduplicated by fingerprint: a repeat of an open alert raises its count and
 * never opens a second room. A new alert at or above WARROOM_ALERT_MIN_SEVERITY opens an
 * incident room, unless the system already has an open incident, which it then joins.
 */
export async function ingestAlert(deps: IncidentDeps, a: IncomingAlert): Promise<AlertOutcome> {
  const app = deps.app;
  const now = app.clock();
  const system = await resolveSystem(app.db, a.system);
  const fingerprint = fingerprintOf(a, system.id);
  const startsAt = a.startsAt ? new Date(a.startsAt) : now;
  const resolved = a.status === 'resolved' || Boolean(a.endsAt);

  const stored = await app.db.transaction(async (tx) => {
    if (app.db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`warroom:alert:${fingerprint}`]);
    const open = await tx.query<{ id: string; repeat_count: number; incident_id: string | null }>(
      `SELECT id, repeat_count, incident_id FROM alerts WHERE fingerprint = $1 AND (ends_at IS NULL OR ends_at > $2) ORDER BY starts_at DESC LIMIT 1`,
      [fingerprint, now],
    );
    const existing = open[0];
    if (existing) {
      const rows = await tx.query<{ repeat_count: number }>(
        `UPDATE alerts SET repeat_count = repeat_count + 1, last_seen_at = $2, ends_at = COALESCE($3, ends_at), updated_at = now() WHERE id = $1 RETURNING repeat_count`,
        [existing.id, now, resolved ? (a.endsAt ? new Date(a.endsAt) : now) : null],
      );
      return { id: existing.id, isNew: false, count: rows[0]!.repeat_count, incident: existing.incident_id };
    }
    if (resolved) return { id: '', isNew: false, count: 0, incident: null };
    const id = a.id ?? `ALT-${fingerprint}-${startsAt.getTime().toString(36)}`;
    await tx.query(
      `INSERT INTO alerts (id, fingerprint, system, severity, title, starts_at, labels, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
       ON CONFLICT (id) DO UPDATE SET repeat_count = alerts.repeat_count + 1, last_seen_at = EXCLUDED.last_seen_at`,
      [id, fingerprint, system.id, a.severity, a.title, startsAt, JSON.stringify(a.labels ?? {}), now],
    );
    return { id, isNew: true, count: 1, incident: null as string | null };
  });

  if (resolved) return { alert: stored.id, fingerprint, action: 'cleared', ...(stored.incident ? { incident: stored.incident } : {}) };
  if (!stored.isNew) return { alert: stored.id, fingerprint, action: 'repeat', count: stored.count, ...(stored.incident ? { incident: stored.incident } : {}) };

  const lang: Lang = detectLang(a.title);
  const rank = alertRank(a.severity);
  const threshold = alertRank(app.config.WARROOM_ALERT_MIN_SEVERITY);
  if (rank >= threshold) {
    const [already] = await openIncidents(app.db, system.id);
    if (already) {
      await app.db.query('UPDATE alerts SET incident_id = $2 WHERE id = $1', [stored.id, already.id]);
      await addTimeline(app.db, already.id, { at: now, actor: 'alerting', kind: 'alert', text: `${a.severity} ${a.title}`, data: { alert: stored.id, fingerprint } });
      return { alert: stored.id, fingerprint, action: 'attached', incident: already.id };
    }
    const result = await declareIncident(app, {
      platform: primaryPlatform(deps),
      severity: severityForAlert(a.severity),
      system: system.id,
      title: a.title,
      actor: 'alerting',
      source: 'alert',
      lang,
      alert: { id: stored.id, startsAt },
    });
    await app.db.query('UPDATE alerts SET incident_id = $2 WHERE id = $1', [stored.id, result.incident.id]);
    return { alert: stored.id, fingerprint, action: 'declared', incident: result.incident.id };
  }
  if (rank >= alertRank('minor')) {
    const platform = primaryPlatform(deps);
    const status = platform?.statusRoom();
    if (platform && status) {
      await platform
        .post(status, {
          lang,
          title: t(lang, `告警：${system.name}`, `Alert: ${system.name}`),
          text: `${a.severity} · ${a.title}`,
          fields: [{ label: t(lang, '开始', 'Since'), value: formatShort(startsAt, app.config.WARROOM_TIMEZONE, lang) }],
          context: [t(lang, `低于自动申报级别（${app.config.WARROOM_ALERT_MIN_SEVERITY}）；需要时请申报。`, `Below the automatic declaration level (${app.config.WARROOM_ALERT_MIN_SEVERITY}); declare if needed.`)],
          buttons: [{ actionId: ACTIONS.declareAlert, label: t(lang, '申报故障', 'Declare incident'), value: stored.id, style: 'danger' }],
        })
        .catch((err: unknown) => app.logger.warn({ alert: stored.id, err: errorMessage(err) }, 'alert post failed'));
      return { alert: stored.id, fingerprint, action: 'offered' };
    }
  }
  return { alert: stored.id, fingerprint, action: 'stored' };
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
