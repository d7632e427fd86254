import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets, redactText } from '../../core/redact.js';

const PEM = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK', '-----END RSA PRIVATE KEY-----'].join('\n');

describe('redactSecrets', () => {
  it('redacts values under secret-looking keys, nested in objects and arrays, whatever the case', () => {
    const input = {
      system: 'jzjy',
      password: 'hunter2',
      DB_PASSWD: 'x',
      nested: { apiKey: 'abc', 'api-key': 'def', Api_Key: 'ghi', privateKey: 'k', AWS_SECRET_ACCESS_KEY: 's' },
      hosts: [{ name: 'trd-app-03', credentials: { user: 'root', pass: 'toor' } }, { name: 'trd-app-04', authToken: 'tok' }],
      headers: { Authorization: 'Bearer abc', Cookie: 'sid=1' },
      session: 'abcdef',
      JSESSIONID: '0123',
      pin: { password: 123456 },
      enabled: true,
    };
    expect(redactSecrets(input)).toEqual({
      system: 'jzjy',
      password: REDACTED,
      DB_PASSWD: REDACTED,
      nested: { apiKey: REDACTED, 'api-key': REDACTED, Api_Key: REDACTED, privateKey: REDACTED, AWS_SECRET_ACCESS_KEY: REDACTED },
      hosts: [{ name: 'trd-app-03', credentials: REDACTED }, { name: 'trd-app-04', authToken: REDACTED }],
      headers: { Authorization: REDACTED, Cookie: REDACTED },
      session: REDACTED,
      JSESSIONID: REDACTED,
      pin: { password: REDACTED },
      enabled: true,
    });
    // The input is not touched.
    expect(input.password).toBe('hunter2');
  });

  it('keeps the words of the trade that only look like secrets: trading sessions, TOE sessions, token counts, flags, nulls', () => {
    const input = { tradingSession: 'call-auction', toeSessions: 12, sessionCount: 3, maxTokens: 1000, tokenRequired: false, password: null, host: 'sk-trade-gateway-primary-01' };
    expect(redactSecrets(input)).toEqual(input);
  });

  it('redacts secrets inside strings in place and keeps the rest of the text', () => {
    const slackBot = ['xoxb', '123456789012', '1234567890123', 'AbCdEfGhIjKlMnOpQrStUvWx'].join('-');
    const slackUser = ['xoxp', '1111111111', '2222222222'].join('-');
    const openai = ['sk', 'proj', 'Ab3dEf6hIj9kLmN0pQrStUvWxYz12345'].join('-');
    expect(redactText(`curl -H "Authorization: Bearer eyABCDEFGH12345678" http://x`)).toBe(`curl -H "Authorization: ${REDACTED}" http://x`);
    expect(redactText('token in header: Bearer abcdefgh12345678')).toBe(`token in header: Bearer ${REDACTED}`);
    expect(redactText(`slack ${slackBot} and ${slackUser}`)).toBe(`slack xoxb-${REDACTED} and xoxp-${REDACTED}`);
    expect(redactText(`OPENAI key ${openai} set`)).toBe(`OPENAI key sk-proj-${REDACTED} set`);
    expect(redactText(`key:\n${PEM}\nend`)).toBe('key:\n[redacted private key]\nend');
    expect(redactText('postgres://warroom:s3cr%40t@db.internal:5432/warroom')).toBe(`postgres://warroom:${REDACTED}@db.internal:5432/warroom`);
    expect(redactText('redis://:redispass@127.0.0.1:6379')).toBe(`redis://:${REDACTED}@127.0.0.1:6379`);
    expect(redactText('mysql -u root --password=hunter2 -h db1')).toBe(`mysql -u root --password=${REDACTED} -h db1`);
    expect(redactText('https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=ABCDEF123&debug=1')).toBe(`https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=${REDACTED}&debug=1`);
    expect(redactText('{"user":"a","secret":"xyz"}')).toBe(`{"user":"a","secret":"${REDACTED}"}`);
    expect(redactText(`auth Basic ${Buffer.from('admin:pw').toString('base64')} sent`)).toBe(`auth Basic ${REDACTED} sent`);
    // What is not a secret stays as written.
    expect(redactText('Basic configuration of 集中交易 restored; switch trd-app-03 → trd-app-04 (VIP 10.1.2.3)')).toBe('Basic configuration of 集中交易 restored; switch trd-app-03 → trd-app-04 (VIP 10.1.2.3)');
    expect(redactText('https://runbooks.internal/jzjy#connection-pool')).toBe('https://runbooks.internal/jzjy#connection-pool');
  });

  it('redacts strings at any depth and is idempotent', () => {
    const input = { steps: [{ name: 'release-vip', command: 'ssh ops@trd-app-03 "vipctl release --token=abc123"' }], note: `key ${PEM}` };
    const once = redactSecrets(input);
    expect(once).toEqual({ steps: [{ name: 'release-vip', command: `ssh ops@trd-app-03 "vipctl release --token=${REDACTED}"` }], note: 'key [redacted private key]' });
    expect(redactSecrets(once)).toEqual(once);
    expect(redactText(redactText('postgres://u:p@h/db Bearer abcdefgh12345678 password=x'))).toBe(redactText('postgres://u:p@h/db Bearer abcdefgh12345678 password=x'));
  });
});
