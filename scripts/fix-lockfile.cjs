// Usage: node scripts/fix-lockfile.cjs package-lock.json
// The npm registry reachable from this project's machines lacks many optional platform packages
// (@rollup/rollup-darwin-x64, @node-rs/jieba-win32-x64-msvc, …), so `npm install` leaves them out of
// the lockfile and `npm ci` then refuses it as out of sync. This adds an entry for each missing
// optional platform package, restricted to its own os/cpu/libc, so npm ci never tries to fetch it on
// Linux x64. Run it after every `npm install` here.
const fs = require('fs');
const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const OSES = ['android', 'darwin', 'freebsd', 'linux', 'win32', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPUS = ['arm', 'arm64', 'x64', 'ia32', 'riscv64', 'ppc64', 's390x', 'loong64', 'mips64el', 'wasm32'];
let added = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  for (const [name, spec] of Object.entries(pkg.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[`${path}/node_modules/${name}`]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OSES.includes(p));
    const cpu = parts.find((p) => CPUS.includes(p));
    if (!cpu) continue; // not a platform package: leave it to npm
    const rest = parts.slice(parts.indexOf(cpu) + 1).join('-');
    const entry = { version: String(spec).replace(/^[\^~=]/, ''), cpu: [cpu], optional: true };
    if (pkg.dev) entry.dev = true;
    if (os) entry.os = [os];
    if (os === 'linux') entry.libc = [/musl/.test(rest) ? 'musl' : 'glibc'];
    lock.packages[key] = entry;
    added++;
  }
}
const entries = Object.entries(lock.packages);
lock.packages = Object.fromEntries([entries.find(([k]) => k === ''), ...entries.filter(([k]) => k !== '').sort(([a], [b]) => (a < b ? -1 : 1))]);
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`fix-lockfile: added ${added} os/cpu-restricted entries`);
