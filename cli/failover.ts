import type { Command } from 'commander';
import { WarroomError } from '../core/errors.js';
import { failoverStatusTool, type PoolStatus } from '../tools/failover/failover-status.js';
import { toolContext } from '../tools/services.js';
import type { CliIo } from './io.js';

/** The shape scripts rely on: `warroom failover status --json`. */
export function failoverStatusJson(pools: PoolStatus[]): { pools: Array<{ pool: string; system: string; primary: string | null; vip: string; nodes: Array<{ node: string; role: string; healthy: boolean }> }> } {
  return { pools: pools.map((p) => ({ pool: p.pool, system: p.system, primary: p.primary, vip: p.vip, nodes: p.nodes.map((n) => ({ node: n.node, role: n.role, healthy: n.healthy })) })) };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd()).join('\n');
}

export function failoverStatusTable(pools: PoolStatus[]): string {
  if (pools.length === 0) return 'No failover pools are loaded: import `pools` or run `warroom demo`.\n';
  return pools
    .map((p) => {
      const head = `${p.name} (${p.pool}) · system ${p.system} · primary ${p.primary ?? 'none'} · VIP ${p.vip} · arbiter ${p.arbiterReachable ? 'reachable' : 'UNREACHABLE'}`;
      const rows = [['NODE', 'HOST', 'ROLE', 'PRIORITY', 'HEALTHY', 'HEARTBEAT', 'VIP']];
      for (const n of p.nodes) rows.push([n.node, n.host, n.role, String(n.priority), n.healthy ? 'yes' : 'NO', n.heartbeat ? 'ok' : 'LOST', n.holdsVip ? 'holds' : '']);
      const flags = p.flags.map((f) => `  ! ${f}`);
      return [head, table(rows).replace(/^/gm, '  '), ...flags].join('\n');
    })
    .join('\n\n')
    .concat('\n');
}

export function registerFailoverCommands(program: Command, io: CliIo): void {
  const failover = program.command('failover').description('pooled failover (多对多池化): pools, primaries, VIPs');
  failover
    .command('status')
    .description('show one failover pool (id, name or alias) or every pool')
    .argument('[pool]', 'pool id, name or alias, e.g. zd-baopan or 中登报盘')
    .option('--json', 'print {pools: [{pool, system, primary, vip, nodes: [{node, role, healthy}]}]}')
    .action(async (pool: string | undefined, opts: { json?: boolean }) => {
      await io.withApp(async (app) => {
        const r = await app.tools.call(failoverStatusTool, pool ? { pool } : {}, toolContext(app, io.envUser ?? 'cli'));
        if (r.status === 'error' || !r.data) throw new WarroomError('failover_status_failed', r.error ?? r.summary);
        io.out(opts.json ? `${JSON.stringify(failoverStatusJson(r.data.pools), null, 2)}\n` : failoverStatusTable(r.data.pools));
      });
    });
}
