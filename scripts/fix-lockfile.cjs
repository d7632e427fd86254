// Usage: node scripts/fix-lockfile.cjs package-lock.json — run after any `npm install` on a machine whose registry lacks
// the optional non-Linux rollup packages, or `npm ci` elsewhere rejects the lockfile as out of sync.
// Adds os/cpu-restricted stub entries for rollup's platform packages that the partial registry 404s.
const fs = require("fs");
const f = process.argv[2];
const lock = JSON.parse(fs.readFileSync(f, "utf8"));
const roll = lock.packages["node_modules/rollup"];
for (const n of Object.keys(roll.optionalDependencies || {})) {
  const k = "node_modules/" + n;
  if (lock.packages[k]) continue;
  const [os, cpu, libc] = n.replace("@rollup/rollup-", "").split("-");
  const e = { version: roll.version, cpu: [cpu], dev: true, license: "MIT", optional: true, os: [os] };
  if (os === "linux") e.libc = [libc && libc.startsWith("musl") ? "musl" : "glibc"];
  lock.packages[k] = e;
}
const entries = Object.entries(lock.packages);
lock.packages = Object.fromEntries([entries.find(([k]) => k === ""), ...entries.filter(([k]) => k !== "").sort(([a], [b]) => (a < b ? -1 : 1))]);
fs.writeFileSync(f, JSON.stringify(lock, null, 2) + "\n");
