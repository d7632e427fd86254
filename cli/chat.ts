import { createInterface } from 'node:readline';
import type { App } from '../tools/services.js';
import { createBot, type Bot } from '../bot/bot.js';
import { renderText } from '../bot/render/text.js';
import type { OutgoingMessage } from '../bot/messages.js';
import { formatShort } from '../core/time.js';

/**
 * The terminal chat: the same pipeline as Slack and WeCom, one line in, the replies out.
 * Works interactively and with piped input (one question per line).
 */
export async function runTerminalChat(app: App, userId: string, bot: Bot = createBot(app)): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  if (interactive) {
    process.stdout.write('Warroom terminal chat. Type `help` / 帮助 for commands, `exit` to leave.\n');
    rl.setPrompt(prompt(app));
    rl.prompt();
  }
  for await (const line of rl) {
    const text = line.trim();
    if (/^(exit|quit|退出|:q)$/i.test(text)) break;
    if (text) {
      // A slow answer shows "working on it…" first; the answer follows it.
      const progress = { show: async (m: OutgoingMessage) => void process.stdout.write(`${renderText(m)}\n`) };
      const replies = await bot.handle({ kind: 'message', platform: 'cli', userId, room: { platform: 'cli', id: 'terminal', kind: 'dm' }, text, at: app.clock() }, { progress });
      for (const reply of replies) process.stdout.write(`${renderText(reply.message)}\n\n`);
    }
    if (interactive) {
      rl.setPrompt(prompt(app));
      rl.prompt();
    }
  }
  rl.close();
}

/** The prompt shows the demo clock, so nobody mistakes the story's moment for the real time. */
function prompt(app: App): string {
  return app.demoMoment ? `warroom [demo ${formatShort(app.clock(), app.config.WARROOM_TIMEZONE, 'en')}]> ` : 'warroom> ';
}
