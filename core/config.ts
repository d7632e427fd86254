import { z } from 'zod';
import { WarroomError } from './errors.js';
import { parsePublicHosts } from './hosts.js';

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = (protocols: string[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .url()
      .refine((u) => protocols.some((p) => u.startsWith(p)), {
        message: `must start with ${protocols.join(' or ')}`,
      })
      .optional(),
  );

/**
 * Every environment variable Warroom reads, in one place. README.md documents each one;
 * keep the two in step.
 */
export const configSchema = z.object({
  WARROOM_HOME: z.preprocess(emptyToUndefined, z.string().default('./.warroom')),
  DATABASE_URL: optionalUrl(['postgres://', 'postgresql://']),
  REDIS_URL: optionalUrl(['redis://', 'rediss://']),
  WARROOM_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  WARROOM_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  /**
   * Host names (comma-separated, each `host` or `host:port`) the server answers for besides the
   * loopback names and WARROOM_HOST: the name a reverse proxy, Slack or WeCom reach it by. Requests
   * naming any other Host get 421 (DNS rebinding). Any non-loopback entry counts as listening beyond loopback.
   */
  WARROOM_PUBLIC_HOSTS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .superRefine((v, ctx) => {
        try {
          parsePublicHosts(v);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        }
      })
      .optional(),
  ),
  /**
   * Listen beyond loopback (WARROOM_HOST not a loopback address) even with the web chat on or the
   * webhooks without WARROOM_INGEST_TOKEN; `warroom start --allow-remote` does the same. Webhooks
   * without the token stay refused beyond loopback all the same.
   */
  WARROOM_ALLOW_REMOTE: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim().toLowerCase()) : v),
    z.enum(['1', '0', 'true', 'false', 'yes', 'no'], { errorMap: () => ({ message: 'must be 1 or 0' }) }).optional().transform((v) => v === '1' || v === 'true' || v === 'yes'),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  WARROOM_TIMEZONE: z.preprocess(emptyToUndefined, z.string().default('Asia/Shanghai')),
  WARROOM_HOLIDAYS_FILE: optionalString,
  /** The role and permission policy (YAML or JSON); unset: the shipped policy/warroom-policy.yaml. */
  WARROOM_POLICY_FILE: optionalString,
  WARROOM_INGEST_TOKEN: optionalString,
  /** The queue dashboard (/admin/queues, with REDIS_URL) needs it; unset, the dashboard is off. */
  WARROOM_ADMIN_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 24`)').optional()),
  /** `warroom start` runs the action workers too (on), or leaves them to `warroom worker` processes (off). */
  WARROOM_WORKER: z.preprocess(emptyToUndefined, z.enum(['on', 'off']).default('on')),
  /** Approved actions one worker process runs at once. */
  WARROOM_WORKER_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(64).default(4)),
  /** Where the audit log's head is anchored outside the database; unset: WARROOM_HOME/audit-anchors.jsonl. */
  WARROOM_AUDIT_ANCHORS_FILE: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl(['http://', 'https://']),
  WARROOM_EMBEDDER: z.preprocess(emptyToUndefined, z.enum(['auto', 'offline', 'openai']).default('auto')),
  WARROOM_EMBEDDING_MODEL: z.preprocess(emptyToUndefined, z.string().default('text-embedding-3-small')),
  /** The chat model of the LLM agent (any OpenAI-compatible endpoint: OPENAI_BASE_URL, OPENAI_API_KEY); unset: the offline planner answers. */
  WARROOM_LLM_MODEL: optionalString,
  /** Most model calls one question may take (each may call tools); then the agent stops and says so. */
  WARROOM_LLM_MAX_STEPS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(50).default(6)),
  /** Most tokens (prompt + completion, as the endpoint reports them) one question may use; then the agent stops and says so. */
  WARROOM_LLM_TOKEN_BUDGET: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1000).max(10_000_000).default(32000)),
  /** How long one model call may take before the question falls back to the offline planner. */
  WARROOM_LLM_TIMEOUT_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().min(1).max(600).default(30)),
  /** Largest tool output (JSON characters) the model is shown; longer output is trimmed, saying what was cut. */
  WARROOM_LLM_TOOL_OUTPUT_CHARS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(500).max(1_000_000).default(6000)),
  /** Retries of a failed model call (429, 5xx, connection) before falling back. */
  WARROOM_LLM_MAX_RETRIES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(5).default(1)),
  /** Pretend the process started at this moment (ISO 8601 with offset); the clock runs on from it. For replays, demos and tests. */
  WARROOM_CLOCK: z.preprocess(emptyToUndefined, z.string().datetime({ offset: true, message: 'must be ISO 8601 with an offset, e.g. 2026-11-23T09:40:00+08:00' }).optional()),
  WARROOM_CHANGE_WINDOW_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(30).default(3)),
  /** How failover_switch acts for pools that name no driver: `script` (WARROOM_FAILOVER_SCRIPTS) or `simulated` (demos); unset: such pools cannot be switched. */
  WARROOM_FAILOVER_DRIVER: z.preprocess(emptyToUndefined, z.enum(['simulated', 'script']).optional()),
  /** YAML or JSON file of the script driver's commands per step (tools/failover/script-config.ts). */
  WARROOM_FAILOVER_SCRIPTS: optionalString,
  /** The FPGA decoder's status block (file or /dev/shm segment) fpga_status reads; unset: WARROOM_HOME/fpga-status.bin. */
  WARROOM_FPGA_STATUS_FILE: optionalString,
  /** fpga_switch_path's `script` driver: shell command with {card} {to} {reason} (shell-quoted); unset: no script driver. */
  WARROOM_FPGA_SWITCH_COMMAND: optionalString,
  /** How fpga_switch_path acts: `script` (WARROOM_FPGA_SWITCH_COMMAND) or `simulator` (asks a running `fpga simulate`; the demo). */
  WARROOM_FPGA_SWITCH_DRIVER: z.preprocess(emptyToUndefined, z.enum(['script', 'simulator']).optional()),
  WARROOM_FPGA_SWITCH_TIMEOUT_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().min(1).max(3600).default(30)),

  // Slack (enabled when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set).
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  /** Socket Mode instead of HTTP events, when set (xapp-…). */
  SLACK_APP_TOKEN: optionalString,
  /** Where the Web API client sends calls; a proxy, or a local stand-in in tests. */
  SLACK_API_URL: optionalUrl(['http://', 'https://']),
  /** Channel id (C…) where declarations and status updates are announced. */
  SLACK_STATUS_CHANNEL: optionalString,

  // WeCom self-built app (enabled when WECOM_CORP_ID, WECOM_SECRET, WECOM_TOKEN and WECOM_AES_KEY are set).
  WECOM_CORP_ID: optionalString,
  WECOM_AGENT_ID: z.preprocess(emptyToUndefined, z.coerce.number().int().positive().optional()),
  WECOM_SECRET: optionalString,
  WECOM_TOKEN: optionalString,
  WECOM_AES_KEY: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be the 43-character EncodingAESKey from the app\'s callback settings').optional(),
  ),
  WECOM_API_URL: z.preprocess(emptyToUndefined, z.string().url().default('https://qyapi.weixin.qq.com/cgi-bin')),
  /** Group chat id (appchat) where declarations and status updates are announced. */
  WECOM_STATUS_CHAT: optionalString,

  /** The local web chat at /chat: auto = on when neither Slack nor WeCom is configured. */
  WARROOM_WEB_CHAT: z.preprocess(emptyToUndefined, z.enum(['auto', 'on', 'off']).default('auto')),
  /** Alerts at or above this severity open an incident room (POST /api/alerts). */
  WARROOM_ALERT_MIN_SEVERITY: z.preprocess(emptyToUndefined, z.enum(['warning', 'minor', 'major', 'critical']).default('major')),
  /** Most alerts one POST /api/alerts may carry; a larger batch gets 413 and nothing is stored. */
  WARROOM_ALERTS_MAX_ITEMS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1_000_000).default(10_000)),
  /** Largest POST /api/alerts body, in bytes (other routes keep the server's 5 MiB); beyond it 413 and nothing is stored. */
  WARROOM_ALERTS_MAX_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(16 * 1024 * 1024)),
  /** Stage limits in minutes from the onset (the first alert, or declaration), per severity: respond/localize/recover. */
  WARROOM_STAGE_LIMITS: z.preprocess(emptyToUndefined, z.string().default('P0=5/15/30,P1=10/30/60,P2=30/120/240,P3=60/480/1440')),
  /** How often the communications lead gets a drafted status update, in minutes per severity (0 = never). */
  WARROOM_UPDATE_INTERVALS: z.preprocess(emptyToUndefined, z.string().default('P0=15,P1=30,P2=60,P3=0')),
  /** How often stage timers and update drafts are checked, in seconds. */
  WARROOM_TIMER_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(3600).default(30)),

  // Fleet collection (sense_fleet): how perception-factor snapshots are fetched from many hosts.
  /** The driver used when a request names none; unset: the only one configured below. */
  WARROOM_FLEET_DRIVER: z.preprocess(emptyToUndefined, z.enum(['ssh', 'http', 'drop']).optional()),
  /** Command run per host, split into words without a shell; `{host}` is replaced; stdout is the snapshot JSON. */
  WARROOM_FLEET_SSH_COMMAND: z.preprocess(emptyToUndefined, z.string().refine((v) => v.includes('{host}'), 'must contain {host}, e.g. ssh -o BatchMode=yes {host} warroom-sensor --json').optional()),
  /** Agent endpoint per host, GET returning the snapshot JSON; `{host}` is replaced. */
  WARROOM_FLEET_HTTP_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => /^https?:\/\//.test(v), 'must start with http:// or https://')
      .refine((v) => v.includes('{host}'), 'must contain {host}, e.g. http://{host}:9100/snapshot')
      .optional(),
  ),
  /** Sent to the agents as `Authorization: Bearer …`. */
  WARROOM_FLEET_HTTP_TOKEN: optionalString,
  /** Folder where agents leave `<host>.json` (or `<host>/*.json`). */
  WARROOM_FLEET_DROP_DIR: optionalString,
  WARROOM_FLEET_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1000).default(32)),
  WARROOM_FLEET_TIMEOUT_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().min(1).max(3600).default(20)),
  /** Which reader of the FPGA status block: `auto`/`addon` (the C++ addon where it built), `typescript` (the fallback). */
  WARROOM_FPGA_READER: z.preprocess(emptyToUndefined, z.enum(['auto', 'addon', 'typescript']).default('auto')),
  /** Path of another build of the FPGA status addon (.node); unset: native/build/Release/warroom_fpga.node. */
  WARROOM_FPGA_ADDON: optionalString,
});

export type Config = z.infer<typeof configSchema>;

/** Parse the environment; on failure name every bad variable and what it should be. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const raw = env[name];
    // Connection strings and keys may hold secrets: say only whether they are set.
    const secret = /URL|KEY|SECRET|TOKEN|PASSWORD/.test(name);
    const shown = raw === undefined ? 'unset' : secret ? 'set' : JSON.stringify(raw);
    return `  ${name} (${shown}): ${issue.message}`;
  });
  throw new WarroomError('config_invalid', `Invalid configuration:\n${lines.join('\n')}`, {
    hint: 'Fix these environment variables (see "Configuration" in README.md) and start again.',
  });
}

/** A connection string with its password replaced, for logs and health output. */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
