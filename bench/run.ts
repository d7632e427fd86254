/**
 * `npm run bench`: every benchmark, each in its own process so memory figures do not mix.
 * `npm run bench -- actions alerts` runs those whose file name contains one of the words.
 * Prints figures; exits non-zero only if a benchmark could not run (or no benchmark matches).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

const all = ['kb-bench.ts', 'diff-bench.ts', 'declare-bench.ts', 'alerts-bench.ts', 'fleet-bench.ts', 'actions-bench.ts', 'fpga-bench.ts'].filter((b) => existsSync(join(packageRoot, 'bench', b)));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const benches = wanted.length ? all.filter((b) => wanted.some((w) => b.includes(w))) : all;
if (!benches.length) {
  console.error(`No benchmark matches ${wanted.join(', ')}; there are: ${all.map((b) => b.replace(/-bench\.ts$/, '')).join(', ')}`);
  process.exit(1);
}
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot, 'bench', b)], { stdio: 'inherit', cwd: packageRoot });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
