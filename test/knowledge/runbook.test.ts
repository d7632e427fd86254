import { describe, expect, it } from 'vitest';
import { parseRunbook } from '../../knowledge/runbook.js';
import { tokenize } from '../../knowledge/tokenize.js';

const good = `---
id: rb-test-one
title: 测试手册 / Test runbook
systems: [jzjy]
tags: [redis, "335002"]
---
# 测试手册 / Test runbook

Intro text before any section.

## 现象
- 委托失败

## 排查
### 数据库
\`\`\`
# not a heading: a shell comment in a code block
select 1;
\`\`\`
## 处置
1. 切换
`;

describe('runbook parsing', () => {
  it('chunks by heading with the heading path, ignoring # inside code blocks', () => {
    const rb = parseRunbook(good, 'x/rb-test-one.md');
    expect(rb.id).toBe('rb-test-one');
    expect(rb.tags).toEqual(['redis', '335002']);
    expect(rb.chunks.map((c) => c.section)).toEqual(['测试手册 / Test runbook', '现象', '数据库', '处置']);
    expect(rb.chunks[2]!.headingPath).toEqual(['测试手册 / Test runbook', '排查', '数据库']);
    expect(rb.chunks[2]!.content).toContain('# not a heading');
  });

  it.each([
    ['no front matter', '# hello\n', 'no YAML front matter'],
    ['missing title', '---\nid: rb-x\nsystems: [a]\n---\n## A\nb\n', 'front matter field "title" is missing'],
    ['empty systems', '---\nid: rb-x\ntitle: X\nsystems: []\n---\n## A\nb\n', 'front matter field "systems" must list at least one system id'],
    ['bad id', '---\nid: Bad Id\ntitle: X\nsystems: [a]\n---\n## A\nb\n', 'front matter field "id" must be lower-case'],
    ['broken yaml', '---\nid: [rb-x\ntitle: X\n---\n## A\nb\n', 'front matter is not valid YAML'],
    ['no body', '---\nid: rb-x\ntitle: X\nsystems: [a]\n---\n', 'the runbook has no text after its front matter'],
  ])('reports %s with the file and the field', (_name, text, message) => {
    expect(() => parseRunbook(text, 'area/bad.md')).toThrow(`area/bad.md: ${message}`);
  });
});

describe('tokenizer', () => {
  it('segments Chinese and keeps identifiers from log lines whole and in parts', () => {
    const t = tokenize('2026-11-23 09:31:02 ERROR HikariPool-1 - Connection is not available; ORA-12519 行情卡连接断了');
    expect(t).toEqual(expect.arrayContaining(['hikaripool-1', 'hikari', 'pool', 'ora-12519', '12519', 'connection', '行情', '连接']));
    expect(t).not.toContain('2026-11-23');
    expect(t).not.toContain('09:31:02');
    expect(t).not.toContain('的');
  });

  it('keeps function numbers and splits camelCase config keys', () => {
    expect(tokenize('功能号 335002 maxPoolSize')).toEqual(expect.arrayContaining(['335002', 'maxpoolsize', 'max', 'pool', 'size']));
  });
});
