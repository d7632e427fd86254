import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WarroomError } from '../../core/errors.js';

/**
 * The `script` driver's commands (WARROOM_FAILOVER_SCRIPTS, YAML or JSON): one shell command per
 * driver action, with {pool} {node} {host} {vip} replaced by shell-quoted values (also exported as
 * WARROOM_FAILOVER_POOL/_NODE/_HOST/_VIP). Exit 0 is success; `whoHoldsVip` prints the node ids
 * holding the VIP, one per line (nothing when none does). A pool may override some commands.
 *
 *   timeoutSeconds: 30
 *   commands:
 *     releaseVip: ssh {host} 'ip addr del {vip}/24 dev bond0'
 *     healthCheck: { run: "curl -fsS --max-time 3 http://{vip}/health", timeoutSeconds: 5 }
 *     …
 *   pools:
 *     zd-baopan: { commands: { startService: "ssh {host} zdbpctl takeover" } }
 */
export const SCRIPT_ACTIONS = ['releaseVip', 'stopService', 'acquireVip', 'startService', 'healthCheck', 'whoHoldsVip'] as const;
export type ScriptAction = (typeof SCRIPT_ACTIONS)[number];

const timeoutSeconds = z.number().positive().max(3600);
const command = z.union(
  [z.string().trim().min(1, 'must not be empty'), z.object({ run: z.string().trim().min(1, 'must not be empty'), timeoutSeconds: timeoutSeconds.optional() }).strict()],
  { errorMap: (_issue, ctx) => ({ message: ctx.data === undefined ? 'Required: a shell command' : 'expected a non-empty shell command, or {run, timeoutSeconds}' }) },
);
const commandsShape = Object.fromEntries(SCRIPT_ACTIONS.map((a) => [a, command])) as Record<ScriptAction, typeof command>;

export const scriptConfigSchema = z
  .object({
    timeoutSeconds: timeoutSeconds.default(30),
    commands: z.object(commandsShape).strict(),
    pools: z.record(z.object({ timeoutSeconds: timeoutSeconds.optional(), commands: z.object(commandsShape).partial().strict() }).strict()).default({}),
  })
  .strict();

export type ScriptConfig = z.output<typeof scriptConfigSchema>;

export interface ScriptCommand {
  run: string;
  timeoutMs: number;
}

/** The command for one action on one pool: the pool's own, else the default, with its timeout. */
export function commandFor(config: ScriptConfig, pool: string, action: ScriptAction): ScriptCommand {
  const own = config.pools[pool];
  const c = own?.commands[action] ?? config.commands[action];
  const seconds = (typeof c === 'string' ? undefined : c.timeoutSeconds) ?? own?.timeoutSeconds ?? config.timeoutSeconds;
  return { run: typeof c === 'string' ? c : c.run, timeoutMs: Math.round(seconds * 1000) };
}

export function parseScriptConfig(raw: unknown, label: string): ScriptConfig {
  const parsed = scriptConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
  throw new WarroomError('config_invalid', `${label}: invalid failover scripts:\n${problems.join('\n')}`, {
    hint: `Each of ${SCRIPT_ACTIONS.join(', ')} needs a command under "commands" (see "Pooled failover" in README.md).`,
  });
}

export function loadScriptConfig(path: string): ScriptConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new WarroomError('config_invalid', `WARROOM_FAILOVER_SCRIPTS: cannot read ${path}: ${(err as Error).message}`, { hint: 'Point it at a YAML or JSON file of failover commands.' });
  }
  return parseScriptConfig(raw, path);
}
