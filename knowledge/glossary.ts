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
  [['注册中心'], ['registry', 'zookeeper', 'nacos']],
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
];

const index = new Map<string, Set<string>>();
for (const [zh, en] of PAIRS) {
  for (const a of zh) for (const b of en) {
    (index.get(a) ?? index.set(a, new Set()).get(a)!).add(b);
    (index.get(b) ?? index.set(b, new Set()).get(b)!).add(a);
  }
}

/** Translations of one token (lower-cased), excluding itself. */
export function translations(token: string): string[] {
  return [...(index.get(token) ?? [])].filter((t) => t !== token);
}
