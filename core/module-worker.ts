import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** tsx's ESM register API, found through its package.json (`import.meta.resolve` is missing under vitest). */
function tsxEsmApi(from: string): string {
  const pkgPath = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports?.['./esm/api']?.import?.default;
  if (!rel) throw new Error('tsx is installed without its ESM API (tsx/esm/api); run the compiled build (npm run build) instead');
  return join(dirname(pkgPath), rel);
}

/**
 * A worker thread running the module `entry` (a path relative to `from`, without extension), from the
 * compiled `dist/` tree (`from` ends in .js: the .js beside it) and from the TypeScript sources alike
 * (tsx, vitest: `from` ends in .ts). Node 20 does not hand tsx's loader to worker threads, so from the
 * sources the worker registers it before loading its module.
 */
export function startModuleWorker(from: string, entry: string, options: WorkerOptions = {}): Worker {
  const fromSources = from.endsWith('.ts');
  const workerUrl = new URL(`${entry}${fromSources ? '.ts' : '.js'}`, from);
  if (!fromSources) return new Worker(workerUrl, options);
  const api = pathToFileURL(tsxEsmApi(from)).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
