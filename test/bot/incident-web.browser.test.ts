import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../tools/services.js';
import type { Db } from '../../db/db.js';
import { startWarroom, type RunningWarroom } from '../../app/warroom.js';
import { createDemoApp, DEMO_NOW } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { expectScreenshotAndLocalOnly, hasChromium, launchChromium, requireChromium } from '../helpers/chromium.js';
import { closeOpenIncidents, declareForTest } from '../helpers/incident.js';
import { signIn } from '../helpers/web-session.js';

/**
 * The incident flow in the local web chat, as its users see it in a real browser: Debian's
 * `chromium` driven by playwright-core (no browser download), against `startWarroom` with the web
 * chat as its only platform. One browser context per person, each signed in with its own link (`as` the person).
 * `scripts/test-all.sh` installs Chromium and sets WARROOM_INTEGRATION=1, so there a missing browser
 * fails; elsewhere the test is skipped with a message. One database, server and browser for the
 * file; each test declares its own incident (09:40, songkai, P1 集中交易), opens its own pages and
 * replays what it builds on with the same clock; pages and open incidents are closed after it.
 */
requireChromium('incident flow in the web chat, in headless Chromium');

const INCIDENT_ID = /INC-20261123-\d{3}/;
/** Long enough for the declaration (localization card, runbook search) on a slow machine. */
const SLOW = 20_000;

describe.skipIf(!hasChromium)('incident flow in the web chat, in headless Chromium', () => {
  let db: Db | undefined;
  let app: App;
  let warroom: RunningWarroom | undefined;
  let browser: Browser | undefined;
  let base: string;
  let tmp: string | undefined;
  let clock = DEMO_NOW;
  const minutesLater = (m: number) => new Date(DEMO_NOW.getTime() + m * 60_000);

  // This test's pages, the requests they made and what they threw; its incident and room.
  const pages = new Map<string, Page>();
  const contexts: BrowserContext[] = [];
  const requests: string[] = [];
  const pageErrors: string[] = [];
  let incidentId = '';
  let roomId = '';

  /** A person's own browser context and page, opened on /chat as them, with live updates connected. */
  async function openAs(person: string): Promise<Page> {
    // Warroom's own time zone, so the times on messages read like the times in the cards.
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (err) => pageErrors.push(`${person}: ${err.message}`));
    // Each person's browser signs in with its own one-time link.
    await page.goto((await warroom!.signInLink!(person)).url);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await page.locator('[data-testid="person-select"]').inputValue()).toBe(person);
    pages.set(person, page);
    return page;
  }

  const room = (page: Page, id: string) => page.locator(`[data-testid="room-list"] [data-testid="room"][data-room-id="${id}"]`);

  async function enterRoom(page: Page, id: string): Promise<void> {
    await room(page, id).click();
    await page.locator(`[data-testid="room"][data-room-id="${id}"][data-active="true"]`).waitFor();
  }

  async function send(page: Page, text: string): Promise<void> {
    const input = page.locator('[data-testid="composer-input"]');
    await input.fill(text);
    await page.locator('[data-testid="send-button"]').click();
    // The user's own line shows up first, then the bot's answer.
    await page.locator('[data-testid="messages"] [data-testid="message"]').filter({ hasText: text }).first().waitFor();
    expect(await input.inputValue()).toBe('');
  }

  const botMessages = (page: Page) => page.locator('[data-testid="messages"] [data-testid="message"][data-author="warroom"]');
  const pinnedCard = (page: Page) => page.locator('[data-testid="pinned"] [data-testid="message"][data-pinned="true"]').filter({ has: page.locator('[data-testid="message-title"]', { hasText: incidentId }) });
  /** The value cell of a card field, by its exact label. */
  const field = (card: Locator, label: string) => card.locator('[data-testid="message-field"]').filter({ has: card.page().locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');
  const button = (card: Locator, label: string) => card.locator('[data-testid="message-button"]', { hasText: new RegExp(`^${label}$`) });

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'warroom-incident-web-'));
    db = await createTestPglite();
    // No Slack or WeCom configured: the local web chat is the platform (WARROOM_WEB_CHAT=auto).
    app = await createDemoApp(db, { clock: () => clock });
    warroom = await startWarroom(app, { port: 0, host: '127.0.0.1', timers: false });
    expect(warroom.platforms.names).toEqual(['local']);
    base = `http://127.0.0.1:${warroom.port}`;
    browser = await launchChromium();
  });

  beforeEach(() => {
    clock = DEMO_NOW;
    incidentId = '';
    roomId = '';
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
    pages.clear();
    requests.length = 0;
    pageErrors.length = 0;
    if (db) await closeOpenIncidents(db);
  });

  /** The test's own incident, declared at 09:40 with its room in the web chat. */
  async function declared(): Promise<void> {
    ({ id: incidentId, roomId } = await declareForTest(warroom!.bot, { platform: 'local' }));
    expect(roomId).toBe(`${incidentId.toLowerCase()}-jzjy`);
  }

  /** songkai's page, open on the incident room with its pinned card. */
  async function songkaiInRoom(): Promise<Page> {
    const page = await openAs('songkai');
    await enterRoom(page, roomId);
    await pinnedCard(page).waitFor({ timeout: SLOW });
    return page;
  }

  /** 09:43: songkai, who is not the commander, presses 已定位 and is refused. */
  async function songkaiRefused(): Promise<void> {
    clock = minutesLater(3);
    const page = await songkaiInRoom();
    const card = pinnedCard(page);
    await button(card, '已定位').click();
    await botMessages(page).filter({ hasText: '只有' }).waitFor({ timeout: SLOW });
    await button(card, '已定位').and(page.locator('[data-state="ready"]')).waitFor();
  }

  /** 09:52: the commander moves the incident to 已定位 (the card's button, by way of the chat API). */
  async function identifiedByCommander(): Promise<void> {
    clock = minutesLater(12);
    const xieping = await signIn(base, () => warroom!.signInLink!(), 'xieping');
    const res = await xieping.post('/chat/api/send', { room: roomId, text: '/incident status identified' });
    expect(res.status).toBe(202);
    await warroom!.platforms.settled();
    const [row] = await db!.query<{ status: string }>('SELECT status FROM incidents WHERE id = $1', [incidentId]);
    expect(row!.status).toBe('identified');
  }

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await warroom?.close().catch(() => {});
    await db?.close().catch(() => {});
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('songkai declares in #general: he gets the reply with the incident id and the new room with the pinned card', async () => {
    const page = await openAs('songkai');
    await enterRoom(page, 'general');
    await send(page, '/incident declare P1 集中交易 开盘委托大量失败');

    const reply = botMessages(page).filter({ hasText: INCIDENT_ID }).filter({ hasText: '申报了 P1 故障' });
    await reply.waitFor({ timeout: SLOW });
    const replyText = (await reply.locator('[data-testid="message-text"]').textContent()) ?? '';
    incidentId = INCIDENT_ID.exec(replyText)![0];
    expect(replyText).toContain('songkai');
    expect(replyText).toContain('开盘委托大量失败');
    expect(await reply.getAttribute('data-private')).toBe('false');

    // The incident room shows up in his room list by itself, with him in it.
    const incidentRoom = page.locator('[data-testid="room-list"] [data-testid="room"][data-kind="incident"]').filter({ hasText: incidentId });
    await incidentRoom.waitFor({ timeout: SLOW });
    roomId = (await incidentRoom.getAttribute('data-room-id'))!;
    expect(roomId).toBe(`${incidentId.toLowerCase()}-jzjy`);
    expect(await incidentRoom.getAttribute('data-joined')).toBe('true');

    await enterRoom(page, roomId);
    const card = pinnedCard(page);
    await card.waitFor({ timeout: SLOW });
    expect(await card.getAttribute('data-author')).toBe('warroom');
    const title = (await card.locator('[data-testid="message-title"]').textContent()) ?? '';
    expect(title).toContain(incidentId);
    expect(title).toContain('P1');
    expect(title).toContain('集中交易');
    expect(title).toContain('开盘委托大量失败');
    expect(await field(card, '级别').textContent()).toBe('P1');
    expect(await field(card, '状态').textContent()).toBe('调查中');
    expect(await field(card, '故障指挥').textContent()).toContain('xieping');

    // The localization part: changes of the last trading days (with change tickets) and runbooks.
    const sections = card.locator('[data-testid="message-section"]');
    const changes = sections.filter({ has: page.locator('h4', { hasText: /交易日.*变更/ }) });
    expect(await changes.count()).toBe(1);
    expect(await changes.locator('li').first().textContent()).toMatch(/CAB-\d{8}-\d{3}/);
    const runbooks = sections.filter({ has: page.locator('h4', { hasText: '推荐应急手册' }) });
    expect(await runbooks.count()).toBe(1);
    expect(await runbooks.locator('li').count()).toBeGreaterThan(0);

    const labels = await card.locator('[data-testid="message-button"]').allTextContents();
    expect(labels).toEqual(['我来指挥', '已定位', '已缓解', '起草通报', '已解决']);
    expect(await button(card, '已定位').getAttribute('data-action-id')).toBe('incident.status');
    expect(await button(card, '已定位').getAttribute('data-value')).toBe(`${incidentId}|identified`);
    for (const b of await card.locator('[data-testid="message-button"]').all()) expect(await b.isEnabled()).toBe(true);
  });

  it('songkai, who is not the commander, presses 已定位: only he sees a refusal and the card stays 调查中', async () => {
    await declared();
    clock = minutesLater(3);
    const page = await songkaiInRoom();
    const card = pinnedCard(page);
    await button(card, '已定位').click();

    const refusal = botMessages(page).filter({ hasText: '只有' });
    await refusal.waitFor({ timeout: SLOW });
    expect(await refusal.getAttribute('data-private')).toBe('true');
    expect(await refusal.locator('[data-testid="private-note"]').textContent()).toBe('only you can see this');
    const refusalText = (await refusal.locator('[data-testid="message-text"]').textContent()) ?? '';
    expect(refusalText).toContain('故障指挥');
    expect(refusalText).toContain(incidentId);

    // The press is over: the buttons can be pressed again, and nothing changed.
    await button(card, '已定位').and(page.locator('[data-state="ready"]')).waitFor();
    expect(await field(card, '状态').textContent()).toBe('调查中');
    expect(await botMessages(page).filter({ hasText: '→ 已定位' }).count()).toBe(0);
  });

  it('xieping, the commander, opens the room in his own page and presses 已定位: the room hears it and the card updates live', async () => {
    await declared();
    await songkaiRefused();
    clock = minutesLater(12);
    const page = await openAs('xieping');
    const listed = room(page, roomId);
    await listed.waitFor();
    expect(await listed.getAttribute('data-joined')).toBe('true');
    await enterRoom(page, roomId);
    const card = pinnedCard(page);
    await card.waitFor();
    expect(await field(card, '状态').textContent()).toBe('调查中');
    // songkai's refusal was his alone.
    expect(await page.locator('[data-testid="message"]').filter({ hasText: '只有' }).count()).toBe(0);

    // A mark that a page load would wipe out: the update below must arrive without one.
    await page.evaluate(() => {
      (window as unknown as { __sameDocument?: boolean }).__sameDocument = true;
    });
    await button(card, '已定位').click();

    const change = botMessages(page).filter({ hasText: '调查中 → 已定位' });
    await change.waitFor({ timeout: SLOW });
    expect(await change.textContent()).toContain(incidentId);
    expect(await change.getAttribute('data-private')).toBe('false');
    await field(card, '状态').filter({ hasText: /^已定位$/ }).waitFor({ timeout: SLOW });
    // Identified: that button is gone, the rest are there and pressable again.
    await button(card, '我来指挥').and(page.locator('[data-state="ready"]')).waitFor();
    expect(await card.locator('[data-testid="message-button"]').allTextContents()).toEqual(['我来指挥', '已缓解', '起草通报', '已解决']);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);

    // songkai, still looking at the room, sees the same change without doing anything.
    const songkai = pages.get('songkai')!;
    await botMessages(songkai).filter({ hasText: '调查中 → 已定位' }).waitFor({ timeout: SLOW });
    await field(pinnedCard(songkai), '状态').filter({ hasText: /^已定位$/ }).waitFor({ timeout: SLOW });

    // The one thing no page shows: the refused press is in the audit log, the commander's is too.
    const audit = await db!.query<{ actor: string; outcome: string }>("SELECT actor, outcome FROM audit_log WHERE action = 'incident.status' AND target = $1 ORDER BY id", [incidentId]);
    expect(audit).toEqual([
      { actor: 'songkai', outcome: 'denied' },
      { actor: 'xieping', outcome: 'ok' },
    ]);
  });

  it('yangguang, a manager, asks 现在什么情况 in his DM and sees the incident with its severity and status', async () => {
    await declared();
    await identifiedByCommander();
    clock = minutesLater(15);
    const page = await openAs('yangguang');
    await page.locator('[data-testid="room"][data-room-id="dm-yangguang"][data-active="true"]').waitFor();
    // Not in the incident's on-call: the room is listed for reading, not joined.
    expect(await room(page, roomId).getAttribute('data-joined')).toBe('false');
    await send(page, '现在什么情况');

    const answer = botMessages(page).filter({ has: page.locator('[data-testid="message-section"] h4', { hasText: incidentId }) });
    await answer.waitFor({ timeout: SLOW });
    expect(await answer.locator('[data-testid="message-title"]').textContent()).toBe('当前未解决的故障');
    const section = answer.locator('[data-testid="message-section"]').filter({ has: page.locator('h4', { hasText: incidentId }) });
    const heading = (await section.locator('h4').textContent()) ?? '';
    expect(heading).toContain('P1');
    expect(heading).toContain('集中交易');
    expect(heading).toContain('开盘委托大量失败');
    const lines = await section.locator('li').allTextContents();
    expect(lines[0]).toMatch(/^状态：已定位/);
    expect(lines.join('\n')).toContain('xieping');
  });

  it("takes a screenshot of xieping's page, and the pages loaded nothing from anywhere but Warroom", async () => {
    await declared();
    await identifiedByCommander();
    const page = await openAs('xieping');
    await enterRoom(page, roomId);
    await field(pinnedCard(page), '状态').filter({ hasText: /^已定位$/ }).waitFor();
    const file = join(tmp!, 'incident-web-xieping.png');
    await page.screenshot({ path: file, fullPage: true });
    expectScreenshotAndLocalOnly(file, requests, base, pageErrors);
  });
});
