import { runCommand, SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

/** `ii` installed, `hi` held: anything else (rc = removed with config left) is not installed. */
function installed(status: string): boolean {
  return status.length >= 2 && (status[0] === 'i' || status[0] === 'h') && status[1] === 'i';
}

/**
 * Installed packages and versions from dpkg and/or rpm. Keys carry the manager and architecture
 * (`deb:openssl:amd64`, `rpm:openssl:x86_64`) so test and production hosts on different distributions
 * compare sensibly.
 */
export const osPackageSensor: Sensor = {
  id: 'os.package',
  description: 'installed packages and versions (dpkg-query, rpm)',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    const items: FactorItem[] = [];
    let found = false;
    const deb = await runCommand('dpkg-query', ['-W', '-f', '${Package}\\t${Architecture}\\t${Version}\\t${db:Status-Abbrev}\\n'], { timeoutMs: options.timeoutMs });
    if (deb) {
      found = true;
      for (const line of deb.stdout.split('\n')) {
        const [name, arch, version, status] = line.split('\t');
        if (!name || !arch || version === undefined || !installed((status ?? '').trim())) continue;
        items.push({ key: `deb:${name}:${arch}`, value: { version } });
      }
    }
    const rpm = await runCommand('rpm', ['-qa', '--qf', '%{NAME}\\t%{ARCH}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n'], { timeoutMs: options.timeoutMs }).catch((err: unknown) => {
      // rpm installed on a Debian host without an rpm database is common and not a failure of dpkg's list.
      if (found) return undefined;
      throw err;
    });
    if (rpm) {
      found = true;
      for (const line of rpm.stdout.split('\n')) {
        const [name, arch, version] = line.split('\t');
        if (!name || !arch || !version) continue;
        items.push({ key: `rpm:${name}:${arch}`, value: { version } });
      }
    }
    if (!found) throw new SensorUnavailableError('neither dpkg-query nor rpm is installed');
    // Several versions of one package (kernels on rpm hosts) share a key: keep them all, sorted.
    const byKey = new Map<string, string[]>();
    for (const it of items) {
      const list = byKey.get(it.key) ?? [];
      list.push((it.value as { version: string }).version);
      byKey.set(it.key, list);
    }
    for (const [key, versions] of byKey) yield { key, value: { version: versions.sort().join(', ') } };
  },
};
