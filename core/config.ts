import { z } from 'zod';
import { WarroomError } from './errors.js';

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
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  WARROOM_TIMEZONE: z.preprocess(emptyToUndefined, z.string().default('Asia/Shanghai')),
  WARROOM_HOLIDAYS_FILE: optionalString,
  WARROOM_INGEST_TOKEN: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl(['http://', 'https://']),
  WARROOM_EMBEDDER: z.preprocess(emptyToUndefined, z.enum(['auto', 'offline', 'openai']).default('auto')),
  WARROOM_EMBEDDING_MODEL: z.preprocess(emptyToUndefined, z.string().default('text-embedding-3-small')),
  WARROOM_CHANGE_WINDOW_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(30).default(3)),
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
