import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../../core/paths.js';

/**
 * The page's files (index.html, app.css, app.js in ./page/) are served as they are, read from the
 * package root so the sources (tsx, tests) and the compiled `dist/` build find the same files; the
 * build does not copy them. app.js is type-checked by tsconfig.page.json (`npm run typecheck`).
 */
export const chatPageDir = join(packageRoot, 'bot', 'platforms', 'local', 'page');

export type ChatPageFile = 'index.html' | 'app.css' | 'app.js';

const cache = new Map<ChatPageFile, Promise<string>>();

/** A file of the page, read once per process. */
export function readChatPageFile(file: ChatPageFile): Promise<string> {
  let text = cache.get(file);
  if (!text) {
    text = readFile(join(chatPageDir, file), 'utf8');
    // A failed read (a broken install) is tried again on the next request.
    text.catch(() => cache.delete(file));
    cache.set(file, text);
  }
  return text;
}
