import { searchRunbooks } from '../../knowledge/search.js';
import type { ToolContext } from '../tool.js';
import type { FindingKind } from './diagnose.js';

/**
 * The runbook passage for each kind of finding, found by the knowledge search (the same hybrid
 * search `search_runbooks` runs), kept only when it comes from a runbook written for that problem:
 * a wrong citation is worse than none.
 */
interface Topic {
  /** Words people and logs use for it, Chinese and English (what the search matches). */
  query: string;
  /** Runbooks written for it; the first of them the search ranks is cited. */
  runbooks: string[];
}

// Queries aimed at the diagnosis (排查) passage: what the person reading the status does next.
const MDGW: Topic = { query: 'fpgactl session list tcp_state login_state 网络层确认能否到 MDGW', runbooks: ['rb-fpga-mdgw-session'] };
const TOPICS: Record<FindingKind, Topic> = {
  'mdgw-down': MDGW,
  'mdgw-connecting': MDGW,
  'logged-out': MDGW,
  'logging-in': MDGW,
  'card-not-updating': MDGW,
  'login-rejected': { query: '登录被拒 读拒绝原因 invalid SenderCompID duplicate logon version not supported', runbooks: ['rb-fpga-mdgw-session'] },
  'toe-near-limit': { query: 'TOE 会话泄漏 used 接近 128 release CLOSE_WAIT relogin', runbooks: ['rb-fpga-mdgw-session'] },
  'multicast-down': { query: 'multicast port link DOWN tx_pkts flat outbound problem fpgactl counters', runbooks: ['rb-fpga-checksum-multicast'] },
  'checksum-burst': { query: 'checksum errors inbound corruption optics diagnosis separate inbound from outbound', runbooks: ['rb-fpga-checksum-multicast'] },
  'stale-channels': { query: '通道陈旧 排查 先排除本来就不该有数据 对比 FPGA 与软件路径的同一通道', runbooks: ['rb-fpga-channel-stale'] },
  // On the fallback path the question is when and how to go back.
  'software-path': { query: '行情切换到软件解码路径 回退 切回 FPGA 前提', runbooks: ['rb-md-switch-software-path'] },
};

export interface FpgaCitation {
  runbookId: string;
  title: string;
  section: string;
  source: string;
  /** The kinds of finding it is cited for. */
  for: FindingKind[];
}

/** One citation per runbook passage, in the order of the kinds given (most severe first). */
export async function citeRunbooks(ctx: Pick<ToolContext, 'db' | 'embedder'>, kinds: FindingKind[]): Promise<FpgaCitation[]> {
  const out = new Map<string, FpgaCitation>();
  const byQuery = new Map<string, { topic: Topic; kinds: FindingKind[] }>();
  for (const k of kinds) {
    const topic = TOPICS[k];
    const entry = byQuery.get(topic.query) ?? { topic, kinds: [] };
    if (!entry.kinds.includes(k)) entry.kinds.push(k);
    byQuery.set(topic.query, entry);
  }
  for (const { topic, kinds: forKinds } of byQuery.values()) {
    const hits = await searchRunbooks(ctx.db, topic.query, ctx.embedder, { top: 8 });
    const hit = hits.find((h) => topic.runbooks.includes(h.runbookId));
    if (!hit) continue;
    const key = `${hit.runbookId}#${hit.section}`;
    const known = out.get(key);
    if (known) known.for.push(...forKinds.filter((k) => !known.for.includes(k)));
    else out.set(key, { runbookId: hit.runbookId, title: hit.title, section: hit.section, source: hit.source, for: [...forKinds] });
  }
  return [...out.values()];
}
