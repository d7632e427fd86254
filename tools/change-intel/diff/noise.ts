/**
 * Noise: differences that are not changes. Builtin rules normalise items before they are compared
 * (so a restarted process or a re-picked ephemeral port compares equal); user rules drop diff
 * entries whose factor and key match a stored pattern ("one-click denoise"). Every entry a rule
 * removes is counted in the diff's `suppressed`, by rule, so nothing disappears unexplained.
 */

export interface BuiltinNoiseRule {
  id: string;
  description: { en: string; zh: string };
}

export const builtinNoiseRules: readonly BuiltinNoiseRule[] = [
  {
    id: 'builtin:pid',
    description: {
      en: 'process ids: fields pid/ppid/pgid/tgid/pids are ignored and "pid=123", "[123]", "/proc/123/" in keys read as "*" (host factors)',
      zh: '进程号：忽略 pid/ppid/pgid/tgid/pids 字段，键中的 "pid=123"、"[123]"、"/proc/123/" 视为 "*"（主机类因子）',
    },
  },
  {
    id: 'builtin:ephemeral-port',
    description: {
      en: 'ephemeral ports: ports 32768–65535 in keys of network factors (os.listen, os.netconn, net.*) read as "*"',
      zh: '临时端口：网络类因子（os.listen、os.netconn、net.*）键中的 32768–65535 端口视为 "*"',
    },
  },
  {
    id: 'builtin:timestamp',
    description: {
      en: 'timestamps: fields such as timestamp, takenAt, updatedAt, mtime, startTime, uptime, resourceVersion are ignored (not in db.* factors)',
      zh: '时间戳：忽略 timestamp、takenAt、updatedAt、mtime、startTime、uptime、resourceVersion 等字段（db.* 因子除外）',
    },
  },
  {
    id: 'builtin:counter',
    description: {
      en: 'counters: traffic and usage fields such as rx_bytes, packets, *_total, cpu, rss, restartCount are ignored (not in db.* factors)',
      zh: '计数器：忽略 rx_bytes、packets、*_total、cpu、rss、restartCount 等流量与用量字段（db.* 因子除外）',
    },
  },
];

const PID_FIELDS = new Set(['pid', 'ppid', 'pgid', 'tgid', 'pids']);

const TIMESTAMP_FIELDS = new Set(
  [
    'timestamp', 'time', 'ts', 'takenat', 'collectedat', 'lastseen', 'seenat', 'updatedat', 'updated_at', 'modifiedat', 'modified_at',
    'mtime', 'atime', 'ctime', 'starttime', 'start_time', 'startedat', 'started_at', 'uptime', 'lastmodified', 'last_modified',
    'creationtimestamp', 'resourceversion', 'lasttransitiontime', 'lastupdatetime', 'lastprobetime', 'lastheartbeattime',
    'observedgeneration', 'managedfields',
  ],
);

const COUNTER_FIELDS = new Set(
  [
    'cpu', 'cputime', 'cpu_time', 'utime', 'stime', 'rss', 'vsz', 'mem', 'memory', 'majflt', 'minflt', 'nlwp', 'threads',
    'voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches', 'restartcount', 'restarts', 'hits', 'misses', 'load', 'loadavg',
  ],
);
const COUNTER_PATTERNS = [
  /^(rx|tx|in|out|read|write|recv|received|sent|send)[_-]?(bytes|packets|pkts|octets|errors|errs|drops|dropped|ops|calls)$/i,
  /^(bytes|packets|pkts|octets)[_-]?(rx|tx|in|out|sent|recv|received)?$/i,
  /_total$/i,
];

/** Field names repeat millions of times in a fleet diff: decide each name once. */
const noiseFieldMemo = new Map<string, boolean>();

function isNoiseField(name: string): boolean {
  let v = noiseFieldMemo.get(name);
  if (v === undefined) {
    const n = name.toLowerCase();
    v = PID_FIELDS.has(n) || TIMESTAMP_FIELDS.has(n) || COUNTER_FIELDS.has(n) || COUNTER_PATTERNS.some((re) => re.test(name));
    if (noiseFieldMemo.size < 100_000) noiseFieldMemo.set(name, v);
  }
  return v;
}

/** Business data (parameter rows, schema) is never second-guessed: an updated_at there is the change. */
export function builtinRulesApply(factor: string): boolean {
  return !factor.startsWith('db.');
}

const NETWORK_FACTOR = /^(os\.(listen|netconn|conn|socket)s?|net\..+)$/;
const isHostFactor = (factor: string) => factor.startsWith('os.') || factor.startsWith('net.') || factor.startsWith('proc.');

export const EPHEMERAL_MIN = 32768;
export const EPHEMERAL_MAX = 65535;

const PID_IN_KEY = /pid/i;

/**
 * The key normaliser for one factor (decided once per factor, applied to every key): the key as
 * the builtin rules see it, or the key itself when nothing applies.
 */
export function keyNormalizer(factor: string): (key: string) => string {
  const host = isHostFactor(factor);
  const network = NETWORK_FACTOR.test(factor);
  if (!host && !network) return (k) => k;
  return (key) => {
    let k = key;
    // Cheap checks first: most keys hold no PID and no five-digit port.
    if (host && (k.includes('[') || k.includes('/proc/') || PID_IN_KEY.test(k))) {
      k = k.replace(/pid[=:]\s*\d+/gi, (m) => m.replace(/\d+$/, '*')).replace(/\[\d+\]/g, '[*]').replace(/\/proc\/\d+\//g, '/proc/*/');
    }
    if (network && /:\d{5}/.test(k)) {
      // ":40123" followed by the end, a space, "/", "," or ")" is a port, not an IPv6 group (those are ≤ 4 hex digits).
      k = k.replace(/:(\d{5})(?=$|[\s/,)>-])/g, (m, port: string) => {
        const n = Number(port);
        return n >= EPHEMERAL_MIN && n <= EPHEMERAL_MAX ? ':*' : m;
      });
    }
    return k;
  };
}

export function normalizeKey(factor: string, key: string): string {
  return keyNormalizer(factor)(key);
}

/** The value without fields the builtin rules ignore; the same object when nothing was removed. */
export function normalizeValue(value: unknown): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const n = normalizeValue(v);
      if (n !== v) changed = true;
      return n;
    });
    return changed ? out : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let changedAt = -1;
  let normalized: unknown;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (isNoiseField(k)) {
      changedAt = i;
      break;
    }
    const v = obj[k];
    if (v !== null && typeof v === 'object') {
      normalized = normalizeValue(v);
      if (normalized !== v) {
        changedAt = i;
        break;
      }
    }
  }
  if (changedAt < 0) return value;
  // Build the copy field by field: deleting from a copy would turn it into a slow dictionary object.
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (isNoiseField(k)) continue;
    const v = obj[k];
    out[k] = i === changedAt ? normalized : i > changedAt && v !== null && typeof v === 'object' ? normalizeValue(v) : v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// User rules: glob patterns over the factor id and the key as the diff shows it.

export interface UserNoiseRule {
  id: number;
  factor: string;
  keyPattern: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
}

/**
 * Glob → anchored RegExp: `*` any run of characters (including none, "/" and ":"), `?` exactly one,
 * everything else literal. Globs, not regular expressions: people type them in chat, and a glob
 * cannot be written to take exponential time.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += re.endsWith('.*') ? '' : '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export class NoiseRules {
  private readonly compiled: Array<{ rule: UserNoiseRule; factor: RegExp; key: RegExp }>;
  private readonly byFactor = new Map<string, Array<{ rule: UserNoiseRule; key: RegExp }>>();

  constructor(
    readonly user: readonly UserNoiseRule[] = [],
    /** Off for `--raw` diffs: see exactly what the sensors saw. */
    readonly builtin = true,
  ) {
    this.compiled = user.map((rule) => ({ rule, factor: globToRegExp(rule.factor), key: globToRegExp(rule.keyPattern) }));
  }

  /** The user rules that can apply to a factor, computed once per factor id. */
  private forFactor(factor: string): Array<{ rule: UserNoiseRule; key: RegExp }> {
    let list = this.byFactor.get(factor);
    if (!list) {
      list = this.compiled.filter((c) => c.factor.test(factor)).map(({ rule, key }) => ({ rule, key }));
      this.byFactor.set(factor, list);
    }
    return list;
  }

  /** The first user rule that marks this (normalised) key of this factor as noise. */
  match(factor: string, key: string): UserNoiseRule | undefined {
    for (const c of this.forFactor(factor)) if (c.key.test(key)) return c.rule;
    return undefined;
  }

  hasUserRulesFor(factor: string): boolean {
    return this.forFactor(factor).length > 0;
  }
}
