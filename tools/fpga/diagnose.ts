import type { TradingSession } from '../../core/calendar.js';
import type { ActivePath, FpgaCard, FpgaChannel, FpgaSnapshot, MdgwLoginState, MdgwTcpState } from './model.js';

/**
 * What is wrong with the FPGA decoder, from two snapshots of its status block taken a short
 * interval apart: rates from the counters' growth, per-channel freshness judged against the
 * trading session, and the findings people act on. Pure: no clock, no store, no wording (see
 * wording.ts), so the tool, the view and the tests share it.
 */

export const FINDING_KINDS = [
  'mdgw-down',
  'mdgw-connecting',
  'login-rejected',
  'logged-out',
  'logging-in',
  'multicast-down',
  'stale-channels',
  'checksum-burst',
  'toe-near-limit',
  'software-path',
  'card-not-updating',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export type Severity = 'critical' | 'warning';

/** One thing wrong on one card; the fields a kind uses are set, the others absent. */
export interface FpgaFinding {
  kind: FindingKind;
  severity: Severity;
  card: number;
  /** When the MDGW state began (the block's `since`), as the block says. */
  since?: Date | null;
  rejectCode?: number;
  /** Channels concerned (stale, checksum burst), ascending. */
  channels?: number[];
  /** Stale channels that had a message: the shortest and longest staleness, seconds. */
  staleSeconds?: { min: number; max: number };
  /** Stale channels that have never decoded a message (no OrigTime yet); also in `channels`. */
  silentChannels?: number[];
  /** Checksum errors per second over the interval (all channels named). */
  perSecond?: number;
  /** TOE sessions in use and the limit. */
  used?: number;
  limit?: number;
  /** Card record not updated for this many seconds. */
  seconds?: number;
}

export interface ChannelStatus {
  channel: number;
  stale: boolean;
  /** How long the channel has been stale (counted within the current session only), seconds. */
  staleSeconds?: number;
  /** Seconds since the last OrigTime, as the reader's clock sees it; null before the first message. */
  ageSeconds: number | null;
  lastOrigTime: Date | null;
  packetsPerSecond: number | null;
  packetsOutPerSecond: number | null;
  messagesPerSecond: number | null;
  checksumErrors: number;
  checksumErrorsPerSecond: number | null;
  latencyP50Ns: number;
  latencyP99Ns: number;
}

export interface CardStatus {
  card: number;
  mdgw: { tcp: MdgwTcpState; login: MdgwLoginState; rejectCode: number | null; since: Date | null };
  multicast: 'up' | 'down';
  toeSessions: number;
  toeLimit: number;
  activePath: ActivePath;
  firmware: string;
  bitstream: string;
  updatedAt: Date;
  channels: ChannelStatus[];
  /** Most severe first. */
  findings: FpgaFinding[];
}

export interface DiagnoseOptions {
  /** The session the question is about (ctx.calendar.sessionAt(ctx.now)). */
  session: TradingSession;
  /**
   * When the current live part of the day began (09:15 for the call auction and the morning,
   * 13:00 for the afternoon): a channel is never counted stale for time before it (the lunch break).
   */
  sessionStart?: Date;
  /** A channel whose last OrigTime is older than this during a session is stale (default 15). */
  staleAfterSeconds?: number;
  /** TOE sessions at or above this share of the limit is a warning (default 0.9). */
  toeWarnShare?: number;
  /** The card record is "not updating" when older than this (default 30 s). */
  notUpdatingSeconds?: number;
  /** The interval asked for, used when both snapshots carry the same `takenAt`. */
  intervalMs?: number;
}

/** Sessions in which exchanges push snapshots (every 3 s for stocks, 5 s for indices). */
export const LIVE_SESSIONS: ReadonlySet<TradingSession> = new Set(['call_auction', 'morning_session', 'afternoon_session']);
/** Sessions in which a card must be ready (MDGW and multicast problems are critical), even when channels are quiet. */
const READY_SESSIONS: ReadonlySet<TradingSession> = new Set(['pre_open', 'call_auction', 'morning_session', 'lunch_break', 'afternoon_session']);

/** A login or connection still in progress is worth saying only when it has lasted this long (the runbook's alert). */
const TRANSIENT_SECONDS = 10;
/** A burst: at least this many new errors in the interval, and at least 10 a minute (the runbook's alert). */
const BURST_MIN_ERRORS = 2;
const BURST_MIN_PER_SECOND = 10 / 60;

const round1 = (n: number) => Math.round(n * 10) / 10;
const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1 };

function rate(before: number | undefined, after: number, seconds: number): number | null {
  if (before === undefined || seconds <= 0 || after < before) return null; // counter reset or first sight: no rate
  return round1((after - before) / seconds);
}

function channelStatus(prev: FpgaChannel | undefined, cur: FpgaChannel, seconds: number, takenAt: Date, o: Required<Pick<DiagnoseOptions, 'staleAfterSeconds'>> & DiagnoseOptions): ChannelStatus {
  const ageSeconds = cur.lastOrigTime ? Math.max(0, Math.round((takenAt.getTime() - cur.lastOrigTime.getTime()) / 1000)) : null;
  // Only time inside the current session counts: at 13:00:05 a channel last heard at 11:29:58 is not stale.
  let stale = false;
  let staleSeconds: number | undefined;
  if (LIVE_SESSIONS.has(o.session)) {
    const from = Math.max(cur.lastOrigTime?.getTime() ?? -Infinity, o.sessionStart?.getTime() ?? -Infinity);
    const quiet = Number.isFinite(from) ? Math.round((takenAt.getTime() - from) / 1000) : null;
    if (quiet === null || quiet > o.staleAfterSeconds) {
      stale = true;
      if (quiet !== null) staleSeconds = quiet;
    }
  }
  return {
    channel: cur.channel,
    stale,
    ...(staleSeconds !== undefined ? { staleSeconds } : {}),
    ageSeconds,
    lastOrigTime: cur.lastOrigTime,
    packetsPerSecond: rate(prev?.packetsIn, cur.packetsIn, seconds),
    packetsOutPerSecond: rate(prev?.packetsOut, cur.packetsOut, seconds),
    messagesPerSecond: rate(prev?.messagesDecoded, cur.messagesDecoded, seconds),
    checksumErrors: cur.checksumErrors,
    checksumErrorsPerSecond: rate(prev?.checksumErrors, cur.checksumErrors, seconds),
    latencyP50Ns: cur.latencyP50Ns,
    latencyP99Ns: cur.latencyP99Ns,
  };
}

function findingsOf(prev: FpgaCard | undefined, card: FpgaCard, channels: ChannelStatus[], seconds: number, takenAt: Date, o: Required<Pick<DiagnoseOptions, 'toeWarnShare' | 'notUpdatingSeconds'>> & DiagnoseOptions): FpgaFinding[] {
  const out: FpgaFinding[] = [];
  const ready = READY_SESSIONS.has(o.session);
  // Consumers on the software path, or no session to serve: what is wrong on the card can wait for a repair, not a page.
  const cap = (s: Severity): Severity => (card.activePath === 'software' || !ready ? 'warning' : s);
  const add = (f: Omit<FpgaFinding, 'card'>) => out.push({ card: card.card, ...f, severity: f.kind === 'software-path' ? f.severity : cap(f.severity) });
  const { mdgw } = card;
  const lasted = (since: Date | null) => !since || takenAt.getTime() - since.getTime() >= TRANSIENT_SECONDS * 1000;

  if (mdgw.tcp === 'down') add({ kind: 'mdgw-down', severity: 'critical', since: mdgw.since });
  else if (mdgw.tcp === 'connecting') {
    if (lasted(mdgw.since)) add({ kind: 'mdgw-connecting', severity: 'critical', since: mdgw.since });
  } else if (mdgw.login === 'rejected') add({ kind: 'login-rejected', severity: 'critical', since: mdgw.since, ...(mdgw.rejectCode !== null ? { rejectCode: mdgw.rejectCode } : {}) });
  else if (mdgw.login === 'logged-out') add({ kind: 'logged-out', severity: 'critical', since: mdgw.since });
  else if (mdgw.login === 'logging-in' && lasted(mdgw.since)) add({ kind: 'logging-in', severity: 'warning', since: mdgw.since });

  if (card.multicast === 'down') add({ kind: 'multicast-down', severity: 'critical' });

  const stale = channels.filter((c) => c.stale);
  if (stale.length) {
    const heard = stale.filter((c) => c.lastOrigTime !== null);
    const secs = heard.flatMap((c) => (c.staleSeconds !== undefined ? [c.staleSeconds] : []));
    const silent = stale.filter((c) => c.lastOrigTime === null).map((c) => c.channel);
    add({
      kind: 'stale-channels',
      severity: 'critical',
      channels: stale.map((c) => c.channel),
      ...(secs.length ? { staleSeconds: { min: Math.min(...secs), max: Math.max(...secs) } } : {}),
      ...(silent.length ? { silentChannels: silent } : {}),
    });
  }

  if (prev && seconds > 0) {
    const prevByNo = new Map(prev.channels.map((c) => [c.channel, c]));
    let errors = 0;
    let packets = 0;
    const bursting: number[] = [];
    for (const c of card.channels) {
      const p = prevByNo.get(c.channel);
      if (!p || c.checksumErrors < p.checksumErrors) continue;
      const delta = c.checksumErrors - p.checksumErrors;
      packets += Math.max(0, c.packetsIn - p.packetsIn);
      if (delta >= BURST_MIN_ERRORS && delta / seconds >= BURST_MIN_PER_SECOND) {
        bursting.push(c.channel);
        errors += delta;
      }
    }
    if (bursting.length) {
      // Above 1% of the packets received, consumers see gaps everywhere: the card's input is not usable.
      add({ kind: 'checksum-burst', severity: packets > 0 && errors / packets >= 0.01 ? 'critical' : 'warning', channels: bursting, perSecond: round1(errors / seconds) });
    }
  }

  if (card.toeLimit > 0 && card.toeSessions >= card.toeLimit * o.toeWarnShare) {
    add({ kind: 'toe-near-limit', severity: card.toeSessions >= card.toeLimit ? 'critical' : 'warning', used: card.toeSessions, limit: card.toeLimit });
  }

  if (card.activePath === 'software') add({ kind: 'software-path', severity: 'warning' });

  const recordAge = Math.round((takenAt.getTime() - card.updatedAt.getTime()) / 1000);
  if (recordAge > o.notUpdatingSeconds && (!prev || prev.updatedAt.getTime() === card.updatedAt.getTime())) add({ kind: 'card-not-updating', severity: 'warning', seconds: recordAge });

  return out.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

/**
 * Per card and channel: rates over the interval between `first` and `second`, freshness, and the
 * findings. A card only in `second` has no rates (first sight); one only in `first` is gone and
 * not reported.
 */
export function diagnoseSnapshots(first: FpgaSnapshot, second: FpgaSnapshot, options: DiagnoseOptions): CardStatus[] {
  const o = { staleAfterSeconds: 15, toeWarnShare: 0.9, notUpdatingSeconds: 30, ...options };
  const elapsedMs = second.takenAt.getTime() - first.takenAt.getTime();
  const seconds = (elapsedMs > 0 ? elapsedMs : (o.intervalMs ?? 0)) / 1000;
  const before = new Map(first.cards.map((c) => [c.card, c]));
  return [...second.cards]
    .sort((a, b) => a.card - b.card)
    .map((card) => {
      const prev = before.get(card.card);
      const prevByNo = new Map((prev?.channels ?? []).map((c) => [c.channel, c]));
      const channels = [...card.channels].sort((a, b) => a.channel - b.channel).map((c) => channelStatus(prevByNo.get(c.channel), c, seconds, second.takenAt, o));
      return {
        card: card.card,
        mdgw: { ...card.mdgw },
        multicast: card.multicast,
        toeSessions: card.toeSessions,
        toeLimit: card.toeLimit,
        activePath: card.activePath,
        firmware: card.firmware,
        bitstream: card.bitstream,
        updatedAt: card.updatedAt,
        channels,
        findings: findingsOf(prev, card, channels, seconds, second.takenAt, o),
      };
    });
}

/** A card is healthy when nothing is found on it. */
export function worstSeverity(findings: FpgaFinding[]): Severity | 'ok' {
  if (findings.some((f) => f.severity === 'critical')) return 'critical';
  return findings.length ? 'warning' : 'ok';
}
