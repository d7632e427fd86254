import type { Bot } from '../../bot/bot.js';
import { declareIncident } from '../../bot/incidents/declare.js';
import type { Severity } from '../../bot/incidents/policy.js';
import type { Lang, Platform } from '../../bot/messages.js';
import type { Db } from '../../db/db.js';

export interface DeclareForTest {
  /** The platform whose room it opens (its name on the bot); none: the incident has no room. */
  platform?: Platform;
  severity?: Severity;
  /** System id, name or alias. */
  system?: string;
  title?: string;
  actor?: string;
  lang?: Lang;
}

export interface DeclaredForTest {
  id: string;
  /** The room's id on its platform ('' without a platform). */
  roomId: string;
  /** The room's name on its platform, e.g. inc-20261123-001-jzjy. */
  roomName: string;
}

/**
 * A test's own incident, declared through the same flow `/incident declare` runs (room, on-call
 * people by role, pinned card, announcement), without going through a chat platform's request
 * path: for tests whose subject is what happens after the declaration. The defaults are the demo's
 * story: songkai declares P1 集中交易 开盘委托大量失败 (onset: the first jzjy alert, 09:24:50).
 */
export async function declareForTest(bot: Bot, input: DeclareForTest = {}): Promise<DeclaredForTest> {
  const platform = input.platform ? bot.platforms.get(input.platform) : undefined;
  if (input.platform && !platform) throw new Error(`declareForTest: the bot has no ${input.platform} platform (it has ${[...bot.platforms.keys()].join(', ') || 'none'})`);
  const result = await declareIncident(bot.app, {
    platform,
    severity: input.severity ?? 'P1',
    system: input.system ?? 'jzjy',
    title: input.title ?? '开盘委托大量失败',
    actor: input.actor ?? 'songkai',
    source: 'command',
    lang: input.lang ?? 'zh',
  });
  if (result.warnings.length && platform) throw new Error(`declareForTest: ${result.warnings.join('; ')}`);
  return { id: result.incident.id, roomId: result.room?.id ?? '', roomName: result.room?.name ?? '' };
}

/**
 * Teardown for suites that share a database: whatever a test left open is closed, so the next
 * test's timers, status answers and alert routing see only its own incident.
 */
export async function closeOpenIncidents(db: Db): Promise<void> {
  await db.query("UPDATE incidents SET status = 'resolved', resolved_at = COALESCE(resolved_at, opened_at) WHERE status <> 'resolved'");
}
