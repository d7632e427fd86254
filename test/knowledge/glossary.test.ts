import { describe, expect, it } from 'vitest';
import { phraseExpansions, translations } from '../../knowledge/glossary.js';
import { chunkTerms, isSymptomSection, queryTerms, SYMPTOM_WEIGHT } from '../../knowledge/index-text.js';

describe('operations glossary', () => {
  it('translates process words both ways: 证监会 ↔ CSRC, 审批 ↔ approve, 合规 ↔ compliance', () => {
    expect(translations('证监会')).toEqual(expect.arrayContaining(['csrc', 'regulator']));
    expect(translations('csrc')).toContain('证监会');
    expect(translations('审批')).toContain('approve');
    expect(translations('compliance')).toContain('合规');
    expect(translations('commander')).toContain('指挥官');
  });

  it('reads English plurals and third persons through their singular entry', () => {
    expect(translations('databases')).toContain('数据库');
    expect(translations('approves')).toContain('审批');
    expect(translations('queries')).toContain('查询');
    // no invented entries: an unknown word stays untranslated
    expect(translations('bananas')).toEqual([]);
  });

  it('maps what a colleague says in a hurry to the runbooks\' words, in both languages', () => {
    expect(phraseExpansions('银行那边转不过来钱')).toEqual(expect.arrayContaining(['转账', 'transfer']));
    expect(phraseExpansions('下单一直转圈')).toEqual(expect.arrayContaining(['超时', 'timeout']));
    expect(phraseExpansions('行情不动了')).toEqual(expect.arrayContaining(['陈旧', 'stale']));
    expect(phraseExpansions('什么时候必须报证监会')).toEqual(expect.arrayContaining(['报告阈值', '合规']));
    expect(phraseExpansions('Who signs off on this?')).toEqual(expect.arrayContaining(['审批', 'approval']));
    expect(phraseExpansions('磁盘使用率告警')).toEqual([]);
  });

  it('puts the expansions into the query at a lower weight than the words typed', () => {
    const q = queryTerms('银行那边转不过来钱');
    expect(q.get('银行')).toBe(1);
    expect(q.get('转账')).toBeGreaterThan(0);
    expect(q.get('转账')).toBeLessThan(1);
    expect(q.get('bank')).toBeGreaterThan(0); // 银行 → bank
  });

  it('weighs the symptom section (现象 / Symptoms) above the other sections', () => {
    expect(isSymptomSection('现象')).toBe(true);
    expect(isSymptomSection('Symptoms')).toBe(true);
    expect(isSymptomSection('处置')).toBe(false);
    const chunk = (section: string) => ({ ord: 0, section, headingPath: ['T'], content: '下单 转圈' });
    const sym = chunkTerms(chunk('现象'), []);
    const fix = chunkTerms(chunk('处置'), []);
    expect(sym.terms.get('转圈')).toBe(SYMPTOM_WEIGHT);
    expect(fix.terms.get('转圈')).toBe(1);
    expect(sym.length).toBe(fix.length); // the weight is not normalised away by a longer length
  });
});
