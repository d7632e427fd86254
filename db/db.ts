/**
 * One store interface over real PostgreSQL (`pg`) and embedded PGlite. The SQL is the same on
 * both; values are passed as parameters, vectors as pgvector text literals ('[1,2,3]').
 */
export type Row = Record<string, unknown>;

export interface Queryable {
  /** Run one parameterised statement and return its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Run several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** A short description for logs and /healthz (never includes a password). */
  readonly description: string;
  /** Run `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Take a named lock without waiting: a release function, or undefined when another holder has it
   * (another process, or another caller in this one). PostgreSQL: a session advisory lock on its own
   * connection, so a process that dies loses it with its connection. PGlite: held in this process
   * (one process owns an embedded store).
   */
  tryLock(name: string): Promise<(() => Promise<void>) | undefined>;
  /** Cheap liveness check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** pgvector's text form, accepted by a `$n::vector` parameter on both drivers. */
export function toVectorLiteral(values: ArrayLike<number>): string {
  return `[${Array.prototype.join.call(values, ',')}]`;
}
