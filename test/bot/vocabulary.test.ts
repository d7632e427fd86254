import { describe, expect, it } from 'vitest';
import type { IncidentFacts } from '../../bot/incidents/facts.js';
import { parseRole, parseSeverity, parseStatus, ROLES, SEVERITIES, STAGES, STATUSES } from '../../bot/incidents/policy.js';
import type { IncidentRow, RoleRow } from '../../bot/incidents/store.js';
import { incidentCardView, statusListView } from '../../bot/incidents/views.js';
import type { Lang } from '../../bot/messages.js';
import { incidentsView, oncallView } from '../../bot/views/tool-views.js';
import { durationLabel, minutesLabel, roleLabel, ROLE_LABELS, severityLabel, stageLabel, statusLabel } from '../../bot/views/vocabulary.js';

const LANGS: Lang[] = ['zh', 'en'];
const hasHan = (s: string) => /\p{Script=Han}/u.test(s);

describe('one vocabulary', () => {
  const table: Array<[kind: string, codes: readonly string[], label: (code: string, lang: Lang) => string]> = [
    ['status', STATUSES, statusLabel],
    ['role', ROLES, roleLabel],
    ['stage', ['discover', ...STAGES, 'review'], stageLabel],
    ['severity', SEVERITIES, severityLabel],
  ];
  for (const [kind, codes, label] of table) {
    it(`has a ${kind} label for every ${kind} in both languages`, () => {
      for (const code of codes) {
        const zh = label(code, 'zh');
        const en = label(code, 'en');
        expect(zh, `${kind} ${code} zh`).toBeTruthy();
        expect(en, `${kind} ${code} en`).toBeTruthy();
        expect(hasHan(en), `${kind} ${code} en is English`).toBe(false);
        // Severities are P0–P3 in both languages; every other word has its own Chinese.
        if (kind !== 'severity') expect(hasHan(zh), `${kind} ${code} zh is Chinese`).toBe(true);
      }
      expect(new Set(codes.map((c) => label(c, 'zh'))).size, `${kind}: distinct zh labels`).toBe(codes.length);
      expect(new Set(codes.map((c) => label(c, 'en'))).size, `${kind}: distinct en labels`).toBe(codes.length);
    });
  }

  it('uses the incident-room words, and reads them back as the same code', () => {
    expect(STATUSES.map((s) => statusLabel(s, 'zh'))).toEqual(['调查中', '已定位', '已缓解', '已解决']);
    expect(STATUSES.map((s) => statusLabel(s, 'en'))).toEqual(['investigating', 'identified', 'mitigated', 'resolved']);
    expect(ROLES.map((r) => roleLabel(r, 'zh'))).toEqual(['故障指挥', '沟通负责人', '处置负责人', '记录员']);
    expect(ROLES.map((r) => roleLabel(r, 'en'))).toEqual(['Incident commander', 'Communications lead', 'Operations lead', 'Scribe']);
    for (const s of STATUSES) for (const lang of LANGS) expect(parseStatus(statusLabel(s, lang))).toBe(s);
    for (const r of ROLES) expect(parseRole(roleLabel(r, 'zh'))).toBe(r);
    for (const s of SEVERITIES) for (const lang of LANGS) expect(parseSeverity(severityLabel(s, lang))).toBe(s);
  });

  it('keeps the other on-call roles, and shows an unknown code as it is', () => {
    expect(roleLabel('duty-manager', 'zh')).toBe('值班经理');
    expect(roleLabel('dba', 'en')).toBe('DBA');
    expect(roleLabel('astronaut', 'zh')).toBe('astronaut');
    expect(statusLabel('paused', 'zh')).toBe('paused');
    for (const [role, l] of Object.entries(ROLE_LABELS)) expect(l.zh && l.en, role).toBeTruthy();
  });

  it('says durations one way', () => {
    expect(durationLabel(7, 'en')).toBe('7 min');
    expect(durationLabel(46, 'zh')).toBe('46 分钟');
    expect(durationLabel(65, 'zh')).toBe('1 小时 5 分钟');
    expect(durationLabel(65, 'en')).toBe('1 h 05 min');
    expect(durationLabel(120, 'en')).toBe('2 h 00 min');
    expect(minutesLabel(67, 'zh')).toBe('67 分钟');
  });

  describe('the on-call view and the incident card use the same role words', () => {
    const now = new Date('2026-11-23T09:40:00+08:00');
    const person = (id: string) => ({ id, name: id, slack: null, wecom: null });
    const incident: IncidentRow = {
      id: 'INC-20261123-001',
      title: '开盘委托大量失败',
      system: 'jzjy',
      severity: 'P1',
      status: 'investigating',
      opened_at: now,
      resolved_at: null,
      summary: null,
      impact: null,
      root_cause: null,
      resolution: null,
      change_ids: [],
      stages: { discover: now.toISOString() },
      room: null,
      extra: {},
      declared_by: 'songkai',
      postmortem: null,
      updated_at: now,
    };
    const roles: RoleRow[] = ROLES.map((role, n) => ({ role, person: `p${n}`, name: null, slack: null, wecom: null, assigned_by: 'warroom', assigned_at: now }));
    const facts: IncidentFacts = { incident, roles, onset: now, elapsedMinutes: 75, stage: 'respond', stageLimit: 10, stageOverdue: true, stageMinutes: {}, lastUpdate: null, nextUpdateDue: null, updateInterval: 30 };

    for (const lang of LANGS) {
      it(lang, () => {
        const oncall = oncallView({ system: { id: 'jzjy', name: '集中交易' }, at: now.toISOString(), entries: ROLES.map((role, n) => ({ system: { id: 'jzjy', name: '集中交易' }, role, person: person(`p${n}`), from: null, to: null })) }, lang);
        const card = incidentCardView(facts, undefined, '集中交易', lang, 'Asia/Shanghai');
        const words = ROLES.map((r) => roleLabel(r, lang));
        expect(oncall.fields!.map((f) => f.label)).toEqual(words);
        expect(card.fields!.map((f) => f.label).filter((l) => words.includes(l))).toEqual(words);
        // The card's status and elapsed time, and the status buttons (Chinese), in the same words.
        expect(card.fields!.find((f) => f.label === (lang === 'zh' ? '状态' : 'Status'))!.value).toBe(statusLabel('investigating', lang));
        expect(card.fields!.find((f) => f.label === (lang === 'zh' ? '已持续' : 'Elapsed'))!.value).toBe(durationLabel(75, lang));
        if (lang === 'zh') {
          const buttons = card.buttons!.map((b) => b.label);
          for (const s of ['identified', 'mitigated', 'resolved'] as const) expect(buttons).toContain(statusLabel(s, 'zh'));
        }
        // The manager's list and the open-incidents answer say the status and duration the same way.
        const list = statusListView([facts], lang, 'Asia/Shanghai', { zh: '故障', en: 'Incidents' }, new Map());
        expect(list.sections![0]!.lines[0]).toContain(statusLabel('investigating', lang));
        expect(list.sections![0]!.lines[0]).toContain(durationLabel(75, lang));
        const open = incidentsView({ incidents: [{ id: incident.id, title: incident.title, system: 'jzjy', systemName: '集中交易', severity: 'P1', status: 'investigating', openedAt: now.toISOString(), openMinutes: 75 }] }, lang);
        expect(open.sections![0]!.lines[0]).toContain(`${statusLabel('investigating', lang)} · `);
        expect(open.sections![0]!.lines[0]).toContain(durationLabel(75, lang));
      });
    }
  });
});
