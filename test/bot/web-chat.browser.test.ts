import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachPlatform, createBot, type Bot } from '../../bot/bot.js';
import { createLocalChatPlatform, type LocalChat } from '../../bot/platforms/local/index.js';
import type { ChatEvent } from '../../bot/platforms/platform.js';
import type { App } from '../../tools/services.js';
import { startHttpServer } from '../../server/http.js';
import { createDemoApp } from '../helpers/app.js';
import { createTestPglite } from '../helpers/db.js';
import { expectScreenshotAndLocalOnly, hasChromium, launchChromium, requireChromium } from '../helpers/chromium.js';

/**
 * The web chat in a real browser: Debian's `chromium` driven by playwright-core (no browser download).
 * `scripts/test-all.sh` installs it and sets WARROOM_INTEGRATION=1, so there a missing browser fails;
 * elsewhere the test is skipped with a message.
 */
requireChromium('web chat in headless Chromium');

describe.skipIf(!hasChromium)('web chat in headless Chromium', () => {
  let app: App | undefined;
  let bot: Bot;
  let chat: LocalChat | undefined;
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;
  let tmp: string | undefined;
  const actions: Extract<ChatEvent, { kind: 'action' }>[] = [];
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'warroom-web-chat-'));
    app = await createDemoApp(await createTestPglite());
    bot = createBot(app);
    const real = bot.handle.bind(bot);
    // Button presses answer after a moment, so the page's pressed state can be seen; the rest is the real bot.
    bot.handle = async (e) => {
      if (e.kind !== 'action') return real(e);
      actions.push(e);
      await new Promise((r) => setTimeout(r, 700));
      return [{ message: { text: `pressed ${e.actionId} ${e.value}` } }];
    };
    chat = createLocalChatPlatform(bot);
    attachPlatform(bot, chat.platform);
    server = await startHttpServer(app, { port: 0, routes: chat.routes });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await chat?.stop().catch(() => {});
    await server?.close().catch(() => {});
    await app?.db.close().catch(() => {});
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const card = (text: string) => page.locator('[data-testid="message"]').filter({ hasText: text });

  it('opens as a demo person in their DM with the bot, and answers `help` with the help card', async () => {
    // Signed in by the one-time link, as `warroom start` prints it; the token leaves the address bar.
    await page.goto(`${base}${(await chat!.signInLink('songkai')).path}`);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/chat');
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await page.locator('[data-testid="auth-note"]').textContent()).toContain('local chat — signed in');
    expect(await page.locator('[data-testid="person-select"]').inputValue()).toBe('songkai');
    await page.locator('[data-testid="room"][data-room-id="dm-songkai"][data-active="true"]').waitFor();

    const input = page.locator('[data-testid="composer-input"]');
    await input.fill('help');
    await input.press('Enter');
    await card('help').first().waitFor();
    const reply = page.locator('[data-testid="message"][data-author="warroom"]').filter({ has: page.locator('[data-testid="message-title"]', { hasText: 'Warroom commands' }) });
    await reply.waitFor();
    expect(await reply.locator('[data-testid="message-section"] li').count()).toBeGreaterThan(5);
    expect(await input.inputValue()).toBe('');
  });

  it('shows a message posted by the platform live, escaped, with its fields and buttons', async () => {
    const ref = await chat!.platform.post(
      { platform: 'local', id: 'general' },
      {
        title: 'P1 集中交易 开盘委托大量失败',
        text: '<img src=x onerror="window.__xss=1"> is text\nsecond line',
        fields: [
          { label: 'Commander', value: '张伟' },
          { label: 'Status', value: 'investigating' },
        ],
        sections: [{ title: 'Next', lines: ['check 中登报盘', 'page the DBA'] }],
        context: ['source: demo'],
        buttons: [
          { actionId: 'ack', label: 'Acknowledge', value: 'INC-7', style: 'primary' },
          { actionId: 'escalate', label: 'Escalate', value: 'INC-7', style: 'danger' },
        ],
      },
    );
    // Not the open room: an unread dot appears on it.
    await page.locator('[data-testid="room"][data-room-id="general"] [data-testid="unread-dot"]').waitFor();
    await page.locator('[data-testid="room"][data-room-id="general"]').click();
    const posted = page.locator(`[data-testid="message"][data-message-id="${ref.id}"]`);
    await posted.waitFor();
    await page.locator('[data-testid="room"][data-room-id="general"] [data-testid="unread-dot"]').waitFor({ state: 'detached' });

    expect(await posted.locator('[data-testid="message-text"]').textContent()).toBe('<img src=x onerror="window.__xss=1"> is text\nsecond line');
    expect(await posted.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await posted.locator('[data-testid="message-field"]').allTextContents()).toEqual(['Commander张伟', 'Statusinvestigating']);
    expect(await posted.locator('[data-testid="message-section"] li').allTextContents()).toEqual(['check 中登报盘', 'page the DBA']);
    expect(await posted.locator('[data-testid="message-context"]').textContent()).toBe('source: demo');
    expect(await posted.locator('[data-testid="message-button"]').count()).toBe(2);
  });

  it('delivers a button click to the bot, shows it pressed until the reply arrives, and shows the reply live', async () => {
    const posted = page.locator('[data-testid="message"]').filter({ has: page.locator('[data-testid="message-button"]') }).last();
    const messageId = await posted.getAttribute('data-message-id');
    const ack = posted.locator('[data-testid="message-button"][data-action-id="ack"]');
    await ack.click();
    await posted.locator('[data-testid="message-button"][data-action-id="ack"][data-state="pending"]').waitFor({ timeout: 2000 });
    expect(await posted.locator('[data-testid="message-button"][data-action-id="escalate"]').isDisabled()).toBe(true);

    await card('pressed ack INC-7').waitFor();
    await posted.locator('[data-testid="message-button"][data-action-id="ack"][data-state="ready"]').waitFor();
    expect(await ack.isEnabled()).toBe(true);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ userId: 'songkai', actionId: 'ack', value: 'INC-7', room: { id: 'general' }, message: { platform: 'local', roomId: 'general', id: messageId } });
  });

  it('moves a message to the top when it is pinned and marks private messages', async () => {
    const ref = await chat!.platform.post({ platform: 'local', id: 'general' }, { text: 'Status page: the open is delayed' });
    await card('Status page: the open is delayed').waitFor();
    await chat!.platform.pin(ref);
    await page.locator(`[data-testid="pinned"] [data-testid="message"][data-message-id="${ref.id}"][data-pinned="true"]`).waitFor();

    const dm = await chat!.platform.sendDirect('songkai', { text: 'nudge: post an update' });
    await page.locator('[data-testid="room"][data-room-id="dm-songkai"] [data-testid="unread-dot"]').waitFor();
    expect(dm.roomId).toBe('dm-songkai');
  });

  it('switches person with the picker and remembers the choice', async () => {
    await page.locator('[data-testid="person-select"]').selectOption('zhangwei');
    await page.locator('[data-testid="room"][data-room-id="dm-zhangwei"][data-active="true"]').waitFor();
    expect(await page.locator('[data-testid="room"][data-room-id="dm-songkai"]').count()).toBe(0);
    await page.goto(`${base}/chat`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await page.locator('[data-testid="person-select"]').inputValue()).toBe('zhangwei');
  });

  it('takes a screenshot, and loaded nothing from anywhere but Warroom', async () => {
    await page.locator('[data-testid="room"][data-room-id="general"]').click();
    await card('pressed ack INC-7').waitFor();
    const file = join(tmp!, 'web-chat.png');
    await page.screenshot({ path: file, fullPage: true });
    expectScreenshotAndLocalOnly(file, requests, base, pageErrors);
  });
});
