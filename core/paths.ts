import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, found by walking up from this file to the nearest package.json.
 * Works from the TypeScript sources (tests, tsx) and from the compiled `dist/` tree alike.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'db', 'migrations'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('warroom: cannot find the package root (package.json next to db/migrations)');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const migrationsDir = join(packageRoot, 'db', 'migrations');
export const demoDataFile = join(packageRoot, 'demo', 'warroom-demo.json');
export const shippedRunbooksDir = join(packageRoot, 'runbooks');
export const shippedHolidaysFile = join(packageRoot, 'core', 'holidays-cn.json');
export const shippedPolicyFile = join(packageRoot, 'policy', 'warroom-policy.yaml');

export function resolveFromCwd(p: string): string {
  return resolve(process.cwd(), p);
}
