import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { TradingCalendar } from '../../core/calendar.js';
import type { Config } from '../../core/config.js';
import { errorMessage, isWarroomError, WarroomError } from '../../core/errors.js';
import { formatZoned, zonedTime } from '../../core/time.js';
import { defineTool, type ToolContext, type ToolDefinition, type ToolRef } from '../tool.js';
import { citeRunbooks } from './citations.js';
import { diagnoseSnapshots, FINDING_KINDS, LIVE_SESSIONS, worstSeverity, type CardStatus, type FpgaFinding } from './diagnose.js';
import type { FpgaSnapshot } from './model.js';
import { cardName, describeFinding } from './wording.js';

/** How the status block is read: the addon or the TypeScript reader (the composition root picks). */
export type FpgaReader = (file: string) => FpgaSnapshot | Promise<FpgaSnapshot>;

/** The reader of a build without one: every read says so. */
export const unavailableFpgaReader: FpgaReader = () => {
  throw new WarroomError('fpga_reader_unavailable', 'FPGA status reader not available in this build.', {
    hint: 'The status block is read by the native addon (native/) or its TypeScript fallback; this build has neither wired in.',
  });
};

export const FPGA_STATUS_FILE = 'fpga-status.bin';

/** The status block of this configuration: WARROOM_FPGA_STATUS_FILE, else WARROOM_HOME/fpga-status.bin. */
export function fpgaStatusFile(config: Pick<Config, 'WARROOM_HOME' | 'WARROOM_FPGA_STATUS_FILE'>): string {
  return resolve(config.WARROOM_FPGA_STATUS_FILE ?? join(config.WARROOM_HOME, FPGA_STATUS_FILE));
}

export interface FpgaStatusDeps {
  read: FpgaReader;
  /** The block read when a call names none (fpgaStatusFile(config)). */
  defaultFile: string | undefined;
  /** Between the two reads that give the rates; default 1000 ms. */
  intervalMs?: number;
}

const severity = z.enum(['critical', 'warning']);
const findingSchema = z.object({
  kind: z.enum(FINDING_KINDS),
  severity,
  since: z.string().nullable().optional(),
  rejectCode: z.number().optional(),
  channels: z.array(z.number()).optional(),
  staleSeconds: z.object({ min: z.number(), max: z.number() }).optional(),
  silentChannels: z.array(z.number()).optional(),
  perSecond: z.number().optional(),
  used: z.number().optional(),
  limit: z.number().optional(),
  seconds: z.number().optional(),
});

const channelSchema = z.object({
  channel: z.number().int(),
  stale: z.boolean(),
  staleSeconds: z.number().optional(),
  ageSeconds: z.number().nullable(),
  lastOrigTime: z.string().nullable(),
  packetsPerSecond: z.number().nullable(),
  packetsOutPerSecond: z.number().nullable(),
  messagesPerSecond: z.number().nullable(),
  checksumErrors: z.number(),
  checksumErrorsPerSecond: z.number().nullable(),
  latencyP50Ns: z.number(),
  latencyP99Ns: z.number(),
});

const cardSchema = z.object({
  card: z.number().int(),
  /** ok: nothing found; otherwise the worst finding's severity. */
  health: z.enum(['ok', 'warning', 'critical']),
  mdgw: z.object({ tcp: z.enum(['down', 'connecting', 'established']), login: z.enum(['logged-out', 'logging-in', 'logged-in', 'rejected']), rejectCode: z.number().optional(), since: z.string().nullable() }),
  multicast: z.enum(['down', 'up']),
  toeSessions: z.number(),
  toeLimit: z.number(),
  activePath: z.enum(['fpga', 'software']),
  firmware: z.string(),
  bitstream: z.string(),
  updatedAt: z.string(),
  channels: z.array(channelSchema),
  /** What is wrong, in plain English, most severe first; `problemsZh` the same in Chinese. */
  problems: z.array(z.string()),
  problemsZh: z.array(z.string()),
  findings: z.array(findingSchema),
});

export const fpgaStatusSchema = z.object({
  /** Which reader produced the snapshots: say it in every answer. */
  reader: z.enum(['addon', 'typescript']),
  version: z.number(),
  file: z.string(),
  takenAt: z.string(),
  /** Between the two reads the rates are taken over. */
  intervalMs: z.number(),
  /** The trading session the freshness was judged against. */
  session: z.enum(['non_trading_day', 'pre_open', 'call_auction', 'morning_session', 'lunch_break', 'afternoon_session', 'post_close']),
  /** Whether quiet channels count as stale now (a session is live). */
  freshnessJudged: z.boolean(),
  staleAfterSeconds: z.number(),
  /** Read retries because the writer was mid-update, over both reads. */
  retries: z.number(),
  healthy: z.boolean(),
  cards: z.array(cardSchema),
  citations: z.array(z.object({ runbookId: z.string(), title: z.string(), section: z.string(), source: z.string(), for: z.array(z.enum(FINDING_KINDS)) })),
});

export type FpgaStatus = z.output<typeof fpgaStatusSchema>;
export type FpgaCardStatus = FpgaStatus['cards'][number];

const input = z.object({
  card: z.number().int().min(0).optional().describe('one card (0, 1, …); omit for every card'),
  file: z.string().trim().min(1).optional().describe('the status block to read; default WARROOM_FPGA_STATUS_FILE'),
  intervalMs: z.number().int().min(0).max(10_000).optional().describe('milliseconds between the two reads the rates come from; default 1000'),
  staleAfterSeconds: z.number().min(3).max(600).default(15).describe('during a session, a channel whose last OrigTime is older than this is stale'),
});

export const fpgaStatusToolRef: ToolRef<typeof input, typeof fpgaStatusSchema> = { name: 'fpga_status', input, output: fpgaStatusSchema };

/** When the live part of the day that contains `at` began: 09:15 (call auction and morning) or 13:00. */
export function sessionStartOf(calendar: TradingCalendar, at: Date): Date | undefined {
  const session = calendar.sessionAt(at);
  const date = calendar.dateOf(at);
  if (session === 'call_auction' || session === 'morning_session') return zonedTime(date, 9, 15, calendar.timeZone);
  if (session === 'afternoon_session') return zonedTime(date, 13, 0, calendar.timeZone);
  return undefined;
}

function blockMissing(file: string | undefined): WarroomError {
  const simulate = `warroom fpga simulate --file ${file ?? '<file>'}`;
  if (!file) {
    return new WarroomError('fpga_status_unconfigured', 'No FPGA status block is configured.', {
      hint: `Set WARROOM_FPGA_STATUS_FILE to the block the decoder's control plane writes (or pass --file). To try it without a card, start the simulator: \`${simulate}\`.`,
      status: 404,
    });
  }
  return new WarroomError('fpga_status_missing', `No FPGA status block at ${file}.`, {
    hint: `Is the decoder's control plane running on this host, and is WARROOM_FPGA_STATUS_FILE its block? To try it without a card, start the simulator: \`${simulate}\`.`,
    status: 404,
  });
}

/** One read of the block, with a reader's failure said plainly. */
export async function readBlock(read: FpgaReader, file: string | undefined): Promise<FpgaSnapshot> {
  if (!file || !existsSync(file)) throw blockMissing(file);
  try {
    return await read(file);
  } catch (err) {
    if (isWarroomError(err)) throw err;
    throw new WarroomError('fpga_status_unreadable', `Cannot read the FPGA status block ${file}: ${errorMessage(err)}`, {
      hint: 'Check that the file is the decoder\'s status block (native/README.md describes the layout) and that this user may read it.',
    });
  }
}

export interface SampleOptions {
  card?: number | undefined;
  intervalMs: number;
  staleAfterSeconds: number;
}

/**
 * Two reads `intervalMs` apart, diagnosed: the status as the tool returns it, without citations.
 * Used by fpga_status and by fpga_switch_path's post-check.
 */
export async function sampleFpgaStatus(read: FpgaReader, file: string | undefined, ctx: Pick<ToolContext, 'calendar' | 'now' | 'timeZone' | 'signal'>, o: SampleOptions): Promise<{ status: Omit<FpgaStatus, 'citations'>; findings: FpgaFinding[] }> {
  const first = await readBlock(read, file);
  if (o.card !== undefined && !first.cards.some((c) => c.card === o.card)) throw unknownCard(o.card, first, file!);
  if (o.intervalMs > 0) await sleep(o.intervalMs, undefined, ctx.signal ? { signal: ctx.signal } : {});
  const second = await readBlock(read, file);
  const session = ctx.calendar.sessionAt(ctx.now);
  const sessionStart = sessionStartOf(ctx.calendar, ctx.now);
  const cards = diagnoseSnapshots(first, second, { session, ...(sessionStart ? { sessionStart } : {}), staleAfterSeconds: o.staleAfterSeconds, intervalMs: o.intervalMs }).filter((c) => o.card === undefined || c.card === o.card);
  if (o.card !== undefined && cards.length === 0) throw unknownCard(o.card, second, file!);
  const shown = cards.map((c) => cardJson(c, ctx.timeZone, second.takenAt));
  return {
    status: {
      reader: second.reader,
      version: second.version,
      file: file!,
      takenAt: formatZoned(second.takenAt, ctx.timeZone),
      intervalMs: Math.max(0, second.takenAt.getTime() - first.takenAt.getTime()) || o.intervalMs,
      session,
      freshnessJudged: LIVE_SESSIONS.has(session),
      staleAfterSeconds: o.staleAfterSeconds,
      retries: first.retries + second.retries,
      healthy: shown.every((c) => c.health === 'ok'),
      cards: shown,
    },
    findings: cards.flatMap((c) => c.findings),
  };
}

export function unknownCard(card: number, snapshot: FpgaSnapshot, file: string): WarroomError {
  const known = snapshot.cards.map((c) => c.card).sort((a, b) => a - b);
  return new WarroomError('fpga_unknown_card', `No card ${card} in the FPGA status block ${file}.`, { hint: known.length ? `Cards in the block: ${known.join(', ')}.` : 'The block lists no card.', status: 404 });
}

function cardJson(c: CardStatus, timeZone: string, takenAt: Date): FpgaCardStatus {
  const at = (d: Date | null) => (d ? formatZoned(d, timeZone) : null);
  const words = { timeZone, reference: takenAt };
  return {
    card: c.card,
    health: worstSeverity(c.findings),
    mdgw: { tcp: c.mdgw.tcp, login: c.mdgw.login, ...(c.mdgw.rejectCode !== null ? { rejectCode: c.mdgw.rejectCode } : {}), since: at(c.mdgw.since) },
    multicast: c.multicast,
    toeSessions: c.toeSessions,
    toeLimit: c.toeLimit,
    activePath: c.activePath,
    firmware: c.firmware,
    bitstream: c.bitstream,
    updatedAt: formatZoned(c.updatedAt, timeZone),
    channels: c.channels.map((ch) => ({ ...ch, lastOrigTime: at(ch.lastOrigTime) })),
    problems: c.findings.map((f) => describeFinding(f, 'en', words)),
    problemsZh: c.findings.map((f) => describeFinding(f, 'zh', words)),
    findings: c.findings.map(({ card: _card, since, ...f }) => ({ ...f, ...(since !== undefined ? { since: at(since) } : {}) })),
  };
}

/** "card 0: MDGW login rejected (code 102) since 09:14:05; channels 2011 and 2012 stale for 38 s". */
export function fpgaStatusSummary(s: Pick<FpgaStatus, 'reader' | 'cards'>): string {
  const reader = `(${s.reader} reader)`;
  const bad = s.cards.filter((c) => c.problems.length);
  if (!s.cards.length) return `FPGA decoder ${reader}: the status block lists no card.`;
  if (!bad.length) return `FPGA decoder ${reader}: ${s.cards.length === 1 ? `${cardName(s.cards[0]!.card, 'en')} is` : `all ${s.cards.length} cards are`} healthy.`;
  return `FPGA decoder ${reader}: ${bad.map((c) => `${cardName(c.card, 'en')}: ${c.problems.join('; ')}`).join(' · ')}`;
}

/**
 * fpga_status (read): the decoder's status block read twice a short interval apart; per card and
 * channel the rates, freshness against the trading session, what is wrong in plain words, and the
 * runbook passages for it.
 */
export function createFpgaStatusTool(deps: FpgaStatusDeps): ToolDefinition<typeof input, typeof fpgaStatusSchema> {
  return defineTool({
    name: fpgaStatusToolRef.name,
    description:
      'FPGA market-data decoder status (行情卡状态): per card the MDGW TCP and login state (reject code), multicast link, TOE sessions, active path (FPGA or software fallback); per channel packet, message and checksum-error rates and freshness judged against the trading session; what is wrong in plain words with the runbook passages. Reads the status block twice a second apart.',
    risk: 'read',
    input,
    output: fpgaStatusSchema,
    async run(args, ctx) {
      const { status, findings } = await sampleFpgaStatus(deps.read, args.file ?? deps.defaultFile, ctx, {
        card: args.card,
        intervalMs: args.intervalMs ?? deps.intervalMs ?? 1000,
        staleAfterSeconds: args.staleAfterSeconds,
      });
      const rank = { critical: 0, warning: 1 } as const;
      const kinds = [...findings].sort((a, b) => rank[a.severity] - rank[b.severity]).map((f) => f.kind);
      const citations = kinds.length ? await citeRunbooks(ctx, [...new Set(kinds)]) : [];
      const data = { ...status, citations };
      return { data, status: data.cards.length ? 'success' : 'no_data', summary: fpgaStatusSummary(data) };
    },
  });
}
