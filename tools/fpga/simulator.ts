/**
 * The FPGA decoder simulator: writes a status block (layout.ts) and keeps changing it as a card's
 * control plane would, until stopped, with faults to diagnose. `warroom fpga simulate` runs it;
 * the demo and tests start one in-process with startFpgaSimulator().
 *
 * Each frame is a pure function of the spec and the clock (simulatorFrame): counters are the
 * integral of each channel's message rate over the time it flowed, OrigTime follows the clock, and
 * a fault stops, slows or flags what it names from its start on. Channels are numbered like the
 * Shenzhen exchange's (2011, 2012, 2013, 2014, 2021, …).
 *
 * A driver (fpga_switch_path) moves a card's consumers with setActivePath() in-process, or from
 * another process with requestFpgaPathSwitch(file, card, path): a small control file beside the
 * block (`<file>.control.json`) that the simulator reads every frame.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { WarroomError, errorMessage } from '../../core/errors.js';
import { TOE_LIMIT, type FpgaCardState } from './layout.js';
import type { ActivePath, FpgaChannel } from './model.js';
import { createFpgaStatusBlock, openFpgaStatusWriter, type FpgaReaderChoice, type FpgaReaderKind, type FpgaStatusWriter } from './status-block.js';

export const FPGA_FAULT_KINDS = ['mdgw-down', 'login-rejected', 'stale-channel', 'checksum-burst', 'toe-near-limit', 'fallback'] as const;
export type FpgaFaultKind = (typeof FPGA_FAULT_KINDS)[number];

export interface FpgaFault {
  kind: FpgaFaultKind;
  /** Card index (default 0). */
  card: number;
  /** ChannelNo, for stale-channel and checksum-burst (default: the card's 2nd channel, resp. its 1st). */
  channel?: number;
  /** login-rejected: the MDGW's reject code (default 102); toe-near-limit: sessions in use (default 126). */
  value?: number;
  /** Seconds after the simulator's start when the fault begins (default 0). */
  afterSeconds: number;
}

export interface SimulatorSpec {
  cards: number;
  channels: number;
  faults: FpgaFault[];
  /** The clock's time when the simulator started; channels have flowed since 10 minutes before. */
  startedAt: Date;
  /** Channels flow only in exchange sessions (09:15–11:30, 13:00–15:00 Beijing time, Mon–Fri). */
  marketHours?: boolean;
}

export const DEFAULT_REJECT_CODE = 102;
export const DEFAULT_TOE_NEAR_LIMIT = 126;
const WARM_UP_MS = 10 * 60_000;
const FIRMWARE = '3.4.2';
const BITSTREAM = 'szse-bin-2026.09.1';

/** Shenzhen-like ChannelNo: 2011–2014, 2021–2024, 2031–2034, … */
export function channelNumbers(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 2011 + Math.floor(i / 4) * 10 + (i % 4));
}

// ---------------------------------------------------------------------------------------------
// Fault specs: KIND[:card=N,channel=C,code=R,sessions=S,after=SECONDS]
// ---------------------------------------------------------------------------------------------
const FAULT_KEYS = ['card', 'channel', 'code', 'sessions', 'after'] as const;

export function parseFaultSpec(text: string, shape: { cards: number; channels: number }): FpgaFault {
  const [kindText = '', params = ''] = text.trim().split(/:(.*)/s);
  const kind = FPGA_FAULT_KINDS.find((k) => k === kindText);
  const bad = (why: string) =>
    new WarroomError('bad_fault', `--fault ${text}: ${why}.`, {
      hint: `Use KIND[:card=N,channel=C,code=R,sessions=S,after=SECONDS] with KIND one of ${FPGA_FAULT_KINDS.join(', ')}; e.g. --fault stale-channel:card=0,channel=2012.`,
    });
  if (!kind) throw bad(`"${kindText}" is not a fault`);
  const values: Partial<Record<(typeof FAULT_KEYS)[number], number>> = {};
  for (const part of params.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+(?:\.\d+)?)$/.exec(part);
    const key = FAULT_KEYS.find((k) => k === m?.[1]);
    if (!m || !key) throw bad(`"${part}" is not one of ${FAULT_KEYS.map((k) => `${k}=N`).join(', ')}`);
    values[key] = Number(m[2]);
  }
  const card = values.card ?? 0;
  if (!Number.isInteger(card) || card >= shape.cards) throw bad(`card ${card} is not simulated (cards 0..${shape.cards - 1})`);
  const numbers = channelNumbers(shape.channels);
  let channel: number | undefined;
  if (kind === 'stale-channel' || kind === 'checksum-burst') {
    channel = values.channel ?? (kind === 'stale-channel' ? (numbers[1] ?? numbers[0]) : numbers[0]);
    if (channel === undefined || !numbers.includes(channel)) throw bad(`channel ${channel} is not simulated (channels ${numbers.join(', ')})`);
  } else if (values.channel !== undefined) throw bad(`${kind} is a card fault: it takes no channel`);
  let value: number | undefined;
  if (kind === 'login-rejected') value = values.code ?? DEFAULT_REJECT_CODE;
  if (kind === 'toe-near-limit') {
    value = values.sessions ?? DEFAULT_TOE_NEAR_LIMIT;
    if (!Number.isInteger(value) || value > TOE_LIMIT) throw bad(`sessions=${value} is beyond the TOE limit of ${TOE_LIMIT}`);
  }
  if (values.code !== undefined && kind !== 'login-rejected') throw bad('code= is for login-rejected');
  if (values.sessions !== undefined && kind !== 'toe-near-limit') throw bad('sessions= is for toe-near-limit');
  return { kind, card, ...(channel !== undefined ? { channel } : {}), ...(value !== undefined ? { value } : {}), afterSeconds: values.after ?? 0 };
}

export function describeFault(f: FpgaFault): string {
  const where = f.channel !== undefined ? `card ${f.card} channel ${f.channel}` : `card ${f.card}`;
  const extra = f.kind === 'login-rejected' ? ` (code ${f.value})` : f.kind === 'toe-near-limit' ? ` (${f.value}/${TOE_LIMIT} sessions)` : '';
  return `${f.kind} on ${where}${extra}${f.afterSeconds ? ` after ${f.afterSeconds} s` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------
const BEIJING_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
/** Exchange sessions as [from, to) ms after Beijing midnight: call auction + morning, afternoon. */
const SESSIONS: Array<[number, number]> = [
  [(9 * 60 + 15) * 60_000, (11 * 60 + 30) * 60_000],
  [13 * 3_600_000, 15 * 3_600_000],
];

/** Milliseconds of exchange session time in [from, to) (weekdays; holidays not known here). */
export function sessionMsBetween(from: number, to: number): number {
  let total = 0;
  const firstDay = Math.floor((from + BEIJING_OFFSET_MS) / DAY_MS);
  const lastDay = Math.floor((to + BEIJING_OFFSET_MS) / DAY_MS);
  for (let day = firstDay; day <= lastDay; day++) {
    const weekday = (day + 4) % 7; // day 0 (1970-01-01) was a Thursday; 0 = Sunday
    if (weekday === 0 || weekday === 6) continue;
    const midnight = day * DAY_MS - BEIJING_OFFSET_MS;
    for (const [a, b] of SESSIONS) total += Math.max(0, Math.min(to, midnight + b) - Math.max(from, midnight + a));
  }
  return total;
}

/** The last moment at or before `t` (and after `from`) that was in a session, or undefined. */
function lastSessionMoment(from: number, t: number): number | undefined {
  for (let day = Math.floor((t + BEIJING_OFFSET_MS) / DAY_MS); day * DAY_MS - BEIJING_OFFSET_MS + DAY_MS > from; day--) {
    const weekday = (day + 4) % 7;
    if (weekday === 0 || weekday === 6) continue;
    const midnight = day * DAY_MS - BEIJING_OFFSET_MS;
    for (const [a, b] of [...SESSIONS].reverse()) {
      const end = Math.min(t, midnight + b);
      if (end > midnight + a && end > from) return end;
    }
  }
  return undefined;
}

export interface FrameOverrides {
  /** A driver's choice of path per card (setActivePath / the control file); wins over the fallback fault. */
  activePath?: Partial<Record<number, ActivePath>>;
}

/** Every card's state at `now`: a pure function of the spec, the clock and the driver's overrides. */
export function simulatorFrame(spec: SimulatorSpec, now: Date, overrides: FrameOverrides = {}): FpgaCardState[] {
  const t = now.getTime();
  // Counters start as if the feed had flowed a while (in market-hours mode: the last few days' sessions).
  const flowFrom = spec.startedAt.getTime() - (spec.marketHours ? 4 * DAY_MS : WARM_UP_MS);
  const numbers = channelNumbers(spec.channels);
  const faultStart = (f: FpgaFault) => spec.startedAt.getTime() + f.afterSeconds * 1000;
  const active = spec.faults.filter((f) => t >= faultStart(f));
  const flowMs = (from: number, to: number) => (to <= from ? 0 : spec.marketHours ? sessionMsBetween(from, to) : to - from);
  const lastFlow = (to: number) => (to <= flowFrom ? undefined : spec.marketHours ? lastSessionMoment(flowFrom, to) : to);

  return Array.from({ length: spec.cards }, (_, card) => {
    const mine = active.filter((f) => f.card === card);
    const cardFault = (kind: FpgaFaultKind) => mine.find((f) => f.kind === kind);
    const down = cardFault('mdgw-down');
    const rejected = cardFault('login-rejected');
    const fallback = cardFault('fallback');
    const near = cardFault('toe-near-limit');
    // The card's feed stops when the MDGW link or the login does.
    const cardStop = [down, rejected].filter((f): f is FpgaFault => f !== undefined).map(faultStart);
    const cardStopAt = cardStop.length ? Math.min(...cardStop) : undefined;

    const channels: FpgaChannel[] = numbers.map((channel, j) => {
      const stale = mine.find((f) => f.kind === 'stale-channel' && f.channel === channel);
      const burst = mine.find((f) => f.kind === 'checksum-burst' && f.channel === channel);
      const stops = [cardStopAt, stale ? faultStart(stale) : undefined].filter((x): x is number => x !== undefined);
      const flowUntil = Math.min(t, ...stops);
      const rate = 600 + ((channel * 37 + card * 101) % 900); // messages per second
      const flowed = flowMs(flowFrom, flowUntil) / 1000;
      const received = Math.floor(rate * flowed);
      const burstSeconds = burst ? flowMs(faultStart(burst), flowUntil) / 1000 : 0;
      const checksumErrors = Math.floor(35 * burstSeconds);
      const messagesDecoded = Math.max(0, received - checksumErrors);
      const packetsIn = Math.floor(received / 1.6);
      // In fallback the card no longer multicasts: what it sent stops where the fallback began.
      const outUntil = fallback ? Math.min(flowUntil, faultStart(fallback)) : flowUntil;
      const packetsOut = Math.floor((rate * flowMs(flowFrom, outUntil)) / 1000 / 1.6);
      const last = lastFlow(flowUntil);
      const phase = Math.sin(flowUntil / 7000 + j); // a channel without messages keeps its last percentiles
      const p50 = Math.round(620 + (channel % 7) * 15 + 25 * phase);
      const p99 = Math.round(p50 * 2.1 + 90 * Math.abs(phase) + (burst ? 2400 : 0));
      return {
        channel,
        packetsIn,
        packetsOut,
        messagesDecoded,
        checksumErrors,
        lastOrigTime: last === undefined ? null : new Date(last - ((channel * 7) % 40)),
        latencyP50Ns: p50,
        latencyP99Ns: p99,
      };
    });

    const mdgwSince = down ?? rejected;
    return {
      card,
      mdgw: {
        tcp: down ? 'down' : 'established',
        login: down ? 'logged-out' : rejected ? 'rejected' : 'logged-in',
        rejectCode: !down && rejected ? (rejected.value ?? DEFAULT_REJECT_CODE) : null,
        since: new Date(mdgwSince ? faultStart(mdgwSince) : spec.startedAt.getTime()),
      },
      multicast: fallback ? 'down' : 'up',
      toeSessions: near ? (near.value ?? DEFAULT_TOE_NEAR_LIMIT) : 12 + 2 * card,
      toeLimit: TOE_LIMIT,
      activePath: overrides.activePath?.[card] ?? (fallback ? 'software' : 'fpga'),
      firmware: FIRMWARE,
      bitstream: BITSTREAM,
      updatedAt: now,
      channels,
    } satisfies FpgaCardState;
  });
}

// ---------------------------------------------------------------------------------------------
// The control file: a driver's path switches, from any process
// ---------------------------------------------------------------------------------------------
const controlSchema = z.object({ activePath: z.record(z.string().regex(/^\d+$/), z.enum(['fpga', 'software'])).default({}) });

export const controlFileOf = (file: string): string => `${file}.control.json`;

function readControl(file: string): Record<string, ActivePath> {
  const path = controlFileOf(file);
  if (!existsSync(path)) return {};
  const parsed = controlSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new WarroomError('bad_control_file', `${path} is not a simulator control file: ${parsed.error.issues[0]?.message}.`, { hint: 'Remove it; requestFpgaPathSwitch() writes it.' });
  return parsed.data.activePath;
}

/** Ask a simulator writing `file` (in any process) to move card `card`'s consumers to `path`. */
export function requestFpgaPathSwitch(file: string, card: number, path: ActivePath): void {
  const control = { activePath: { ...readControl(file), [String(card)]: path } };
  const target = controlFileOf(file);
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(control)}\n`);
  renameSync(tmp, target);
}

// ---------------------------------------------------------------------------------------------
// The running simulator
// ---------------------------------------------------------------------------------------------
export interface FpgaSimulatorOptions {
  file: string;
  cards?: number;
  channels?: number;
  /** Faults, parsed or as on the command line ("stale-channel:card=0,channel=2012"). */
  faults?: Array<FpgaFault | string>;
  /** Frames per second (default 10, at most 1000). */
  rate?: number;
  clock?: () => Date;
  marketHours?: boolean;
  /** Which writer (default WARROOM_FPGA_READER, else the addon's where it loaded). */
  prefer?: FpgaReaderChoice;
  /** A frame could not be written (the simulator stops). Default: thrown from the timer. */
  onError?: (err: WarroomError) => void;
  /** false: the frame timer does not keep the process alive (in-process use beside a server). Default true. */
  keepAlive?: boolean;
}

export interface FpgaSimulator {
  readonly file: string;
  readonly writer: FpgaReaderKind;
  readonly spec: SimulatorSpec;
  /** Frames written so far (the first at start). */
  frames(): number;
  /** Write a frame now (tests step the clock and call this instead of waiting for the timer). */
  tick(): void;
  /** The driver's switch, in-process: consumers of `card` on `path` from the next frame on. */
  setActivePath(card: number, path: ActivePath): void;
  stop(): Promise<void>;
}

export function startFpgaSimulator(options: FpgaSimulatorOptions): FpgaSimulator {
  const cards = options.cards ?? 2;
  const channels = options.channels ?? 4;
  const rate = options.rate ?? 10;
  if (!Number.isInteger(cards) || cards < 1 || cards > 64) throw new WarroomError('bad_option', `--cards ${cards}: simulate 1 to 64 cards.`);
  if (!Number.isInteger(channels) || channels < 1 || channels > 1024) throw new WarroomError('bad_option', `--channels ${channels}: simulate 1 to 1024 channels per card.`);
  if (!(rate > 0 && rate <= 1000)) throw new WarroomError('bad_option', `--rate ${rate}: frames per second must be above 0 and at most 1000.`);
  const clock = options.clock ?? (() => new Date());
  const faults = (options.faults ?? []).map((f) => (typeof f === 'string' ? parseFaultSpec(f, { cards, channels }) : f));
  const spec: SimulatorSpec = { cards, channels, faults, startedAt: clock(), ...(options.marketHours ? { marketHours: true } : {}) };
  const overrides: Record<number, ActivePath> = {};
  let control: { mtimeMs: number; paths: Record<string, ActivePath> } = { mtimeMs: -1, paths: {} };

  const frame = () => {
    const path = controlFileOf(options.file);
    const mtimeMs = existsSync(path) ? statSync(path).mtimeMs : 0;
    if (mtimeMs !== control.mtimeMs) control = { mtimeMs, paths: mtimeMs ? readControl(options.file) : {} };
    const activePath: Record<number, ActivePath> = { ...overrides };
    for (const [k, v] of Object.entries(control.paths)) activePath[Number(k)] = v;
    return simulatorFrame(spec, clock(), { activePath });
  };

  // A control file left by an earlier run is not this run's: every card starts on its own path.
  rmSync(controlFileOf(options.file), { force: true });
  createFpgaStatusBlock(options.file, { cards: frame(), channelSlots: channels });
  const writer: FpgaStatusWriter = openFpgaStatusWriter(options.file, options.prefer ? { prefer: options.prefer } : {});
  let frames = 1;
  let stopped = false;

  const tick = () => {
    if (stopped) return;
    frame().forEach((c, i) => writer.writeCard(c, i));
    frames++;
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      const e = err instanceof WarroomError ? err : new WarroomError('fpga_simulator_failed', `The FPGA simulator could not write ${options.file}: ${errorMessage(err)}`);
      void stop();
      if (options.onError) options.onError(e);
      else throw e;
    }
  }, 1000 / rate);
  if (options.keepAlive === false) timer.unref();

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    writer.close();
  };

  return {
    file: options.file,
    writer: writer.writer,
    spec,
    frames: () => frames,
    tick,
    setActivePath(card, path) {
      if (!Number.isInteger(card) || card < 0 || card >= cards) throw new WarroomError('bad_card', `Card ${card} is not simulated (cards 0..${cards - 1}).`);
      overrides[card] = path;
    },
    stop,
  };
}
