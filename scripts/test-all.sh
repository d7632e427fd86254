#!/usr/bin/env bash
# scripts/test-all.sh — `npm run test:all`: the full test suite against real services.
#
# On a Debian 12 (bookworm) machine this does the whole set-up itself:
#   1. installs what is missing from Debian packages (postgresql-15, postgresql-server-dev-15,
#      redis-server, make, gcc, g++ and python3 for the FPGA status addon that `npm ci` builds,
#      chromium for the web chat's browser test); nothing is installed (and no
#      `apt-get update` runs) when all is present;
#   2. builds pgvector from Debian's trixie *source* package if the extension is not installed
#      (pgvector is not packaged for bookworm); the deb-src entry reuses this machine's own mirror;
#   3. starts a throw-away PostgreSQL 15 cluster and a Redis server on free loopback ports, in a temp
#      dir, separate from any system cluster (5432) or system redis (6379);
#   4. runs `npm ci` (which builds the FPGA status addon: native/build.mjs), then `npx vitest run [ARGS...]`
#      with the env vars below;
#   5. stops both services and removes the temp dir, whatever the outcome (EXIT/INT/TERM trap).
#
# Usage: bash scripts/test-all.sh [vitest args...]     e.g. npm run test:all -- test/db
#        bash scripts/test-all.sh --exec CMD [ARGS...]  run CMD with the services up (npm run bench)
# The exit code is vitest's; non-zero if any set-up step fails. The last line printed is
#   tests: N passed, M failed[, K skipped]
# Set WARROOM_KEEP_TEST_SERVICES_DIR=1 to keep the temp dir (data, logs) for inspection.
# Set WARROOM_SKIP_NPM_CI=1 to use node_modules as it is (a second checkout sharing one node_modules).
#
# Environment exported to the tests:
#   DATABASE_URL             postgres://postgres@127.0.0.1:PGPORT/warroom_test (trust auth, pgvector available)
#   REDIS_URL                redis://127.0.0.1:REDISPORT
#   WARROOM_INTEGRATION      1 — integration tests that need the real services run
#   WARROOM_TEST_PG_CTL      path of a wrapper that runs pg_ctl for the test cluster (as the postgres user,
#                            with -D and -l filled in); pass the action: `"$WARROOM_TEST_PG_CTL" stop -m fast`,
#                            `... start`, `... restart -m fast`, `... status`. Port/listen settings live in the
#                            data dir's config, so a restart comes back on the same port.
#   WARROOM_TEST_PGDATA      the test cluster's data directory
#   WARROOM_TEST_REDIS_PORT  the Redis port (same as in REDIS_URL)
#   WARROOM_TEST_REDIS_CMD   path of a wrapper controlling the test Redis with the same config:
#                            `"$WARROOM_TEST_REDIS_CMD" stop|start|restart` (no argument = restart); start and
#                            restart return once Redis answers PING. Data is not persisted across restarts.
#   WARROOM_CHROMIUM         /usr/bin/chromium — Debian's Chromium, driven headless by playwright-core in the
#                            web chat's browser test (no browser is downloaded)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

export DEBIAN_FRONTEND=noninteractive
PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_CONFIG="$PG_BIN/pg_config"
TRIXIE_SOURCES=/etc/apt/sources.list.d/warroom-trixie-src.sources
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { printf 'services: %s\n' "$*"; }
fail() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

# Print a log file, indented, to stderr: all of it if short, else its first 20 lines (npm and apt
# state the cause first) and its last 40 (compilers and pg state it last).
show_tail() { # file
  [[ -f $1 ]] || return 0
  local n
  n="$(wc -l <"$1")"
  printf 'services: --- %s (%s lines) ---\n' "$1" "$n" >&2
  if ((n <= 70)); then
    sed 's/^/  | /' "$1" >&2
  else
    { head -n 20 "$1"; printf '[... %s lines ...]\n' "$((n - 60))"; tail -n 40 "$1"; } | sed 's/^/  | /' >&2
  fi
}

# Run a command with its output appended to a log file; on failure show the log's tail and fail.
run_logged() { # logfile cmd...
  local log=$1; shift
  printf '\n$ %s\n' "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    show_tail "$log"
    fail "command failed: $*"
  fi
}

if [[ $EUID -eq 0 ]]; then
  as_root() { "$@"; }
  RUNUSER="$(command -v runuser || echo /usr/sbin/runuser)"
  # initdb/postgres refuse to run as root: run them as the postgres user, from a dir it can read.
  as_pg() { (cd / && "$RUNUSER" -u postgres -- "$@"); }
else
  as_root() {
    command -v sudo >/dev/null || fail "not root and no sudo: cannot run '$*'"
    sudo -n "$@"
  }
  as_pg() { "$@"; }
fi

T_START=$SECONDS

# ---------------------------------------------------------------------------------------------
# Temp dir + cleanup. Under /tmp (not the repo) so the postgres user can always reach it and the
# unix socket path stays short. Everything the run creates lives here.
# ---------------------------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/warroom-test.XXXXXX)"
chmod 755 "$WORK"
LOGS="$WORK/logs"; mkdir -p "$LOGS"
PGDATA="$WORK/pg/data"
PG_RUN="$WORK/pg/run"        # unix socket dir
PG_LOG="$WORK/pg/postgres.log"
PG_PORT=""
REDIS_DIR="$WORK/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"
REDIS_PORT=""

stop_services() {
  local pid i
  if [[ -f $PGDATA/postmaster.pid ]]; then
    if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -t 60 stop >>"$LOGS/pg-stop.log" 2>&1; then
      say "postgres stopped"
    else
      pid="$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true)"
      if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        say "postgres did not stop cleanly; immediate shutdown"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -t 30 stop >>"$LOGS/pg-stop.log" 2>&1 \
          || kill -9 "$pid" 2>/dev/null || true
      fi
    fi
  fi
  if [[ -f $REDIS_PID ]]; then
    pid="$(cat "$REDIS_PID" 2>/dev/null || true)"
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
      say "redis stopped"
    fi
    rm -f "$REDIS_PID"
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  stop_services
  if [[ ${WARROOM_KEEP_TEST_SERVICES_DIR:-} == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A free TCP port on 127.0.0.1, as chosen by the OS.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{const p=s.address().port;s.close(()=>console.log(p))})'
}

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
is_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

VECTOR_CONTROL=""
need_vector_build() {
  local sharedir
  [[ -x $PG_CONFIG ]] || return 0
  sharedir="$("$PG_CONFIG" --sharedir)"
  VECTOR_CONTROL="$sharedir/extension/vector.control"
  [[ ! -f $VECTOR_CONTROL ]]
}

# g++ and python3: node-gyp builds the FPGA status addon (native/) during `npm ci`; the tests require it under CI=true.
wanted=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR redis-server make gcc g++ libc6-dev python3 chromium)
if need_vector_build; then wanted+=(dpkg-dev); fi   # dpkg-source, for `apt-get source`
missing=()
for p in "${wanted[@]}"; do is_installed "$p" || missing+=("$p"); done

if ((${#missing[@]})); then
  command -v apt-get >/dev/null || fail "missing packages (${missing[*]}) and no apt-get: not a Debian machine?"
  say "installing ${missing[*]} (log: apt.log)"
  t=$SECONDS
  run_logged "$LOGS/apt.log" as_root apt-get "${APT_OPTS[@]}" update
  run_logged "$LOGS/apt.log" as_root apt-get "${APT_OPTS[@]}" install --no-install-recommends "${missing[@]}"
  say "packages installed in $((SECONDS - t))s"
else
  say "packages already installed"
fi
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_CONFIG ]] || fail "PostgreSQL $PG_MAJOR binaries not found in $PG_BIN"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || fail "redis-server/redis-cli not found"

# ---------------------------------------------------------------------------------------------
# 2. pgvector, from Debian's trixie source package (not packaged for bookworm)
# ---------------------------------------------------------------------------------------------
# First URI of this machine's main Debian archive (the one serving the release's own suite),
# from deb822 *.sources files or one-line sources.list files.
debian_mirror_uri() {
  local codename f uri
  codename="$( . /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$TRIXIE_SOURCES" ]] || continue
    uri="$(awk -v suite="$codename" '
      function val(s) { sub(/^[^:]*:[ \t]*/, "", s); return s }
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          l = $i
          if (l ~ /^[ \t]*#/) continue
          k = tolower(l)
          if (k ~ /^types:/) types = val(l)
          else if (k ~ /^uris:/) uris = val(l)
          else if (k ~ /^suites:/) suites = val(l)
          else if (k ~ /^enabled:/) enabled = tolower(val(l))
        }
        if (enabled == "no") next
        if ((" " types " ") ~ /[ \t]deb[ \t]/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]")) {
          split(uris, a, /[ \t]+/); print a[1]; exit
        }
      }' "$f")"
    if [[ -n $uri ]]; then echo "$uri"; return 0; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri="$(awk -v suite="$codename" '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$f")"
    if [[ -n $uri ]]; then echo "$uri"; return 0; fi
  done
  return 1
}

if need_vector_build; then
  say "pgvector not installed; building it from Debian's trixie source package (log: pgvector.log)"
  t=$SECONDS
  mirror="$(debian_mirror_uri)" || fail "could not find the Debian mirror URI in /etc/apt/sources.list{,.d}"
  src_entry="Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: $DEBIAN_KEYRING
"
  if [[ ! -f $TRIXIE_SOURCES ]] || [[ "$(cat "$TRIXIE_SOURCES")"$'\n' != "$src_entry" ]]; then
    printf '%s' "$src_entry" | as_root tee "$TRIXIE_SOURCES" >/dev/null
  fi
  # Refresh only the trixie source index (the other lists are left as they are).
  run_logged "$LOGS/pgvector.log" as_root apt-get "${APT_OPTS[@]}" \
    -o Dir::Etc::SourceList="$TRIXIE_SOURCES" -o Dir::Etc::SourceParts=- \
    -o APT::Get::List-Cleanup=0 update
  BUILD="$WORK/pgvector-build"
  mkdir -p "$BUILD"
  chmod 777 "$BUILD"   # lets apt download as its unprivileged _apt user
  run_logged "$LOGS/pgvector.log" bash -c 'cd "$1" && apt-get -q source --only-source pgvector' _ "$BUILD"
  srcdir="$(find "$BUILD" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
  [[ -n $srcdir ]] || { show_tail "$LOGS/pgvector.log"; fail "apt-get source pgvector produced no source dir"; }
  run_logged "$LOGS/pgvector.log" make -C "$srcdir" -j "$(nproc)" PG_CONFIG="$PG_CONFIG"
  run_logged "$LOGS/pgvector.log" as_root make -C "$srcdir" PG_CONFIG="$PG_CONFIG" install
  [[ -f $VECTOR_CONTROL ]] || fail "pgvector built but $VECTOR_CONTROL is missing"
  say "pgvector $(basename "$srcdir" | sed 's/^pgvector-//') built and installed in $((SECONDS - t))s"
fi

# ---------------------------------------------------------------------------------------------
# 3. npm ci (before the services start, so a broken install costs no service time)
# ---------------------------------------------------------------------------------------------
if [[ ${WARROOM_SKIP_NPM_CI:-} == 1 ]]; then
  say "npm ci skipped (WARROOM_SKIP_NPM_CI=1: node_modules is used as it is)"
else
  say "npm ci (log: npm-ci.log)"
  t=$SECONDS
  run_logged "$LOGS/npm-ci.log" npm ci --no-audit --no-fund
  npm_result="$(grep -E '^(added|removed|changed|up to date)' "$LOGS/npm-ci.log" | tail -n 1)" || npm_result=""
  say "npm ci: ${npm_result:-done in $((SECONDS - t))s}"
  # The FPGA status addon's build says here whether it built (its warning, if not, would stay in the log).
  grep -E '^warroom( [0-9.]+)?: ' "$LOGS/npm-ci.log" | sed 's/^/services: /' || true
fi

# ---------------------------------------------------------------------------------------------
# 4. PostgreSQL 15 cluster: trust auth, 127.0.0.1 only, socket in the temp dir, no fsync.
# ---------------------------------------------------------------------------------------------
mkdir -p "$PGDATA" "$PG_RUN"
if [[ $EUID -eq 0 ]]; then chown -R postgres:postgres "$WORK/pg"; fi
chmod 700 "$PGDATA"
pg_locale=C
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then pg_locale=C.UTF-8; fi
run_logged "$LOGS/initdb.log" as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust \
  -E UTF8 --locale="$pg_locale" --no-sync
as_pg bash -c 'printf "\ninclude = '"'"'warroom.conf'"'"'\n" >>"$1/postgresql.conf"' _ "$PGDATA"

write_pg_conf() { # port
  as_pg tee "$PGDATA/warroom.conf" >/dev/null <<EOF
# written by scripts/test-all.sh
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$PG_RUN'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

for attempt in 1 2 3; do
  PG_PORT="$(free_port)"
  write_pg_conf "$PG_PORT"
  if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t 60 start >>"$LOGS/pg-start.log" 2>&1; then
    break
  fi
  if ((attempt < 3)) && grep -q 'could not bind\|Address already in use' "$PG_LOG" 2>/dev/null; then
    say "port $PG_PORT was taken meanwhile; retrying"
    continue
  fi
  show_tail "$LOGS/pg-start.log"; show_tail "$PG_LOG"
  fail "postgres did not start"
done

PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
run_logged "$LOGS/psql.log" "${PSQL[@]}" -d postgres -c 'CREATE DATABASE warroom_test'
run_logged "$LOGS/psql.log" "${PSQL[@]}" -d warroom_test -c 'CREATE EXTENSION IF NOT EXISTS vector'
pg_version="$("${PSQL[@]}" -d warroom_test -At -c 'SHOW server_version')"
vector_version="$("${PSQL[@]}" -d warroom_test -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"
say "postgres ${pg_version%% *} on 127.0.0.1:$PG_PORT with pgvector $vector_version (data: $PGDATA)"

# ---------------------------------------------------------------------------------------------
# 5. Redis: 127.0.0.1 only, no persistence, daemonized with a pidfile in the temp dir.
# ---------------------------------------------------------------------------------------------
mkdir -p "$REDIS_DIR"

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

for attempt in 1 2 3; do
  REDIS_PORT="$(free_port)"
  cat >"$REDIS_CONF" <<EOF
# written by scripts/test-all.sh
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
EOF
  run_logged "$LOGS/redis-start.log" redis-server "$REDIS_CONF"
  for ((i = 0; i < 100; i++)); do redis_ping "$REDIS_PORT" && break; sleep 0.1; done
  if redis_ping "$REDIS_PORT"; then break; fi
  if ((attempt < 3)) && grep -q 'Address already in use' "$REDIS_LOG" 2>/dev/null; then
    say "port $REDIS_PORT was taken meanwhile; retrying"
    continue
  fi
  show_tail "$REDIS_LOG"
  fail "redis did not answer PING on 127.0.0.1:$REDIS_PORT"
done
redis_version="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server | tr -d '\r' | sed -n 's/^redis_version://p')"
say "redis $redis_version on 127.0.0.1:$REDIS_PORT"

# ---------------------------------------------------------------------------------------------
# 6. Control wrappers for tests that restart the services (see the header for their usage).
# ---------------------------------------------------------------------------------------------
mkdir -p "$WORK/bin"
PG_CTL_WRAPPER="$WORK/bin/pg_ctl"
if [[ $EUID -eq 0 ]]; then pg_ctl_prefix="cd / && exec $(printf '%q' "$RUNUSER") -u postgres --"; else pg_ctl_prefix="exec"; fi
cat >"$PG_CTL_WRAPPER" <<EOF
#!/usr/bin/env bash
# pg_ctl for the warroom test cluster. Usage: pg_ctl start|stop|restart|status [pg_ctl options]
$pg_ctl_prefix $(printf '%q' "$PG_BIN/pg_ctl") -D $(printf '%q' "$PGDATA") -l $(printf '%q' "$PG_LOG") -w -t 60 "\$@"
EOF

REDIS_WRAPPER="$WORK/bin/redis-ctl"
cat >"$REDIS_WRAPPER" <<EOF
#!/usr/bin/env bash
# Controls the warroom test Redis. Usage: redis-ctl [stop|start|restart]  (default: restart)
set -euo pipefail
port=$REDIS_PORT
conf=$(printf '%q' "$REDIS_CONF")
pidfile=$(printf '%q' "$REDIS_PID")
ping() { [[ "\$(redis-cli -h 127.0.0.1 -p "\$port" ping 2>/dev/null)" == PONG ]]; }
stop() {
  local pid=""
  [[ -f \$pidfile ]] && pid="\$(cat "\$pidfile")"
  if ping; then redis-cli -h 127.0.0.1 -p "\$port" shutdown nosave >/dev/null 2>&1 || true; fi
  if [[ -n \$pid ]]; then
    for ((i = 0; i < 100; i++)); do kill -0 "\$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "redis-ctl: redis (pid \$pid) did not stop" >&2; return 1
  fi
}
start() {
  ping && return 0
  redis-server "\$conf"
  for ((i = 0; i < 100; i++)); do ping && return 0; sleep 0.1; done
  echo "redis-ctl: redis did not answer PING on 127.0.0.1:\$port" >&2; return 1
}
case "\${1:-restart}" in
  stop) stop ;;
  start) start ;;
  restart) stop; start ;;
  *) echo "usage: \$0 [stop|start|restart]" >&2; exit 2 ;;
esac
EOF
chmod 755 "$WORK/bin" "$PG_CTL_WRAPPER" "$REDIS_WRAPPER"

say "set-up took $((SECONDS - T_START))s"

# ---------------------------------------------------------------------------------------------
# 7. The tests
# ---------------------------------------------------------------------------------------------
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/warroom_test"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export WARROOM_INTEGRATION=1
export WARROOM_TEST_PG_CTL="$PG_CTL_WRAPPER"
export WARROOM_TEST_PGDATA="$PGDATA"
export WARROOM_TEST_REDIS_PORT="$REDIS_PORT"
export WARROOM_TEST_REDIS_CMD="$REDIS_WRAPPER"
export WARROOM_CHROMIUM=/usr/bin/chromium

# `--exec CMD ARGS…` runs a command (the benchmarks) with the services up instead of the tests.
if [[ "${1:-}" == "--exec" ]]; then
  shift
  set +e
  "$@"
  rc=$?
  set -e
  stop_services
  exit "$rc"
fi

REPORT="$WORK/vitest.json"
set +e
npx --no vitest run --reporter=default --reporter=json --outputFile.json="$REPORT" "$@"
rc=$?
set -e

stop_services

if [[ -f $REPORT ]]; then
  summary="$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    let s = `tests: ${r.numPassedTests || 0} passed, ${r.numFailedTests || 0} failed`;
    if (skipped > 0) s += `, ${skipped} skipped`;
    const broken = (r.testResults || []).filter(
      (f) => f.status === "failed" && !(f.assertionResults || []).some((a) => a.status === "failed"));
    if (broken.length)
      console.error(`vitest: ${broken.length} test file(s) failed outside any test: ` +
        broken.map((f) => f.name).join(", "));
    console.log(s);
  ' "$REPORT")"
else
  echo "vitest: no JSON report was written ($REPORT)" >&2
  summary="tests: 0 passed, 0 failed"
  if ((rc == 0)); then rc=1; fi
fi
printf '\n%s\n' "$summary"
exit "$rc"
