import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { WarroomError } from '../../core/errors.js';

/**
 * The files of an evaluation set (agent cases, localization scenarios): every .yaml/.yml/.json under
 * a folder, each holding one item or a list, in a split named by the nearest folder on its path.
 */
export interface CaseItem<S extends string> {
  item: unknown;
  file: string;
  /** The file relative to the working directory, as problems name it. */
  where: string;
  /** `where`, with the item's index when the file holds several. */
  label: string;
  /** The split the file's folder names (`dev/`, `heldout/`…), if any. */
  split: S | undefined;
}

function setFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return setFiles(p);
      return /\.(ya?ml|json)$/i.test(name) ? [p] : [];
    });
}

/** The nearest folder on the file's path (or the root itself) that names a split. */
function splitOf<S extends string>(splits: readonly S[], root: string, file: string): S | undefined {
  const named = (p: string): p is S => (splits as readonly string[]).includes(p);
  const hit = relative(root, file).split(sep).reverse().find(named);
  if (hit) return hit;
  const rootName = basename(root);
  return named(rootName) ? rootName : undefined;
}

/** Every item of every file under `dir` (or the one file `dir`); unreadable files become problems. */
export function readCaseItems<S extends string>(dir: string, splits: readonly S[], missing: () => WarroomError): { items: Array<CaseItem<S>>; problems: string[] } {
  let files: string[];
  try {
    files = statSync(dir).isDirectory() ? setFiles(dir) : [dir];
  } catch {
    throw missing();
  }
  const problems: string[] = [];
  const items: Array<CaseItem<S>> = [];
  for (const file of files) {
    const where = relative(process.cwd(), file) || file;
    let doc: unknown;
    try {
      const raw = readFileSync(file, 'utf8');
      doc = /\.json$/i.test(file) ? JSON.parse(raw) : parseYaml(raw);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      continue;
    }
    const list = Array.isArray(doc) ? doc : [doc];
    const split = splitOf(splits, dir, file);
    list.forEach((item, i) => items.push({ item, file, where, label: `${where}${list.length > 1 ? `[${i}]` : ''}`, split }));
  }
  return { items, problems };
}
