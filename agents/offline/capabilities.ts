import type { Config } from '../../core/config.js';
import { t, type Lang } from '../../core/lang.js';
import type { UnsupportedFeature } from '../intents.js';
import { llmSettingsFromConfig } from '../llm/settings.js';

/** The chat model Warroom is configured with, if any: the same reading the LLM agent makes (agents/llm/settings.ts). */
export function configuredModel(config: Config): { model: string; endpoint: string } | null {
  const settings = llmSettingsFromConfig(config);
  if (!settings) return null;
  return { model: settings.model, endpoint: settings.baseURL ? new URL(settings.baseURL).host : 'api.openai.com' };
}

/** The kinds of question the offline planner answers, with an example each, in the asker's language. */
export function whatIAnswer(lang: Lang): string[] {
  return [
    t(lang, '变更与操作人：「上周谁动过中登报盘」「集中交易 9:30 以来有什么变更」「最近3个交易日」', 'Changes and who made them: "who changed the CSDC link last week", "what changed on jzjy since 9:30", "last 3 trading days"'),
    t(lang, '告警：「融资融券 今天有什么告警」「还在告警的紧急告警」', 'Alerts: "alerts on margin today", "critical alerts still firing"'),
    t(lang, '故障：「现在什么情况」「什么时候能恢复」「这个故障影响多大」「INC-… 进展」', 'Incidents: "what\'s open?", "when will it be fixed?", "what\'s the impact?", "status of INC-…"'),
    t(lang, '值班：「谁在值班」「两融谁值班」', 'On call: "who is on call for 两融?"'),
    t(lang, '运行手册：「怎么切换行情网关」、症状描述或粘贴的日志行', 'Runbooks: "how do I fail over the market data gateway?", a symptom, or a pasted log line'),
    t(lang, '定位卡：「定位一下集中交易」；感知因子对比：「CAB-… 前后有什么变化」', 'The localization card: "localize jzjy"; perception diffs: "what changed on the host before and after CAB-…"'),
    t(lang, '池化主备状态：「中登报盘池化状态」；FPGA 行情卡状态：「FPGA 行情卡正常吗」', 'Failover pools: "中登报盘 pool status"; the FPGA decoder: "is the FPGA decoder healthy?"'),
  ];
}

/** "你是谁？能用大模型回答吗": what Warroom is, whether a chat model answers, and what it answers. */
export function capabilityNotes(config: Config, lang: Lang): string[] {
  const model = configuredModel(config);
  return [
    t(
      lang,
      '我是 Warroom，证券交易系统运维的值班机器人：根据已记录的数据（变更单与变更操作事件、告警、故障记录、值班表、池化状态、FPGA 状态块、感知因子快照）和运行手册回答，并注明来源。',
      "I am Warroom, an on-call bot for securities trading operations: I answer from recorded data (change tickets and operation events, alerts, incident records, the on-call rota, failover pools, the FPGA status block, perception-factor snapshots) and the runbooks, and I cite where each answer comes from.",
    ),
    model
      ? t(lang, `已配置大模型 ${model.model}（${model.endpoint}）：问题先交给它，它通过同样的只读工具查数据；模型不可用时由离线规划器回答，并会说明。`, `A chat model is configured (${model.model} at ${model.endpoint}): questions go to it first, and it reads data through the same read-only tools; when it is unavailable the offline planner answers and says so.`)
      : t(lang, '这次回答来自离线规划器（确定性规则，不用大模型）：当前没有配置大模型（设置 WARROOM_LLM_MODEL，以及 OPENAI_BASE_URL 或 OPENAI_API_KEY）。', 'This answer comes from the offline planner (deterministic rules, no language model): no chat model is configured (set WARROOM_LLM_MODEL, with OPENAI_BASE_URL or OPENAI_API_KEY).'),
    t(lang, '我不会自己执行变更或切换：切换、重启这类操作要用命令申请，经人审批后才执行。', 'I never change or switch anything on my own: actions such as a failover are requested with a command and run only after people approve them.'),
    t(lang, '可以这样问我：', 'You can ask me:'),
    ...whatIAnswer(lang).map((l) => `· ${l}`),
  ];
}

const FEATURE: Record<UnsupportedFeature, { zh: string; en: string }> = {
  trading: { zh: '下单或交易', en: 'place orders or trade' },
  meeting: { zh: '预订会议室或安排会议', en: 'book meeting rooms or schedule meetings' },
  email: { zh: '发送邮件（包括给监管的报送）', en: 'send emails (regulatory reports included)' },
  phone: { zh: '打电话', en: 'make phone calls' },
  travel: { zh: '预订机票、酒店或车票', en: 'book travel' },
  weather: { zh: '查询天气', en: 'look up the weather' },
  other: { zh: '做这件事', en: 'do that' },
};

/** An ask for a feature Warroom lacks, said plainly, with what it does do. */
export function unsupportedNotes(feature: UnsupportedFeature, lang: Lang): string[] {
  const extra =
    feature === 'email'
      ? [t(lang, '故障通报可以用 `/incident draft` 起草、`/incident update` 发到故障群和状态频道；监管报送请按合规流程由人完成。', 'Status updates can be drafted with `/incident draft` and posted to the room and status channel with `/incident update`; regulatory reports go through the compliance process, by people.')]
      : [];
  return [t(lang, `Warroom 不能${FEATURE[feature].zh}。`, `Warroom cannot ${FEATURE[feature].en}.`), ...extra, t(lang, '我能回答的问题：', 'What I can answer:'), ...whatIAnswer(lang).map((l) => `· ${l}`)];
}

/** Under the closest runbooks when nothing else fitted: say so, and what can be asked instead. */
export function fallbackNotes(lang: Lang): string[] {
  return [
    t(lang, '没有找到能直接回答这个问题的数据，以下是最接近的运行手册，请核对后再用。', 'I found no data that answers this directly; these are the closest runbooks, check them against the situation.'),
    t(lang, '我能直接回答：变更与操作人、告警、故障状态/影响/预计恢复、值班、定位卡、感知因子对比、池化和 FPGA 状态（「你能做什么」看例子）。', 'I can answer directly: changes and who made them, alerts, incident status/impact/ETA, on-call, the localization card, perception diffs, failover and FPGA status ("what can you do?" shows examples).'),
  ];
}
