import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { k8sItems } from '../../tools/change-intel/sensors/k8s-resource.js';
import { parseMountInfo } from '../../tools/change-intel/sensors/os-mount.js';
import { processKey } from '../../tools/change-intel/sensors/os-process.js';
import { expandSysctlKey } from '../../tools/change-intel/sensors/os-sysctl.js';
import { compressIpv6, parseSocketTable } from '../../tools/change-intel/sensors/proc.js';
import { redactSecrets } from '../../tools/change-intel/sensors/sensor.js';

describe('/proc/net parsing', () => {
  it('decodes IPv4 and IPv6 addresses and ports as the kernel prints them', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0',
      '   1: 0500000A:A01E 0B00000A:05F1 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(parseSocketTable(tcp, 'tcp', 4)).toEqual([
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, state: '0A', uid: 1000, inode: 4242 },
      { proto: 'tcp', family: 4, localAddress: '10.0.0.5', localPort: 40990, remoteAddress: '10.0.0.11', remotePort: 1521, state: '01', uid: 0, inode: 4343 },
    ]);
    const tcp6 = [
      'header',
      '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1',
      '   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1',
      '   2: 0000000000000000FFFF00000100007F:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 13 1',
      '   3: B80D0120000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 14 1',
    ].join('\n');
    expect(parseSocketTable(tcp6, 'tcp', 6).map((s) => s.localAddress)).toEqual(['::', '::1', '::ffff:127.0.0.1', '2001:db8::1']);
    expect(compressIpv6([0xfe80, 0, 0, 0, 1, 0, 0, 1])).toBe('fe80::1:0:0:1');
  });
});

describe('command lines and secrets', () => {
  it('keys processes by command line with credentials redacted', () => {
    expect(processKey(['java', '-jar', 'gw.jar', '--db', 'postgres://app:s3cret@db:5432/x', '--password=hunter2'])).toBe('java -jar gw.jar --db postgres://app:***@db:5432/x --password=***');
    expect(processKey(['/usr/bin/mysql', '-uroot', '-pTopSecret', 'trade'])).toBe('/usr/bin/mysql -uroot -p*** trade');
    expect(processKey(['find', '/', '-perm', '4000', '-print'])).toBe('find / -perm 4000 -print');
    expect(redactSecrets('curl -H x --token abc https://u:p@h/ api_key=zzz&x=1')).toBe('curl -H x --token *** https://u:***@h/ api_key=***&x=1');
  });
});

describe('mounts', () => {
  it('keeps real file systems with their options and leaves pseudo and container mounts out', () => {
    const text = [
      '22 27 0:21 / /proc rw,relatime - proc proc rw',
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
      '30 27 0:27 / /data\\040vol rw,noatime - xfs /dev/sdb1 rw,attr2',
      '31 27 0:28 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c',
      '32 27 0:29 / /mnt/nfs ro,relatime - nfs4 10.0.0.9:/export rw,vers=4.1,addr=10.0.0.9',
    ].join('\n');
    expect(parseMountInfo(text)).toEqual([
      { key: '/', value: { source: '/dev/vda', fstype: 'ext4', options: 'rw,relatime', superOptions: 'rw,discard' } },
      { key: '/data vol', value: { source: '/dev/sdb1', fstype: 'xfs', options: 'rw,noatime', superOptions: 'rw,attr2' } },
      { key: '/mnt/nfs', value: { source: '10.0.0.9:/export', fstype: 'nfs4', options: 'ro,relatime', superOptions: 'rw,vers=4.1,addr=10.0.0.9' } },
    ]);
  });
});

describe('sysctl', () => {
  it('expands * within one segment against /proc/sys', () => {
    const names = expandSysctlKey('net.core.rmem_*');
    expect(names).toContain('net.core.rmem_max');
    expect(names.every((n) => n.startsWith('net.core.rmem_'))).toBe(true);
    expect(expandSysctlKey('no.such.key_*')).toEqual([]);
  });
});

describe('Kubernetes and helm', () => {
  const deployment = (image: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'risk-engine', namespace: 'risk', resourceVersion: '123', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { replicas, selector: { matchLabels: { app: 'risk' } }, template: { spec: { containers: [{ name: 'engine', image }] } } },
    status: { readyReplicas: replicas },
  });
  const release = (version: number, chartVersion: string) => {
    const payload = gzipSync(Buffer.from(JSON.stringify({ name: 'app-trade-bff', version, chart: { metadata: { name: 'app-trade-bff', version: chartVersion, appVersion: '8.6.0' } } })));
    return {
      kind: 'Secret',
      type: 'helm.sh/release.v1',
      metadata: { name: `sh.helm.release.v1.app-trade-bff.v${version}`, namespace: 'mobile', labels: { owner: 'helm', name: 'app-trade-bff', version: String(version), status: version === 2 ? 'deployed' : 'superseded' } },
      data: { release: Buffer.from(payload.toString('base64')).toString('base64') },
    };
  };

  it('turns kubectl List output into workloads, services, config digests, secret key names and helm releases', () => {
    const items = k8sItems({
      kind: 'List',
      items: [
        deployment('reg/risk:2.1', 16),
        { kind: 'Service', metadata: { name: 'risk', namespace: 'risk' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'risk' } } },
        { kind: 'ConfigMap', metadata: { name: 'risk-conf', namespace: 'risk' }, data: { 'pool.properties': 'maxTotal=800' } },
        { kind: 'Secret', type: 'Opaque', metadata: { name: 'db', namespace: 'risk' }, data: { password: Buffer.from('hunter2').toString('base64') } },
        release(1, '8.5.2'),
        release(2, '8.6.0'),
        { kind: 'Pod', metadata: { name: 'risk-engine-7d9f-abc', namespace: 'risk' } },
      ],
    });
    const byKey = Object.fromEntries(items.map((i) => [i.key, i.value]));
    expect(Object.keys(byKey).sort()).toEqual(['configmap risk/risk-conf', 'deployment risk/risk-engine', 'helm mobile/app-trade-bff', 'secret risk/db', 'service risk/risk']);
    expect(byKey['deployment risk/risk-engine']).toMatchObject({ replicas: 16, images: { engine: 'reg/risk:2.1' } });
    expect(byKey['service risk/risk']).toEqual({ type: 'ClusterIP', clusterIP: '10.96.0.10', ports: ['80/TCP→8080'], selector: { app: 'risk' } });
    expect(byKey['configmap risk/risk-conf']).toEqual({ keys: { 'pool.properties': createHash('sha256').update('maxTotal=800').digest('hex').slice(0, 16) } });
    expect(byKey['secret risk/db']).toEqual({ type: 'Opaque', keys: { password: 7 } });
    expect(JSON.stringify(byKey['secret risk/db'])).not.toContain(createHash('sha256').update('hunter2').digest('hex').slice(0, 8));
    expect(byKey['helm mobile/app-trade-bff']).toEqual({ revision: 2, status: 'deployed', chart: 'app-trade-bff-8.6.0', appVersion: '8.6.0' });
  });

  it('is stable against metadata churn and sees spec changes; reads helm list output', () => {
    const a = k8sItems(deployment('reg/risk:2.1', 8))[0]!;
    const churn = { ...deployment('reg/risk:2.1', 8), metadata: { ...deployment('x', 1).metadata, resourceVersion: '999' }, status: { readyReplicas: 3 } };
    expect(k8sItems(churn)[0]).toEqual(a);
    expect(k8sItems(deployment('reg/risk:2.2', 8))[0]!.value).not.toEqual(a.value);
    expect(k8sItems([{ name: 'quant-access', namespace: 'quant', revision: '7', status: 'deployed', chart: 'quant-access-2.2.0', app_version: '2.2.0', updated: '2026-11-16 17:36:00' }])).toEqual([
      { key: 'helm quant/quant-access', value: { revision: 7, status: 'deployed', chart: 'quant-access-2.2.0', appVersion: '2.2.0' } },
    ]);
  });
});
