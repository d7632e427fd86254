/**
 * `npm run bench`: every benchmark, each in its own process so memory figures do not mix.
 * Prints figures; exits non-zero only if a benchmark could not run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

const benches = ['kb-bench.ts', 'diff-bench.ts', 'declare-bench.ts', 'alerts-bench.ts', 'fleet-bench.ts'].filter((b) => existsSync(join(packageRoot, 'bench', b)));
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot, 'bench', b)], { stdio: 'inherit', cwd: packageRoot });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
