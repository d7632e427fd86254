import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../core/paths.js';

/**
 * Run `warroom …` from the sources, asynchronously: a test that spawns several CLI processes in a row
 * must keep its worker's event loop free, or vitest's own messages time out on a busy machine.
 */
export function warroomCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(packageRoot, 'cli', 'main.ts'), ...args],
      { cwd: packageRoot, env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: '', ...env }, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
