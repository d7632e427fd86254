// A minimal curl for the failover scripts of the loopback test (no dependency on curl being installed):
//   node http-ctl.mjs GET|POST URL [EXPECTED]
// Prints the body; exits 0 on a 2xx answer (and, with EXPECTED, only when the trimmed body equals it), 1 otherwise.
// HTTP_CTL_TIMEOUT_MS (default 3000): how long the connection may stay silent (longer for a test's held request).
import { request } from 'node:http';

const [method, url, expected] = process.argv.slice(2);
const timeout = Number(process.env.HTTP_CTL_TIMEOUT_MS ?? 3000);
const req = request(url, { method, agent: false, headers: { connection: 'close' }, timeout }, (res) => {
  let body = '';
  res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
    process.stdout.write(body);
    const ok = res.statusCode >= 200 && res.statusCode < 300 && (expected === undefined || body.trim() === expected);
    if (!ok) process.stderr.write(`${method} ${url}: HTTP ${res.statusCode}${expected === undefined ? '' : `, expected "${expected}", got "${body.trim()}"`}\n`);
    process.exit(ok ? 0 : 1);
  });
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  process.stderr.write(`${method} ${url}: ${err.message}\n`);
  process.exit(1);
});
req.end();
