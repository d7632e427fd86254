import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WarroomError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';
import { FORWARDED_COMMANDS, OWNER_COMMANDS } from '../../cli/program.js';
import type { FpgaCardState } from '../../tools/fpga/layout.js';
import { channelNumbers, parseFaultSpec, requestFpgaPathSwitch, sessionMsBetween, simulatorFrame, startFpgaSimulator, type SimulatorSpec } from '../../tools/fpga/simulator.js';
import { addonStatus, readFpgaStatus } from '../../tools/fpga/status-block.js';

const START = new Date('2026-11-23T09:40:00+08:00'); // a Monday, in the morning session
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);
const shape = { cards: 2, channels: 4 };
const spec = (faults: string[], extra: Partial<SimulatorSpec> = {}): SimulatorSpec => ({ ...shape, faults: faults.map((f) => parseFaultSpec(f, shape)), startedAt: START, ...extra });
const channel = (cards: FpgaCardState[], card: number, no: number) => cards[card]!.channels.find((c) => c.channel === no)!;

describe('the simulator\'s frames', () => {
  it('number channels like the Shenzhen exchange and move every counter and OrigTime with the clock', () => {
    expect(channelNumbers(10)).toEqual([2011, 2012, 2013, 2014, 2021, 2022, 2023, 2024, 2031, 2032]);
    const s = spec([]);
    const a = simulatorFrame(s, at(0));
    const b = simulatorFrame(s, at(10));
    for (const card of [0, 1]) {
      expect(b[card]!.mdgw).toEqual({ tcp: 'established', login: 'logged-in', rejectCode: null, since: START });
      expect(b[card]!).toMatchObject({ multicast: 'up', activePath: 'fpga', toeLimit: 128, updatedAt: at(10) });
      for (const no of [2011, 2012, 2013, 2014]) {
        const x = channel(a, card, no);
        const y = channel(b, card, no);
        expect(y.messagesDecoded - x.messagesDecoded).toBeGreaterThan(6000); // ≥ 600 messages/s
        expect(y.packetsIn).toBeGreaterThan(x.packetsIn);
        expect(y.packetsOut).toBe(y.packetsIn);
        expect(y.checksumErrors).toBe(0);
        expect(at(10).getTime() - y.lastOrigTime!.getTime()).toBeLessThan(40);
        expect(y.latencyP50Ns).toBeGreaterThan(500);
        expect(y.latencyP99Ns).toBeGreaterThan(y.latencyP50Ns);
      }
    }
    expect(simulatorFrame(s, at(10))).toEqual(b); // a pure function of spec and clock
  });

  it('mdgw-down: the TCP session and the login are down since the fault, and the card\'s channels stop', () => {
    const f = simulatorFrame(spec(['mdgw-down:card=1,after=5']), at(60));
    expect(f[1]!.mdgw).toEqual({ tcp: 'down', login: 'logged-out', rejectCode: null, since: at(5) });
    expect(channel(f, 1, 2013).lastOrigTime!.getTime()).toBeLessThanOrEqual(at(5).getTime());
    expect(channel(f, 1, 2013)).toEqual(channel(simulatorFrame(spec(['mdgw-down:card=1,after=5']), at(30)), 1, 2013));
    expect(f[0]!.mdgw.tcp).toBe('established');
  });

  it('login-rejected: logged in no more, with the reject code, and no data', () => {
    const f = simulatorFrame(spec(['login-rejected:card=0']), at(38));
    expect(f[0]!.mdgw).toEqual({ tcp: 'established', login: 'rejected', rejectCode: 102, since: START });
    expect(at(38).getTime() - channel(f, 0, 2011).lastOrigTime!.getTime()).toBeGreaterThanOrEqual(38_000);
    expect(simulatorFrame(spec(['login-rejected:code=213']), at(1))[0]!.mdgw.rejectCode).toBe(213);
  });

  it('stale-channel: only that channel stops (default: the card\'s second channel)', () => {
    const s = spec(['stale-channel:card=1']);
    const a = simulatorFrame(s, at(10));
    const b = simulatorFrame(s, at(50));
    expect(channel(b, 1, 2012)).toMatchObject({ messagesDecoded: channel(a, 1, 2012).messagesDecoded, lastOrigTime: channel(a, 1, 2012).lastOrigTime });
    expect(channel(b, 1, 2011).messagesDecoded).toBeGreaterThan(channel(a, 1, 2011).messagesDecoded);
    expect(channel(b, 0, 2012).messagesDecoded).toBeGreaterThan(channel(a, 0, 2012).messagesDecoded);
  });

  it('checksum-burst: checksum errors climb on that channel, with a worse p99', () => {
    const s = spec(['checksum-burst:card=0,channel=2013']);
    const f = simulatorFrame(s, at(20));
    expect(channel(f, 0, 2013).checksumErrors).toBe(700);
    expect(channel(f, 0, 2013).latencyP99Ns).toBeGreaterThan(2400);
    expect(channel(f, 0, 2011).checksumErrors).toBe(0);
  });

  it('toe-near-limit and fallback', () => {
    const f = simulatorFrame(spec(['toe-near-limit:card=1', 'fallback:card=0,after=10']), at(40));
    expect(f[1]!.toeSessions).toBe(126);
    expect(f[0]!.toeSessions).toBe(12);
    expect(f[0]!).toMatchObject({ activePath: 'software', multicast: 'down' });
    // The card still receives, but multicasts no more since the fallback.
    expect(channel(f, 0, 2011).packetsOut).toBe(channel(simulatorFrame(spec(['fallback:card=0,after=10']), at(10)), 0, 2011).packetsOut);
    expect(channel(f, 0, 2011).packetsIn).toBeGreaterThan(channel(f, 0, 2011).packetsOut);
    expect(simulatorFrame(spec(['toe-near-limit:card=1,sessions=127']), at(0))[1]!.toeSessions).toBe(127);
    // A driver's switch wins over the fault.
    expect(simulatorFrame(spec(['fallback:card=0']), at(1), { activePath: { 0: 'fpga' } })[0]!.activePath).toBe('fpga');
  });

  it('faults start when asked (after=SECONDS)', () => {
    const s = spec(['login-rejected:card=0,after=30']);
    expect(simulatorFrame(s, at(29))[0]!.mdgw.login).toBe('logged-in');
    expect(simulatorFrame(s, at(30))[0]!.mdgw).toMatchObject({ login: 'rejected', since: at(30) });
  });

  it('with --market-hours channels are quiet at lunch and after the close: OrigTime stays at 11:30:00', () => {
    const s = spec([], { marketHours: true });
    const lunch = simulatorFrame(s, new Date('2026-11-23T12:10:00+08:00'));
    const later = simulatorFrame(s, new Date('2026-11-23T12:50:00+08:00'));
    const c = channel(lunch, 0, 2011);
    expect(c.lastOrigTime!.getTime()).toBeLessThanOrEqual(new Date('2026-11-23T11:30:00+08:00').getTime());
    expect(c.lastOrigTime!.getTime()).toBeGreaterThan(new Date('2026-11-23T11:29:59+08:00').getTime());
    expect(channel(later, 0, 2011).messagesDecoded).toBe(c.messagesDecoded);
    const afternoon = simulatorFrame(s, new Date('2026-11-23T13:00:10+08:00'));
    expect(channel(afternoon, 0, 2011).messagesDecoded).toBeGreaterThan(c.messagesDecoded);
    // Session time: Monday 09:00–16:00 holds 2 h 15 min + 2 h; Saturday none.
    expect(sessionMsBetween(Date.parse('2026-11-23T09:00:00+08:00'), Date.parse('2026-11-23T16:00:00+08:00'))).toBe((135 + 120) * 60_000);
    expect(sessionMsBetween(Date.parse('2026-11-28T09:00:00+08:00'), Date.parse('2026-11-28T16:00:00+08:00'))).toBe(0);
  });

  it('refuses fault specs it cannot place, saying how to write one', () => {
    const bad = (text: string) => {
      try {
        parseFaultSpec(text, shape);
      } catch (err) {
        expect(err).toBeInstanceOf(WarroomError);
        return (err as WarroomError).message;
      }
      throw new Error('accepted');
    };
    expect(bad('melted')).toBe('--fault melted: "melted" is not a fault.');
    expect(bad('mdgw-down:card=2')).toBe('--fault mdgw-down:card=2: card 2 is not simulated (cards 0..1).');
    expect(bad('stale-channel:channel=2099')).toBe('--fault stale-channel:channel=2099: channel 2099 is not simulated (channels 2011, 2012, 2013, 2014).');
    expect(bad('mdgw-down:channel=2011')).toBe('--fault mdgw-down:channel=2011: mdgw-down is a card fault: it takes no channel.');
    expect(bad('toe-near-limit:sessions=200')).toMatch(/beyond the TOE limit of 128/);
    expect(bad('fallback:colour=red')).toMatch(/"colour=red" is not one of card=N, channel=N, code=N, sessions=N, after=N/);
    expect(parseFaultSpec('stale-channel:card=1,channel=2014,after=12', shape)).toEqual({ kind: 'stale-channel', card: 1, channel: 2014, afterSeconds: 12 });
  });
});

describe('startFpgaSimulator', () => {
  it('writes a block that changes with the clock until stopped; a driver switches the path in-process or through the control file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'warroom-sim-')), 'fpga.status');
    let now = START;
    const sim = startFpgaSimulator({ file, cards: 2, channels: 4, faults: ['login-rejected:card=0'], clock: () => now, rate: 1 });
    expect(sim.writer).toBe(addonStatus().loaded ? 'addon' : 'typescript');
    const first = readFpgaStatus(file);
    expect(first.cards[0]!.mdgw).toMatchObject({ login: 'rejected', rejectCode: 102 });
    now = at(30);
    sim.tick();
    const second = readFpgaStatus(file);
    expect(second.cards[1]!.channels[0]!.messagesDecoded).toBeGreaterThan(first.cards[1]!.channels[0]!.messagesDecoded);
    expect(second.cards[1]!.updatedAt).toEqual(at(30));
    sim.setActivePath(1, 'software');
    sim.tick();
    expect(readFpgaStatus(file).cards.map((c) => c.activePath)).toEqual(['fpga', 'software']);
    requestFpgaPathSwitch(file, 0, 'software');
    requestFpgaPathSwitch(file, 1, 'fpga');
    sim.tick();
    expect(readFpgaStatus(file).cards.map((c) => c.activePath)).toEqual(['software', 'fpga']);
    expect(sim.frames()).toBe(4);
    await sim.stop();
    sim.tick(); // stopped: no more frames
    expect(sim.frames()).toBe(4);
    expect(() => sim.setActivePath(5, 'fpga')).toThrow(/Card 5 is not simulated/);
  });

  it('refuses shapes and rates it cannot simulate', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'warroom-sim-')), 'fpga.status');
    expect(() => startFpgaSimulator({ file, cards: 0 })).toThrow(/--cards 0: simulate 1 to 64 cards/);
    expect(() => startFpgaSimulator({ file, rate: 5000 })).toThrow(/--rate 5000: frames per second must be above 0 and at most 1000/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('warroom fpga simulate', () => {
  it('runs in its own process without the store, writes the block with the faults asked, and stops cleanly on SIGINT', { timeout: 120_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'warroom-home-'));
    const work = mkdtempSync(join(tmpdir(), 'warroom-sim-'));
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(packageRoot, 'cli', 'main.ts'), 'fpga', 'simulate', '--file', 'fpga.status', '--cards', '2', '--channels', '3', '--fault', 'login-rejected:card=0', 'stale-channel:card=1,channel=2012', '--rate', '20', '--clock', '2026-11-23T09:40:00+08:00'],
      { cwd: work, env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', WARROOM_HOME: home, WARROOM_CLOCK: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('Ctrl-C to stop') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toBe('');
    expect(stdout).toContain(`Simulating 2 FPGA cards × 3 channels (2011, 2012, 2013) in ${join(work, 'fpga.status')}`);
    expect(stdout).toContain('faults: login-rejected on card 0 (code 102); stale-channel on card 1 channel 2012');
    expect(stdout).toMatch(addonStatus().loaded ? /writer: the C\+\+ addon/ : /writer: TypeScript/);
    const file = join(work, 'fpga.status');
    const a = readFpgaStatus(file);
    await new Promise((r) => setTimeout(r, 600));
    const b = readFpgaStatus(file);
    expect(b.cards[0]!.mdgw).toMatchObject({ tcp: 'established', login: 'rejected', rejectCode: 102 });
    expect(b.cards[0]!.mdgw.since!.getTime() - START.getTime()).toBeLessThan(1000); // the --clock runs on from its start
    expect(b.cards[1]!.updatedAt.getTime()).toBeGreaterThan(a.cards[1]!.updatedAt.getTime()); // still writing, on the --clock
    expect(b.cards[1]!.channels[1]!.messagesDecoded).toBe(a.cards[1]!.channels[1]!.messagesDecoded); // 2012 stale
    expect(b.cards[1]!.channels[0]!.messagesDecoded).toBeGreaterThan(a.cards[1]!.channels[0]!.messagesDecoded);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/Stopped after \d+ frames; .*fpga\.status keeps the last one\./);
    expect(readdirSync(home)).toEqual([]); // never opened the store
    // …and so it is neither sent to a server that owns the store nor refused while one does.
    expect(FORWARDED_COMMANDS.has('fpga simulate')).toBe(false);
    expect(OWNER_COMMANDS.has('fpga simulate')).toBe(false);
  });
});
