import type { App } from '../tools/services.js';
import { errorMessage, isWarroomError } from '../core/errors.js';
import type { AgentAnswer } from '../agents/types.js';
import { answerInChat, type QuestionHooks } from './questions.js';
import { findCommand } from './commands.js';
import { answerStatus, matchStatusQuestion } from './incidents/status.js';
import { detectLang, t, type IncomingMessage, type OutgoingMessage } from './messages.js';

/** Split "changes 集中交易 5" into words, keeping "quoted phrases" together. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}

/** The Warroom person behind a chat user, when the platform id is known. */
export async function actorOf(app: App, msg: IncomingMessage): Promise<string> {
  if (msg.user.personId) return msg.user.personId;
  const column = msg.user.platform === 'slack' ? 'slack' : msg.user.platform === 'wecom' ? 'wecom' : null;
  if (column) {
    const rows = await app.db.query<{ id: string }>(`SELECT id FROM people WHERE ${column} = $1`, [msg.user.id]);
    if (rows[0]) return rows[0].id;
  }
  if (msg.user.platform === 'cli' || msg.user.platform === 'local') {
    const rows = await app.db.query<{ id: string }>('SELECT id FROM people WHERE id = $1', [msg.user.id]);
    if (rows[0]) return rows[0].id;
  }
  return `${msg.user.platform}:${msg.user.id}`;
}

/** A reply of the conversation, with the agent's answer when it shows one. */
export interface ConversationReply {
  message: OutgoingMessage;
  answer?: AgentAnswer;
}

/**
 * The platform-neutral pipeline: message → command or question → handler → replies.
 * A leading "/" or "!" marks a command; an unknown one gets a clear error, not a guess.
 */
export async function handleMessage(app: App, msg: IncomingMessage, hooks: QuestionHooks = {}): Promise<OutgoingMessage[]> {
  return (await converse(app, msg, hooks)).map((r) => r.message);
}

/** A sentence that asks something: a question mark, or a Chinese or English question word. */
export function isQuestion(rest: string): boolean {
  return /[?？]|什么|哪些|哪个|哪里|吗|么|呢|怎么|怎样|如何|为什么|谁|多少|几个|有没有|是否|\b(?:what|which|who|whom|when|where|why|how|is|are|does|do|did|can|could|any)\b/i.test(rest);
}

/**
 * `handleMessage` with the agent's answers kept beside their messages (for `warroom ask --json`).
 * Free-text questions go to the agent (bot/questions.ts); `hooks` bring the bot's history, progress
 * line and action requests. A question whose answer took the place of the progress line returns nothing.
 */
export async function converse(app: App, msg: IncomingMessage, hooks: QuestionHooks = {}): Promise<ConversationReply[]> {
  const text = msg.text.replace(/<@[A-Z0-9]+>/g, '').trim();
  const explicit = /^[/!]/.test(text);
  const words = splitArgs(text.replace(/^[/!]/, ''));
  const first = words[0] ?? '';
  // Typed without "/", a command word that opens a question ("FPGA 行情今天有什么变更", "oncall for
  // whom is jzjy?") is a question about it, not the command with a sentence for arguments.
  const command = explicit || !isQuestion(text.slice(first.length)) ? findCommand(first) : undefined;
  // A Chinese command word ("对比 vm CAB-…") means a Chinese reply, whatever its arguments are.
  const lang = command && /[\u3400-\u9fff]/.test(first) ? 'zh' : detectLang(text);
  if (!text) return [{ message: { lang, text: t(lang, '请输入问题或命令，输入「帮助」查看命令。', 'Type a question or a command; `help` lists them.') } }];
  try {
    const actor = await actorOf(app, msg);
    if (command) return [{ message: await command.run({ app, message: msg, actor, lang, args: words.slice(1) }) }];
    // "现在什么情况" / "status INC-…" / "今天有哪些故障": managers' questions, answered from stored facts.
    const statusQuestion = matchStatusQuestion(text);
    if (statusQuestion) return [{ message: await answerStatus(app, statusQuestion, lang, { platform: msg.room.platform, roomId: msg.room.id }) }];
    if (explicit) {
      return [{ message: { lang, text: t(lang, `未知命令「${first}」。输入「帮助」查看可用命令。`, `Unknown command "${first}". Type \`help\` to see the commands.`) } }];
    }
    return await answerInChat(app, { text, actor, lang, room: msg.room }, hooks);
  } catch (err) {
    if (isWarroomError(err)) return [{ message: { lang, text: err.toUserText() } }];
    app.logger.error({ err: errorMessage(err), platform: msg.user.platform }, 'message handling failed');
    return [{ message: { lang, text: t(lang, '处理消息时出错，已记录日志。请稍后重试。', 'Something failed while handling that message; it has been logged. Please try again.') } }];
  }
}
