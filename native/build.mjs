#!/usr/bin/env node
// Builds the FPGA status addon (native/) with node-gyp: npm's `install` script runs this during
// `npm ci`; run it by hand with `node native/build.mjs`. Offline: node-gyp builds against the
// headers of the installed Node (found next to it, or npm's `nodedir`), never downloads them.
//
// It never fails the install: without a compiler (or make, python3, node-addon-api, Node's headers)
// it prints one warning and exits 0; Warroom then reads the status block with its TypeScript reader.
// WARROOM_SKIP_ADDON=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const output = join(here, 'build', 'Release', 'warroom_fpga.node');
const logFile = join(here, 'build-addon.log');
const quiet = process.argv.includes('--quiet');

function skip(reason, hint) {
  console.warn(
    `warroom: WARNING: the FPGA status addon was not built: ${reason}.\n` +
      `warroom:   Warroom reads the FPGA status block with its TypeScript reader instead (same answers, slower).` +
      (hint ? `\nwarroom:   ${hint}` : ''),
  );
  process.exit(0);
}

if (process.env.WARROOM_SKIP_ADDON === '1') skip('WARROOM_SKIP_ADDON=1');

const has = (cmd, args = ['--version']) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
};

// 1. node-addon-api (a dependency: installed by now)
const require = createRequire(join(root, 'package.json'));
try {
  require.resolve('node-addon-api');
} catch {
  skip('node-addon-api is not installed', 'Run `npm ci` (it is in package.json dependencies), then `node native/build.mjs`.');
}

// 2. a C++ compiler, make and python3 (gyp is Python)
const runs = (command) => {
  const [cmd, ...rest] = command.trim().split(/\s+/); // CXX may be "ccache g++"
  return Boolean(cmd) && has(cmd, [...rest, '--version']);
};
const cxx = process.env.CXX || ['c++', 'g++', 'clang++'].find((c) => has(c));
if (!cxx || !runs(cxx)) skip(`no C++ compiler (${process.env.CXX ? `CXX=${process.env.CXX} does not run` : 'c++, g++ and clang++ not found'})`, 'On Debian: apt-get install build-essential python3, then `node native/build.mjs`.');
if (!has('make')) skip('make is not installed', 'On Debian: apt-get install build-essential, then `node native/build.mjs`.');
const python = process.env.npm_config_python || process.env.PYTHON || ['python3', 'python'].find((p) => has(p));
if (!python) skip('python3 is not installed (node-gyp needs it)', 'On Debian: apt-get install python3, then `node native/build.mjs`.');

// 3. node-gyp: the one npm gives lifecycle scripts, else the one that ships inside npm.
function nodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npm = spawnSync(process.platform === 'win32' ? 'where' : 'which', ['npm'], { encoding: 'utf8' });
  const npmPath = npm.status === 0 ? npm.stdout.split('\n')[0]?.trim() : '';
  if (npmPath) {
    try {
      candidates.push(join(dirname(realpathSync(npmPath)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch {
      /* a broken link: try the others */
    }
  }
  return candidates.map((c) => resolve(c)).find((c) => existsSync(c));
}
const gyp = nodeGyp();
if (!gyp) skip('node-gyp was not found (it ships with npm)', 'Run this through npm (`npm ci`), or install npm with its bundled node-gyp.');

// 4. Node's headers: npm's nodedir (npm_config_nodedir), else the installed Node's include/node.
const nodedirArgs = [];
if (!process.env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) {
    nodedirArgs.push(`--nodedir=${prefix}`);
  } else {
    skip(`Node's headers are not next to this Node (${join(prefix, 'include', 'node')}) and npm's nodedir is not set`, 'Install Node with its headers (Debian: nodejs ships /usr/include/node), or set `npm config set nodedir <prefix>`.');
  }
} else if (!existsSync(join(process.env.npm_config_nodedir, 'include', 'node', 'node_api.h'))) {
  skip(`npm's nodedir (${process.env.npm_config_nodedir}) has no include/node/node_api.h`, 'Point `npm config set nodedir` at the prefix of the installed Node (e.g. /usr).');
}

// 5. build, quietly; the log is kept for when it fails.
const started = Date.now();
const isJs = /\.[cm]?js$/.test(gyp);
const args = ['rebuild', `--directory=${here}`, '--loglevel=warn', ...nodedirArgs];
if (python) args.push(`--python=${python}`);
const r = spawnSync(isJs ? process.execPath : gyp, isJs ? [gyp, ...args] : args, {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, npm_config_offline: 'true' },
  maxBuffer: 64 * 1024 * 1024,
});
const log = `$ ${gyp} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
mkdirSync(here, { recursive: true });
writeFileSync(logFile, log);
if (r.status !== 0 || !existsSync(output)) {
  const tail = log.trim().split('\n').slice(-12).map((l) => `warroom:   | ${l}`).join('\n');
  skip(`node-gyp failed (exit ${r.status ?? r.signal ?? r.error?.message}); log: ${logFile}\n${tail}`, 'Fix the cause above, then run `node native/build.mjs`.');
}

// 6. it must load in this Node
const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(output)})`], { encoding: 'utf8' });
if (check.status !== 0) skip(`the built addon does not load: ${(check.stderr || '').trim().split('\n')[0]}`, 'Run `node native/build.mjs` again with this Node.');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
if (!quiet) console.log(`warroom ${version}: built the FPGA status addon in ${((Date.now() - started) / 1000).toFixed(1)} s (${output})`);
