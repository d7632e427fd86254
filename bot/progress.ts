import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { t, type Lang, type OutgoingMessage } from './messages.js';
import type { ChatPlatform, MessageRef, RoomRef } from './platforms/platform.js';

/**
 * "Working on it…" for a question that takes longer than a moment. The bot still returns its
 * replies as usual; when a progress message was shown and can be edited, the answer takes its
 * place and is not returned again. A progress post or edit that fails only costs the progress
 * line: the answer is then returned and delivered as any reply, so it is never lost nor doubled.
 */
export interface ProgressSink {
  /** Post the "working on it…" message; undefined where it cannot be referred to again (the terminal). */
  show(message: OutgoingMessage): Promise<MessageRef | undefined>;
  /** Edit it in place; absent where messages cannot be edited (WeCom): the answer then follows it. */
  replace?(ref: MessageRef, message: OutgoingMessage): Promise<void>;
}

/** Progress through the ChatPlatform interface: `post` in the event's room (and thread), `update` where the platform edits in place. */
export function platformProgress(platform: ChatPlatform, room: RoomRef, thread?: string): ProgressSink {
  return {
    show: (message) => platform.post(room, message, thread ? { thread } : {}),
    ...(platform.editsMessages === false ? {} : { replace: (ref: MessageRef, message: OutgoingMessage) => platform.update(ref, message) }),
  };
}

/** The progress line, with what is being looked up when the agent said so. */
export function progressMessage(lang: Lang, detail?: string): OutgoingMessage {
  return {
    lang,
    text: detail ? t(lang, `⏳ 正在查询… ${detail}`, `⏳ Working on it… ${detail}`) : t(lang, '⏳ 正在查询…', '⏳ Working on it…'),
  };
}

export interface Progress {
  /** What is being looked up now (the agent's `onProgress`): shown when the line appears, or edited into it. */
  detail(text: string): void;
  /**
   * The work is done and `message` is its answer. True when the answer took the progress message's
   * place (the caller must not send it again); false when the caller delivers it as usual.
   */
  finish(message: OutgoingMessage): Promise<boolean>;
}

export interface ProgressOptions {
  lang: Lang;
  /** Show the line when the work is still going after this long (default 1000 ms). */
  afterMs?: number;
  logger: Logger;
}

const NO_PROGRESS: Progress = { detail: () => undefined, finish: async () => false };

export function startProgress(sink: ProgressSink | undefined, options: ProgressOptions): Progress {
  if (!sink) return NO_PROGRESS;
  const { lang, logger } = options;
  let detail: string | undefined;
  let done = false;
  let shown: Promise<MessageRef | undefined> | undefined;
  // Edits of the progress line, in order; the answer's edit waits for them.
  let edits: Promise<void> = Promise.resolve();
  const warn = (what: string) => (err: unknown) => {
    logger.warn({ err: errorMessage(err) }, what);
  };
  const timer = setTimeout(() => {
    if (done) return;
    shown = sink.show(progressMessage(lang, detail)).catch((err: unknown) => {
      warn('posting the progress message failed; the answer follows as usual')(err);
      return undefined;
    });
  }, options.afterMs ?? 1000);
  return {
    detail(text) {
      detail = text.replace(/\s+/g, ' ').trim().slice(0, 120) || undefined;
      const replace = sink.replace;
      if (!shown || !replace || done) return;
      const posted = shown;
      edits = edits
        .then(async () => {
          const ref = await posted;
          if (ref && !done) await replace(ref, progressMessage(lang, detail));
        })
        .catch(warn('updating the progress message failed'));
    },
    async finish(message) {
      done = true;
      clearTimeout(timer);
      if (!shown) return false;
      const ref = await shown;
      await edits;
      if (!ref || !sink.replace) return false;
      try {
        await sink.replace(ref, message);
        return true;
      } catch (err) {
        warn('putting the answer in place of the progress message failed; it follows as a new message')(err);
        return false;
      }
    },
  };
}
