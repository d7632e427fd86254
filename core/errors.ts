/**
 * One error type for everything a user can get wrong. `code` is stable for tests and machines,
 * `message` says what was wrong and where, `hint` says what to do about it.
 */
export class WarroomError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number;
  /** Machine-readable extras for the JSON error body (e.g. `field`, `limit`). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: { hint?: string; status?: number; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WarroomError';
    this.code = code;
    this.hint = options.hint;
    this.status = options.status ?? 400;
    this.details = options.details;
  }

  /** The text shown to a person: the problem, then what to do. */
  toUserText(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

export function isWarroomError(err: unknown): err is WarroomError {
  return err instanceof WarroomError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
