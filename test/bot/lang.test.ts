import { describe, expect, it } from 'vitest';
import { detectLang } from '../../bot/messages.js';

describe('reply language', () => {
  it.each([
    ['集中交易最近3个交易日有哪些变更', 'zh'],
    ['jzjy 最近有什么变更', 'zh'],
    ['现在什么情况', 'zh'],
    ['who is on call for 中登报盘?', 'en'],
    ['what changed on jzjy since Tuesday', 'en'],
    ['failover 中登报盘 to standby', 'en'],
    ['status', 'en'],
  ])('%s → %s', (text, lang) => expect(detectLang(text)).toBe(lang));
});
