import { createInterface } from 'node:readline';
import type { App } from '../core/app.js';
import { handleMessage } from '../bot/conversation.js';
import { renderText } from '../bot/render/text.js';
import type { IncomingMessage } from '../bot/messages.js';

/**
 * The terminal chat: the same pipeline as Slack and WeCom, one line in, the replies out.
 * Works interactively and with piped input (one question per line).
 */
export async function runTerminalChat(app: App, userId: string): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  if (interactive) {
    process.stdout.write('Warroom terminal chat. Type `help` / 帮助 for commands, `exit` to leave.\n');
    rl.setPrompt('warroom> ');
    rl.prompt();
  }
  for await (const line of rl) {
    const text = line.trim();
    if (/^(exit|quit|退出|:q)$/i.test(text)) break;
    if (text) {
      const msg: IncomingMessage = { user: { platform: 'cli', id: userId }, room: { platform: 'cli', id: 'terminal', kind: 'dm' }, text };
      for (const reply of await handleMessage(app, msg)) process.stdout.write(`${renderText(reply)}\n\n`);
    }
    if (interactive) rl.prompt();
  }
  rl.close();
}
