import { afterAll, beforeAll } from 'vitest';
import { type App } from '../../tools/services.js';
import { createApp } from '../../app/create-app.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Db } from '../../db/db.js';
import { loadDemo } from '../../db/demo.js';
import { shippedRunbooksDir } from '../../core/paths.js';
import { ingestRunbooks } from '../../knowledge/ingest.js';
import type { IncomingMessage, OutgoingMessage } from '../../bot/messages.js';
import { handleMessage } from '../../bot/conversation.js';
import { createTestPglite } from './db.js';
import { renderText } from '../../bot/render/text.js';

/** The demo's "current" moment: Monday 2026-11-23, ten minutes after the open. */
export const DEMO_NOW = new Date('2026-11-23T09:40:00+08:00');

export interface TestAppOptions {
  now?: Date;
  /** A clock the test moves (overrides `now`). */
  clock?: () => Date;
  env?: NodeJS.ProcessEnv;
}

export async function createTestApp(db: Db, options: TestAppOptions = {}): Promise<App> {
  const config = loadConfig({ WARROOM_HOME: '/nonexistent', ...(options.env ?? {}) });
  const now = options.now ?? DEMO_NOW;
  return createApp(config, { db, logger: createLogger('silent'), clock: options.clock ?? (() => now) });
}

/** The demo data (dates as written) and, unless `runbooks: false`, the shipped runbooks. */
export async function createDemoApp(db: Db, options: Date | (TestAppOptions & { runbooks?: boolean }) = DEMO_NOW): Promise<App> {
  const o = options instanceof Date ? { now: options } : options;
  const app = await createTestApp(db, o);
  await loadDemo(db, app.calendar, { shift: false });
  if (o.runbooks !== false) await ingestRunbooks(db, shippedRunbooksDir, app.embedder);
  return app;
}

/** Send one chat line as a user and get the replies as the terminal shows them. */
export async function say(app: App, text: string, userId = 'songkai', platform: IncomingMessage['user']['platform'] = 'cli'): Promise<{ messages: OutgoingMessage[]; text: string }> {
  const messages = await handleMessage(app, { user: { platform, id: userId }, room: { platform, id: 'test', kind: 'dm' }, text });
  return { messages, text: messages.map(renderText).join('\n\n') };
}

/**
 * For a describe block: a fresh embedded database with the demo data and runbooks, opened before
 * the block's tests and closed after them. `ready` receives the database and the app.
 */
export function useDemoApp(ready: (db: Db, app: App) => void, now: Date = DEMO_NOW): void {
  let db: Db | undefined;
  beforeAll(async () => {
    db = await createTestPglite();
    ready(db, await createDemoApp(db, now));
  });
  afterAll(async () => db?.close());
}
