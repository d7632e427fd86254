import { pino, type Logger } from 'pino';

/**
 * Structured logs. Secrets and user message bodies never go in: the redact list removes
 * the fields where they could appear, and callers log ids and sizes, not text.
 */
export const redactPaths = [
  'password',
  'token',
  'secret',
  'authorization',
  'apiKey',
  'text',
  'body',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.apiKey',
  '*.text',
  '*.body',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { app: 'warroom' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Logs go to stderr so that CLI output on stdout stays machine-readable.
    (destination ?? process.stderr) as pino.DestinationStream,
  );
}

export type { Logger };
