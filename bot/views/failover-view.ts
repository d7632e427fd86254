import type { z } from 'zod';
import type { PoolFlag } from '../../tools/failover/assess.js';
import type { failoverStatusTool, PoolStatus } from '../../tools/failover/failover-status.js';
import type { failoverSwitchToolRef } from '../../tools/failover/failover-switch.js';
import { t, type Lang, type OutgoingMessage } from '../messages.js';

type StatusData = z.output<(typeof failoverStatusTool)['output']>;
type SwitchData = z.output<(typeof failoverSwitchToolRef)['output']>;

export function poolFlagLabel(flag: PoolFlag, lang: Lang): string {
  switch (flag) {
    case 'no-primary':
      return t(lang, '没有主节点', 'no primary');
    case 'split-brain':
      return t(lang, '多个节点自称主节点（脑裂）', 'several nodes claim primary (split brain)');
    case 'vip-not-on-primary':
      return t(lang, 'VIP 不在主节点上', 'the VIP is not on the primary');
    case 'primary-unhealthy':
      return t(lang, '主节点不健康', 'the primary is unhealthy');
    case 'heartbeat-lost-primary-healthy':
      return t(lang, '心跳丢失但主节点健康：不要切换，请人工处理', 'heartbeat lost but the primary is healthy: do not switch, page a human');
    case 'arbiter-unreachable':
      return t(lang, '仲裁不可达：自动切换已停止，只能人工切换', 'arbiter unreachable: automatic switching is off, manual only');
    case 'no-healthy-standby':
      return t(lang, '没有健康的备节点', 'no healthy standby');
  }
}

function nodeLine(n: PoolStatus['nodes'][number], lang: Lang): string {
  const role = n.role === 'primary' ? t(lang, '★ 主', '★ primary') : t(lang, '备', 'standby');
  const health = n.healthy ? t(lang, '健康', 'healthy') : t(lang, '⚠ 不健康', '⚠ unhealthy');
  const heartbeat = n.heartbeat ? t(lang, '心跳正常', 'heartbeat ok') : t(lang, '⚠ 心跳丢失', '⚠ heartbeat lost');
  const vip = n.holdsVip ? t(lang, ' · 持有 VIP', ' · holds the VIP') : '';
  return `${n.node} (${n.host}) · ${role} · ${t(lang, '优先级', 'priority')} ${n.priority} · ${health} · ${heartbeat}${vip}`;
}

/** One section per pool: who is primary, where the VIP is, each node, and what needs attention. */
export function failoverStatusView(data: StatusData, lang: Lang): OutgoingMessage {
  if (data.pools.length === 0) return { lang, text: t(lang, '还没有故障切换池：导入 `pools` 或运行 `warroom demo`。', 'No failover pools are loaded: import `pools` or run `warroom demo`.') };
  const one = data.pools.length === 1 ? data.pools[0] : undefined;
  return {
    lang,
    title: one ? t(lang, `${one.name} 故障切换池`, `Failover pool ${one.name}`) : t(lang, `故障切换池（${data.pools.length}）`, `Failover pools (${data.pools.length})`),
    text: '',
    sections: data.pools.map((p) => ({
      title: `${p.name} (${p.pool}) · ${t(lang, '主', 'primary')} ${p.primary ?? t(lang, '无', 'none')} · VIP ${p.vip} · ${p.arbiterReachable ? t(lang, '仲裁可达', 'arbiter reachable') : t(lang, '⚠ 仲裁不可达', '⚠ arbiter unreachable')}`,
      lines: [...p.nodes.map((n) => nodeLine(n, lang)), ...p.flags.map((f) => `⚠ ${poolFlagLabel(f, lang)}`)],
    })),
    context: [t(lang, '来源：池化监控上报与导入数据', 'Source: the pools\' monitoring reports and imported data')],
  };
}

/** The result of a switch that took over. (A failed switch is an error, shown as one, with its attempts.) */
export function failoverSwitchView(data: SwitchData, lang: Lang): OutgoingMessage {
  const attempts = data.attempts.map((a) => (a.ok ? `✅ ${a.node}` : `❌ ${a.node} · ${a.failedStep}: ${a.error}`));
  return {
    lang,
    title: t(lang, `${data.poolName} 已切换：${data.from ?? '无'} → ${data.primary ?? '无'}`, `${data.poolName} switched: ${data.from ?? 'none'} → ${data.primary ?? 'none'}`),
    text: '',
    sections: [{ title: t(lang, '尝试', 'Attempts'), lines: attempts }, ...(data.notes.length ? [{ title: t(lang, '注意', 'Notes'), lines: data.notes }] : [])],
    context: [data.driver === 'simulated' ? t(lang, '模拟驱动：只改了记录，没有动真实主机', 'Simulated driver: only the records changed, no real host') : t(lang, '脚本驱动', 'Script driver')],
  };
}
