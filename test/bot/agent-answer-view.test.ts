import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentAnswer } from '../../agents/types.js';
import type { OutgoingMessage } from '../../bot/messages.js';
import type { MessageRef } from '../../bot/platforms/platform.js';
import { startProgress, type ProgressSink } from '../../bot/progress.js';
import { renderBlockKit } from '../../bot/render/block-kit.js';
import { renderText } from '../../bot/render/text.js';
import { renderWeComMarkdown } from '../../bot/render/wecom.js';
import { agentAnswerView } from '../../bot/views/agent-answer-view.js';
import { createLogger } from '../../core/logger.js';

const TZ = 'Asia/Shanghai';

/** An answer shaped as the LLM agent returns it: its text, the calls it made, what it cites and proposes. */
const llmAnswer = (over: Partial<AgentAnswer> = {}): AgentAnswer => ({
  planner: 'llm',
  intent: 'llm',
  text: '集中交易 11-20 16:30 的 CAB-20261120-003 调整了数据库连接池参数（赵磊执行）。',
  toolCalls: [
    { tool: 'change_lookup', input: { system: 'jzjy', days: 3 }, status: 'success', summary: '4 changes', durationMs: 12 },
    { tool: 'search_runbooks', input: { query: '连接池' }, status: 'success', summary: '3 hits', durationMs: 30 },
    { tool: 'search_runbooks', input: { query: '连接池 耗尽' }, status: 'success', summary: '3 hits', durationMs: 28 },
    { tool: 'who_is_oncall', input: { system: 'nope' }, status: 'error', summary: 'unknown system', error: 'unknown system', durationMs: 2 },
  ],
  citations: [
    { runbookId: 'jzjy-db-pool', section: '处置步骤', source: 'jzjy/db-pool.md' },
    { runbookId: 'jzjy-db-pool', section: '处置步骤', source: 'jzjy/db-pool.md' },
    { runbookId: 'jzjy-order-failures', section: '排查', source: 'jzjy/order-failures.md' },
  ],
  hypotheses: ['连接池上限调低可能导致开盘时连接耗尽（未经证实）'],
  proposedActions: [
    { tool: 'failover_switch', input: { pool: 'zd-bp' }, reason: '用户要求切换', actionId: 'ACT-20261123-001' },
    { tool: 'failover_switch', input: { pool: 'jzjy' }, reason: 'runbook said so', refused: '提问者没有要求执行操作' },
  ],
  notes: ['影响尚未记录，请询问故障指挥。'],
  ...over,
});

describe('the agent answer view', () => {
  it("an LLM answer: the model's text, notes, hypotheses apart, proposals with their request id or reason, and the small print", () => {
    const view = agentAnswerView(llmAnswer(), 'zh', TZ);
    expect(view.text).toBe('集中交易 11-20 16:30 的 CAB-20261120-003 调整了数据库连接池参数（赵磊执行）。');
    expect(view.sections).toEqual([
      { title: '说明', lines: ['影响尚未记录，请询问故障指挥。'] },
      { title: '推测（未经证实）', lines: ['连接池上限调低可能导致开盘时连接耗尽（未经证实）'] },
      {
        title: '提议的操作',
        lines: ['ACT-20261123-001 · failover_switch：已提交申请，待审批（用户要求切换）', 'failover_switch：未提交 — 提问者没有要求执行操作'],
      },
    ]);
    expect(view.context).toEqual([
      '大模型回答 · 工具：change_lookup（成功） · search_runbooks（成功） ×2 · who_is_oncall（出错）',
      '依据：jzjy-db-pool § 处置步骤；jzjy-order-failures § 排查',
    ]);
  });

  it('English, and a fallback says the model failed before anything else in the small print', () => {
    const view = agentAnswerView(
      { planner: 'offline', intent: 'oncall', fallback: 'the model endpoint timed out', toolCalls: [], citations: [], hypotheses: [], proposedActions: [], clarify: { about: 'oncall', systems: ['集中交易'] } },
      'en',
      TZ,
    );
    expect(view.text).toBe('On call for which system?');
    expect(view.context).toEqual([
      '⚠️ The model could not answer (the model endpoint timed out); the offline planner answered instead.',
      'Known systems: 集中交易',
      'Answered by the offline planner · no tools called',
    ]);
  });

  it("the agent's own fallback sentence is shown as it is", () => {
    const view = agentAnswerView({ planner: 'offline', intent: 'systems', fallback: '大模型暂不可用（超时），以下由离线规划器回答。', toolCalls: [], citations: [], hypotheses: [], proposedActions: [] }, 'zh', TZ);
    expect(view.context?.[0]).toBe('⚠️ 大模型暂不可用（超时），以下由离线规划器回答。');
  });

  it('Slack: the tools and sources are a context block (small, grey) after the answer', () => {
    const { blocks } = renderBlockKit(agentAnswerView(llmAnswer(), 'en', TZ));
    const last = blocks.at(-1) as { type: string; elements: Array<{ text: string }> };
    expect(last.type).toBe('context');
    expect(last.elements.map((e) => e.text)).toEqual([
      'Answered by the model · Tools: change_lookup (ok) · search_runbooks (ok) ×2 · who_is_oncall (error)',
      'Sources: jzjy-db-pool § 处置步骤; jzjy-order-failures § 排查',
    ]);
  });

  it('WeCom and the terminal: one compact line each, kept even when a long answer is cut', () => {
    const long = llmAnswer({ text: Array.from({ length: 120 }, (_, i) => `第 ${i} 行：集中交易变更明细`).join('\n') });
    const md = renderWeComMarkdown(agentAnswerView(long, 'zh', TZ));
    expect(Buffer.byteLength(md, 'utf8')).toBeLessThanOrEqual(2048);
    expect(md).toContain('已截断');
    expect(md.endsWith('<font color="comment">大模型回答 · 工具：change_lookup（成功） · search_runbooks（成功） ×2 · who_is_oncall（出错）</font>\n<font color="comment">依据：jzjy-db-pool § 处置步骤；jzjy-order-failures § 排查</font>')).toBe(true);
    const text = renderText(agentAnswerView(llmAnswer(), 'zh', TZ));
    expect(text.split('\n').slice(-2)).toEqual(['  ↳ 大模型回答 · 工具：change_lookup（成功） · search_runbooks（成功） ×2 · who_is_oncall（出错）', '  ↳ 依据：jzjy-db-pool § 处置步骤；jzjy-order-failures § 排查']);
  });

  it('many calls collapse to the first eight kinds and a count', () => {
    const calls = Array.from({ length: 11 }, (_, i) => ({ tool: `tool_${i}`, status: 'success' as const, summary: '', durationMs: 1 }));
    const view = agentAnswerView(llmAnswer({ toolCalls: calls, citations: [] }), 'en', TZ);
    expect(view.context).toEqual(['Answered by the model · Tools: tool_0 (ok) · tool_1 (ok) · tool_2 (ok) · tool_3 (ok) · tool_4 (ok) · tool_5 (ok) · tool_6 (ok) · tool_7 (ok) · 3 more']);
  });
});

describe('the progress line', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const logger = createLogger('silent');
  const answer: OutgoingMessage = { lang: 'en', text: 'the answer' };

  /** A sink that records what it was asked to do; `fail` makes show or replace throw. */
  function recorder(fail: { show?: boolean; replace?: boolean } = {}, editable = true) {
    const log: string[] = [];
    const sink: ProgressSink = {
      async show(m) {
        log.push(`show ${m.text}`);
        if (fail.show) throw new Error('post failed');
        return { platform: 'slack', roomId: 'C1', id: '1.0' } satisfies MessageRef;
      },
      ...(editable
        ? {
            async replace(ref: MessageRef, m: OutgoingMessage) {
              log.push(`replace ${ref.id} ${m.text}`);
              if (fail.replace) throw new Error('update failed');
            },
          }
        : {}),
    };
    return { log, sink };
  }

  it('a quick answer shows nothing and is delivered as usual', async () => {
    vi.useFakeTimers();
    const { log, sink } = recorder();
    const p = startProgress(sink, { lang: 'en', logger, afterMs: 1000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(await p.finish(answer)).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(log).toEqual([]);
  });

  it('a slow one shows the line after a second, with what is being looked up, and the answer takes its place', async () => {
    vi.useFakeTimers();
    const { log, sink } = recorder();
    const p = startProgress(sink, { lang: 'en', logger });
    p.detail('changes of 集中交易');
    await vi.advanceTimersByTimeAsync(1000);
    p.detail('runbooks on connection pools');
    await vi.advanceTimersByTimeAsync(0);
    expect(await p.finish(answer)).toBe(true);
    expect(log).toEqual(['show ⏳ Working on it… changes of 集中交易', 'replace 1.0 ⏳ Working on it… runbooks on connection pools', 'replace 1.0 the answer']);
  });

  it('a late "looking up …" never overwrites the answer', async () => {
    vi.useFakeTimers();
    const { log, sink } = recorder();
    const p = startProgress(sink, { lang: 'en', logger, afterMs: 10 });
    await vi.advanceTimersByTimeAsync(10);
    p.detail('one more thing');
    expect(await p.finish(answer)).toBe(true);
    p.detail('too late');
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.at(-1)).toBe('replace 1.0 the answer');
    expect(log.filter((l) => l.includes('too late'))).toEqual([]);
  });

  it('a failed post or edit leaves the answer to be delivered as usual; where messages cannot be edited it follows the line', async () => {
    vi.useFakeTimers();
    for (const [fail, editable] of [[{ show: true }, true], [{ replace: true }, true], [{}, false]] as const) {
      const { log, sink } = recorder(fail, editable);
      const p = startProgress(sink, { lang: 'zh', logger, afterMs: 10 });
      await vi.advanceTimersByTimeAsync(10);
      expect(await p.finish(answer)).toBe(false);
      expect(log[0]).toBe('show ⏳ 正在查询…');
    }
  });
});
