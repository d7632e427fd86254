import { errorMessage } from '../../core/errors.js';
import { formatShort } from '../../core/time.js';
import type { IncidentDeps } from './deps.js';
import { t } from '../messages.js';
import { incidentFacts, incidentPolicy } from './facts.js';
import { draftUpdateFor } from './flows.js';
import { addTimeline, claimNudge, langOf, openIncidents, recordMessage, type RoleRow } from './store.js';
import { nudgeView, personLabel } from './views.js';
import type { Stage } from './policy.js';
import { resumeDeclarations } from './declare.js';

/** A role row carries the person's platform ids already. */
const personOf = (r: RoleRow) => ({ id: r.person, slack: r.slack, wecom: r.wecom });

export interface TimerRun {
  nudged: Array<{ incident: string; stage: Stage }>;
  drafted: Array<{ incident: string; draftId: number; to: string | null }>;
  /** Declarations a crash or a failing chat API had left half-done, finished in this pass. */
  resumed: string[];
}

/**
 * One pass of the stage timers and update reminders, as GF's robot does: when a stage overruns
 * its limit the room and the commander are nudged (once per stage), and when a status update is
 * due the communications lead gets a draft to edit and post (once per due time). Declarations
 * left unfinished (no room yet, no card) are finished first.
 */
export async function runIncidentTimers(deps: IncidentDeps): Promise<TimerRun> {
  const app = deps.app;
  const now = app.clock();
  const policy = incidentPolicy(app.config);
  // First the incidents whose room, card or announcement is missing: the nudges below go to rooms.
  const resumed = await resumeDeclarations(deps).catch((err: unknown) => {
    app.logger.error({ err: errorMessage(err) }, 'resuming unfinished declarations failed');
    return [];
  });
  const run: TimerRun = { nudged: [], drafted: [], resumed };
  for (const incident of await openIncidents(app.db)) {
    try {
      const facts = await incidentFacts(app.db, incident, now, policy);
      const room = incident.room;
      const platform = room ? deps.platforms.get(room.platform) : undefined;
      const lang = langOf(incident);
      const commander = facts.roles.find((r) => r.role === 'incident-commander');
      const commsLead = facts.roles.find((r) => r.role === 'communications-lead') ?? commander;

      if (facts.stageOverdue && facts.stage !== 'review' && (await claimNudge(app.db, incident.id, facts.stage, now))) {
        const message = nudgeView(facts, facts.stage, commander ? personLabel(commander) : undefined, lang);
        if (platform && room) {
          const ref = await platform.post({ platform: room.platform, id: room.id }, message);
          await recordMessage(app.db, incident.id, 'nudge', ref);
          const uid = commander ? platform.userIdOf(personOf(commander)) : undefined;
          if (uid) await platform.sendDirect(uid, message);
        }
        await addTimeline(app.db, incident.id, { at: now, actor: 'warroom', kind: 'nudge', text: message.title ?? 'nudge', data: { stage: facts.stage, elapsed: facts.elapsedMinutes, limit: facts.stageLimit } });
        run.nudged.push({ incident: incident.id, stage: facts.stage });
      }

      if (facts.nextUpdateDue && facts.nextUpdateDue <= now && (await claimNudge(app.db, incident.id, `update@${facts.nextUpdateDue.toISOString()}`, now))) {
        const { draftId, message } = await draftUpdateFor(deps, incident.id, lang);
        let to: string | null = null;
        if (platform && room && commsLead) {
          const uid = platform.userIdOf(personOf(commsLead));
          if (uid) {
            const ref = await platform.sendDirect(uid, message);
            await recordMessage(app.db, incident.id, 'draft', ref);
            to = commsLead.person;
          }
          await platform.post(
            { platform: room.platform, id: room.id },
            {
              lang,
              text: t(
                lang,
                `📝 通报时间到（${formatShort(facts.nextUpdateDue, app.config.WARROOM_TIMEZONE, lang)}）：已为 ${personLabel(commsLead)} 起草通报，请审核后发布。`,
                `📝 A status update is due (${formatShort(facts.nextUpdateDue, app.config.WARROOM_TIMEZONE, lang)}): a draft went to ${personLabel(commsLead)} to review and post.`,
              ),
            },
          );
        }
        await addTimeline(app.db, incident.id, { at: now, actor: 'warroom', kind: 'draft', text: t(lang, `起草通报 #${draftId}`, `Drafted update #${draftId}`), data: { draftId, to } });
        run.drafted.push({ incident: incident.id, draftId, to });
      }
    } catch (err) {
      app.logger.error({ incident: incident.id, err: errorMessage(err) }, 'incident timer failed');
    }
  }
  return run;
}

/** Run the timers every `seconds` until stopped; a slow pass is never overlapped by the next. */
export function startIncidentTimers(deps: IncidentDeps, seconds: number): { stop(): void } {
  let running = false;
  const handle = setInterval(() => {
    if (running) return;
    running = true;
    runIncidentTimers(deps)
      .catch((err: unknown) => deps.app.logger.error({ err: errorMessage(err) }, 'incident timers failed'))
      .finally(() => {
        running = false;
      });
  }, seconds * 1000);
  handle.unref();
  return { stop: () => clearInterval(handle) };
}
