import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface ShellResult {
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const TAIL_CHARS = 2000;
const KILL_GRACE_MS = 2000;
const EXIT_GRACE_MS = 200;

/** Keep only the end of a stream: the part that says how it ended. */
function tailCollector(): { add(chunk: Buffer): void; text(): string } {
  let text = '';
  return {
    add(chunk) {
      text = (text + chunk.toString('utf8')).slice(-TAIL_CHARS * 2);
    },
    text: () => text.slice(-TAIL_CHARS),
  };
}

/**
 * Run one command with `/bin/sh -c` in its own process group, so a timeout or an abort ends the
 * command and whatever it started (curl, ssh): SIGTERM, then SIGKILL after a grace period. Once the
 * shell has exited, the command is done, even if something it started in the background lives on.
 */
export function runShell(command: string, options: { env?: Record<string, string>; timeoutMs: number; signal?: AbortSignal }): Promise<ShellResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = tailCollector();
    const err = tailCollector();
    child.stdout.on('data', out.add);
    child.stderr.on('data', err.add);
    let timedOut = false;
    let aborted = false;
    const stop = () => {
      const kill = (sig: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    const finish = (exitCode: number | null, spawnError?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode, timedOut, aborted, stdout: out.text(), stderr: spawnError ? spawnError.message : err.text(), durationMs: Math.round(performance.now() - started) });
    };
    child.on('error', (e) => finish(null, e));
    child.on('close', (code) => finish(code));
    // A command that starts a daemon may leave it holding stdout: once the shell itself has exited,
    // take what output there is and let the daemon be (it is not killed by the timeout).
    child.on('exit', (code) => {
      clearTimeout(timer);
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code);
      }, EXIT_GRACE_MS);
    });
  });
}

/** A shell word that stands for `text` itself, whatever it contains. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
