/**
 * Chinese ↔ English vocabulary of trading-system operations. Runbooks are written in either
 * language and people ask in either, often mixing both; this lets "登录" find "login" and
 * "replication" find "主从复制". General ops terms only: extend it when a team's vocabulary
 * (system nicknames, vendor terms) is missing, not to fix one query.
 */
const PAIRS: Array<[string[], string[]]> = [
  [['登录', '登陆', '登不上'], ['login', 'logon', 'sign']],
  [['手机', '移动端', 'app'], ['mobile', 'app']],
  [['行情'], ['market', 'quote', 'quotes']],
  [['委托', '下单', '报单'], ['order', 'orders']],
  [['成交'], ['fill', 'trade', 'execution']],
  [['撤单'], ['cancel']],
  [['报盘'], ['routing', 'gateway']],
  [['网关'], ['gateway']],
  [['连接', '链接', '会话'], ['connection', 'session']],
  [['断开', '断了', '掉线', '中断'], ['disconnect', 'down', 'lost', 'broken']],
  [['超时'], ['timeout', 'timed']],
  [['失败', '报错', '异常'], ['fail', 'failure', 'error']],
  [['拒绝', '被拒'], ['reject', 'rejected', 'denied']],
  [['延迟', '时延', '卡顿', '慢'], ['latency', 'slow', 'delay', 'lag']],
  [['积压', '堆积'], ['backlog', 'lag', 'queue']],
  [['连接池'], ['pool', 'connection']],
  [['数据库'], ['database', 'db']],
  [['主从', '复制', '同步'], ['replication', 'replica', 'sync']],
  [['主机', '服务器'], ['host', 'server']],
  [['主备', '切换', '倒换'], ['failover', 'switch', 'switchover']],
  [['备机'], ['standby']],
  [['主节点', '主库'], ['primary', 'master']],
  [['心跳'], ['heartbeat']],
  [['仲裁'], ['arbiter', 'quorum']],
  [['脑裂', '双主'], ['split', 'brain']],
  [['内存'], ['memory', 'oom']],
  [['磁盘', '硬盘'], ['disk', 'storage']],
  [['日志'], ['log', 'logs']],
  [['满了', '写满', '占满'], ['full']],
  [['证书'], ['certificate', 'cert', 'tls', 'ssl']],
  [['过期', '到期'], ['expiry', 'expired', 'expire']],
  [['时钟', '时间'], ['clock', 'time', 'ntp', 'chrony']],
  [['漂移', '偏差'], ['drift', 'offset', 'skew']],
  [['网卡'], ['nic', 'interface']],
  [['网络'], ['network']],
  [['组播', '多播'], ['multicast']],
  [['校验'], ['checksum', 'crc']],
  [['通道'], ['channel']],
  [['注册中心'], ['registry', 'zookeeper', 'zk', 'nacos']],
  [['限流'], ['rate', 'limit', 'throttle']],
  [['熔断'], ['circuit', 'breaker']],
  [['降级'], ['degrade', 'degradation', 'fallback']],
  [['雪崩'], ['avalanche', 'cascade']],
  [['流量', '请求量'], ['traffic', 'requests']],
  [['清算'], ['clearing', 'settlement']],
  [['批处理', '跑批'], ['batch']],
  [['收市', '收盘'], ['close']],
  [['开盘', '开市'], ['open']],
  [['盘前'], ['pre-open', 'preopen']],
  [['风控'], ['risk']],
  [['两融', '融资融券'], ['margin']],
  [['参数'], ['parameter', 'param', 'config']],
  [['配置'], ['config', 'configuration']],
  [['变更'], ['change']],
  [['复核'], ['review', 'reviewer']],
  [['回退', '回滚'], ['rollback', 'revert']],
  [['迁移'], ['migration', 'migrate']],
  [['一致性', '比对'], ['consistency', 'compare']],
  [['超融合'], ['hyper-converged', 'hci']],
  [['虚机', '虚拟机'], ['vm']],
  [['节点'], ['node']],
  [['集群'], ['cluster']],
  [['哨兵'], ['sentinel']],
  [['缓存'], ['cache', 'redis']],
  [['客户'], ['customer', 'client']],
  [['客服'], ['customer', 'service']],
  [['监管', '报告', '报送'], ['regulator', 'regulatory', 'report']],
  [['银行', '银证'], ['bank']],
  [['转账', '转帐'], ['transfer']],
  [['归档'], ['archive', 'archivelog']],
  [['重启'], ['restart', 'reboot']],
  [['进程'], ['process']],
  [['端口'], ['port']],
  [['卡'], ['card', 'fpga']],
  [['交易所'], ['exchange']],
  [['繁忙'], ['busy']],

  // Grown from the runbooks' own vocabulary (bilingual titles, tags, 现象/Symptoms and 升级与沟通/
  // Escalation sections), so that an English question reaches a runbook written in Chinese and the
  // reverse. One line per idea; every word here occurs in at least one runbook in one of the two forms.
  [['深市', '深圳', '深交所'], ['shenzhen', 'sz']],
  [['沪市', '上海', '上交所'], ['shanghai', 'sh']],
  [['股票', '个股'], ['stock', 'stocks', 'names']],
  [['未报', '待报'], ['unsent', 'pending']],
  [['回报'], ['confirmation', 'ack']],
  [['交易单元'], ['pbu']],
  [['中登'], ['csdc']],
  [['陈旧', '不动', '不跳', '不更新'], ['stale', 'frozen', 'freeze']],
  [['卡住', '挂起', '卡死', '挂住'], ['stuck', 'hang', 'hung', 'frozen']],
  [['宕机', '挂', '死机'], ['down', 'crash', 'dead']],
  [['踢', '踢出'], ['kicked', 'logout']],
  [['自选股'], ['watchlist', 'watchlists']],
  [['淘汰'], ['evict', 'eviction', 'evicting']],
  [['突增', '暴涨', '激增', '陡增'], ['surge', 'spike', 'jumped']],
  [['拖垮'], ['dragged', 'drag']],
  [['查询'], ['query', 'queries']],
  [['暂停', '停止'], ['suspended', 'paused', 'stopped']],
  [['提交'], ['commit']],
  [['折算率', '担保品'], ['haircut', 'collateral']],
  [['额度'], ['buying', 'power', 'quota']],
  [['追保', '补仓'], ['margin-call', 'call']],
  [['巡检', '盘前检查'], ['checklist', 'inspection']],
  [['一致', '对不上'], ['match', 'consistent', 'mismatch']],
  [['机房', '数据中心'], ['data-centre', 'datacenter', 'dc', 'centre']],
  [['割接'], ['cutover']],
  [['开机', '启动'], ['power', 'boot', 'start']],
  [['物理机'], ['physical', 'host']],
  [['绑定'], ['bond', 'bonding']],
  [['脚本'], ['script']],
  [['池化', '池子'], ['pool', 'pooled']],
  [['软件'], ['software']],
  [['解码'], ['decoder']],
  [['下游'], ['downstream', 'consumers']],
  [['规则'], ['rule']],
  [['误杀'], ['false', 'falsely']],
  [['泄漏'], ['leak']],
  [['集合竞价'], ['auction']],
  [['涨跌停'], ['price-limit', 'limit']],
  [['报价'], ['quote', 'quotes']],
  [['实例'], ['instance', 'pods', 'pod']],
  [['选主', '选出'], ['leader', 'promoted', 'election']],
  [['抖', '抖动'], ['flap', 'flapping']],
  [['策略'], ['strategy']],
  [['接口'], ['api', 'route', 'endpoint']],
  [['浏览器'], ['browser']],
  [['不安全'], ['private', 'warning']],
  [['资金', '钱'], ['funds', 'money']],
  [['融资'], ['financing', 'borrow']],

  // Process vocabulary: whom to notify, who approves, when a regulator must be told.
  [['证监会', '证监', '监管机构'], ['csrc', 'regulator']],
  [['报告阈值', '阈值'], ['threshold', 'thresholds']],
  [['合规', '合规组'], ['compliance']],
  [['审批', '批准', '审批人'], ['approve', 'approval', 'approves', 'approver', 'sign-off']],
  [['指挥官', '指挥', '拍板'], ['commander', 'decides', 'decide']],
  [['值班经理'], ['duty', 'manager']],
  [['口径', '客服口径'], ['script', 'messaging', 'wording']],
  [['通知', '通报', '上报'], ['notify', 'inform', 'page']],
  [['升级'], ['escalate', 'escalation']],
  [['推迟'], ['postpone', 'delay']],
  [['外部机构'], ['external', 'parties']],
  [['双人复核', '双人'], ['two-person', 'four-eyes']],
  [['变更单', '工单'], ['ticket']],
  [['留痕'], ['audit', 'trail']],
  [['盘中', '交易时段'], ['intraday', 'mid-session']],
  [['初始化', '日初'], ['initialisation', 'initialization', 'start-of-day']],
  [['次日', '明早', '明天'], ['tomorrow', 'morning', 'next']],
  [['新老', '新旧'], ['old', 'new']],
  [['很快', '顺手'], ['quick', 'quickly']],
  [['处理中'], ['processing', 'in-progress']],
  [['跑完'], ['finish', 'finished']],
  [['中间层', '中间件'], ['middle-tier', 'middleware']],
  [['组播口', '输出口'], ['multicast', 'port']],
  [['收不到', '没数据'], ['nothing', 'silent']],
];

const index = new Map<string, Set<string>>();
for (const [zh, en] of PAIRS) {
  for (const a of zh) for (const b of en) {
    (index.get(a) ?? index.set(a, new Set()).get(a)!).add(b);
    (index.get(b) ?? index.set(b, new Set()).get(b)!).add(a);
  }
}

/**
 * The glossary entry a token belongs to: the token itself, else its English singular
 * ("databases" → database, "approves" → approve, "queries" → query), so plurals and third persons
 * need no line of their own.
 */
function entryOf(token: string): Set<string> | undefined {
  const direct = index.get(token);
  if (direct || !/^[a-z]{4,}$/.test(token)) return direct;
  const tries: string[] = [];
  if (token.endsWith('s')) tries.push(token.slice(0, -1), ...(token.endsWith('ies') ? [`${token.slice(0, -3)}y`] : []), ...(token.endsWith('es') ? [token.slice(0, -2)] : []));
  // Past tenses and participles: restarted → restart, notified → notify, rebooted → reboot.
  if (token.endsWith('ed')) tries.push(token.slice(0, -2), token.slice(0, -1), ...(token.endsWith('ied') ? [`${token.slice(0, -3)}y`] : []));
  if (token.endsWith('ing')) tries.push(token.slice(0, -3), `${token.slice(0, -3)}e`);
  for (const t of tries) {
    const e = index.get(t);
    if (e) return e;
  }
  return undefined;
}

/** Translations of one token (lower-cased), excluding itself. */
export function translations(token: string): string[] {
  return [...(entryOf(token) ?? [])].filter((t) => t !== token);
}

/**
 * What a colleague types in a hurry, mapped to the runbooks' technical words in both languages.
 * Matched on the raw text (not on tokens): the segmenter cuts "转不过来" into 转 / 不 / 过来, which no
 * token pair can see. Each entry comes from the way the runbooks themselves quote on-call wording
 * ("值班描述", "On-call wording", customer complaints) and names the runbook vocabulary it means.
 */
const PHRASES: Array<[RegExp, string[]]> = [
  [/转不(过来|过去|出来|进来|了)|钱.{0,6}没到|没到账/, ['转账', '银证', 'transfer', '超时', 'timeout']],
  [/转圈|半天没反应|没反应|一直在?加载/, ['超时', '繁忙', 'timeout', 'slow']],
  [/不动了?|不跳|没在跳|不刷新|不更新|冻住/, ['不动', '陈旧', 'stale', 'frozen']],
  [/挂了|挂住|宕了|宕机|死了|趴了|崩了/, ['宕机', '故障', 'down', 'failure']],
  [/连不上|连不进|登不上/, ['连接', '断开', '失败', 'connection', 'failure']],
  [/撑爆|爆了|满了|写满|没空间/, ['满', 'full', 'space']],
  [/打回来?|打回|被拒|不让过|不通过|全废/, ['拒绝', '拒单', '废单', 'reject', 'rejected']],
  [/顶上|顶不上|接不上/, ['接管', '备机', 'takeover', 'standby']],
  [/当主|抢主|都是主|两个主|两台主/, ['双主', '脑裂', 'split', 'brain', 'primary']],
  [/变[成为]?\s*(零|0)|清零|成了\s*0/, ['0', 'zero', '额度']],
  [/慢半拍|慢了?好几秒|慢.{0,3}几秒|一阵一阵/, ['延迟', '积压', 'lag', 'delay', 'burst']],
  [/跑批|批处理|日终/, ['批处理', '清算', 'batch', 'clearing']],
  [/报(证监会|监管|交易所)|上报|报不报|要不要报|什么时候.{0,6}报|必须报/, ['监管', '报告', '报告阈值', '合规', 'regulator', 'report', 'threshold', 'compliance']],
  [/谁(来|去)?(批|审批|批准|拍板|决定|签)/, ['审批', '批准', '指挥官', 'approval', 'approve', 'commander']],
  [/(跟|对|给)客户.{0,6}(说|解释|讲|交代)|怎么跟客户/, ['客服口径', '口径', '客服', 'customer', 'script']],
  [/\bwho (approves|signs|decides|has to approve|must approve)\b|\bsign(s)? off\b/i, ['审批', '批准', 'approval', 'approve']],
  [/\b(tell|notify|inform|report to) the (regulator|csrc|exchange)\b|\bregulator\b/i, ['监管', '报告', '合规', '报告阈值', 'compliance', 'report']],
  [/\bwhat (do|should) we tell (the )?customers\b|\bcustomer (messaging|wording|script)\b/i, ['客服口径', '口径', 'customer', 'script']],
  [/\b(froze|frozen|freezes|stuck|hung|hangs)\b/i, ['卡住', '挂起', '卡死', 'stuck']],
  [/不安全|不是私密|证书(警告|错误|告警)|not (private|secure)|certificate (warning|error)/i, ['证书', '过期', 'certificate', 'expired', 'tls']],
  [/\b(during|in) (the )?trading hours\b|\bmid-?session\b|\bintraday\b/i, ['交易时段', '盘中', 'trading']],
  [/\bkicked (out|back)\b/i, ['踢', '踢出', 'login']],
  [/\bwent (silent|quiet|dark)\b|\bno data\b/i, ['没数据', '中断', 'silent']],
];

/**
 * A short fingerprint of the glossary's content. What an embedder derives from it (translations in
 * document vectors) changes whenever the glossary does, so the offline embedder's name carries it:
 * a store embedded with another glossary is re-embedded at the next ingest instead of being
 * compared with vectors made by different rules.
 */
export const GLOSSARY_FINGERPRINT: string = (() => {
  const text = JSON.stringify([PAIRS, PHRASES.map(([re, t]) => [re.source, re.flags, t])]);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36).slice(0, 6);
})();

/** Technical terms (both languages) that the colloquial phrases in `text` stand for. */
export function phraseExpansions(text: string): string[] {
  const out = new Set<string>();
  for (const [re, terms] of PHRASES) if (re.test(text)) for (const t of terms) out.add(t);
  return [...out];
}
