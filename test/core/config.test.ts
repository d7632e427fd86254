import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl } from '../../core/config.js';

describe('configuration', () => {
  it('has defaults for everything on a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ WARROOM_HOME: './.warroom', WARROOM_PORT: 3000, LOG_LEVEL: 'info', WARROOM_TIMEZONE: 'Asia/Shanghai' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
  });

  it('names every bad variable, without printing connection strings', () => {
    let message = '';
    try {
      loadConfig({ WARROOM_PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://u:secretpw@h/db' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('WARROOM_PORT ("eighty")');
    expect(message).toContain('LOG_LEVEL ("loud")');
    expect(message).toContain('DATABASE_URL (set)');
    expect(message).not.toContain('secretpw');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', WARROOM_PORT: '' })).toMatchObject({ DATABASE_URL: undefined, WARROOM_PORT: 3000 });
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('postgres://u:pw@h:5432/db')).toBe('postgres://u:***@h:5432/db');
  });
});
