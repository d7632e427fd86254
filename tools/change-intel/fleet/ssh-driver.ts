import { spawn } from 'node:child_process';
import { WarroomError } from '../../../core/errors.js';
import { HostFailure, MAX_SNAPSHOT_BYTES, parseJsonDocument, type FleetDriver } from './driver.js';

/**
 * Split a command template into argv the way a shell would split words, without a shell: blanks
 * separate words, '…' is literal, "…" allows \" and \\, a backslash outside quotes escapes the next
 * character. No expansion of any kind ($, *, ~, ;, |): what is written is what runs.
 */
export function splitCommandTemplate(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (template[i + 1] === '"' || template[i + 1] === '\\')) word += template[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < template.length) {
      word += template[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new WarroomError('fleet_command_invalid', `The fleet command template has an unclosed ${quote} quote: ${template}`, { hint: 'Fix WARROOM_FLEET_SSH_COMMAND, e.g. ssh -o BatchMode=yes {host} warroom-sensor --json' });
  if (inWord) words.push(word);
  if (words.length === 0) throw new WarroomError('fleet_command_invalid', 'The fleet command template is empty.', { hint: 'Set WARROOM_FLEET_SSH_COMMAND, e.g. ssh -o BatchMode=yes {host} warroom-sensor --json' });
  if (words[0]!.includes('{host}')) throw new WarroomError('fleet_command_invalid', `The fleet command template must start with a program, not {host}: ${template}`);
  return words;
}

/**
 * What the command sees of Warroom's environment: enough to find programs and the ssh agent, and
 * none of Warroom's own secrets (database URL, chat tokens), which a remote command has no need of.
 */
const PASSED_ENV = /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z_]+|TZ|TMPDIR|SSH_AUTH_SOCK|SYSTEMROOT)$/;

export interface SshDriverOptions {
  /** `ssh -o BatchMode=yes {host} warroom-sensor --json`; `{host}` is replaced within each word. */
  commandTemplate: string;
  maxBytes?: number;
  /** After SIGTERM on timeout or cancel, how long before SIGKILL. */
  killGraceMs?: number;
}

/** Runs a command per host (ssh by default) whose standard output is the snapshot JSON. */
export function createSshDriver(options: SshDriverOptions): FleetDriver {
  const argv = splitCommandTemplate(options.commandTemplate);
  const maxBytes = options.maxBytes ?? MAX_SNAPSHOT_BYTES;
  const grace = options.killGraceMs ?? 2000;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => PASSED_ENV.test(k)));
  return {
    name: 'ssh',
    describe: `run ${options.commandTemplate}`,
    fetch(host, signal) {
      const [program, ...args] = argv.map((w) => w.replaceAll('{host}', host));
      return new Promise<unknown>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        // Its own process group, so a timeout ends the command and whatever it started (a wrapper
        // script's children would otherwise hold the pipe open).
        const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true, shell: false });
        const out: Buffer[] = [];
        let outBytes = 0;
        let errTail = '';
        let settled = false;
        let killTimer: NodeJS.Timeout | undefined;
        const killGroup = (sig: NodeJS.Signals) => {
          try {
            if (child.pid) process.kill(-child.pid, sig);
          } catch {
            // Already gone.
          }
        };
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          fn();
        };
        const stop = () => {
          killGroup('SIGTERM');
          killTimer = setTimeout(() => killGroup('SIGKILL'), grace);
          killTimer.unref();
        };
        function onAbort() {
          stop();
          settle(() => reject(signal.reason));
        }
        signal.addEventListener('abort', onAbort, { once: true });
        child.stdout.on('data', (chunk: Buffer) => {
          outBytes += chunk.length;
          if (outBytes > maxBytes) {
            stop();
            settle(() => reject(new HostFailure(`${program} wrote more than the ${maxBytes} bytes a snapshot may have`)));
            return;
          }
          out.push(chunk);
        });
        child.stderr.on('data', (chunk: Buffer) => {
          errTail = (errTail + chunk.toString('utf8')).slice(-2000);
        });
        child.on('error', (err: NodeJS.ErrnoException) => settle(() => reject(new HostFailure(`cannot run ${program}: ${err.code ?? err.message}`))));
        child.on('close', (code, sig) => {
          if (killTimer && code !== null) clearTimeout(killTimer);
          settle(() => {
            if (code !== 0) {
              const why = errTail.trim().split('\n').filter(Boolean).slice(-2).join(' / ').slice(0, 300);
              reject(new HostFailure(`${program} ${sig ? `was killed by ${sig}` : `exited with ${code}`}${why ? `: ${why}` : ''}`));
              return;
            }
            try {
              resolve(parseJsonDocument(Buffer.concat(out).toString('utf8')));
            } catch (err) {
              reject(err);
            }
          });
        });
      });
    },
  };
}
