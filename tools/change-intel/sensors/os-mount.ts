import { readFileSync } from 'node:fs';
import { SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

/** Kernel pseudo file systems: their mounts say nothing about a change. */
const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf',
  'configfs', 'fusectl', 'binfmt_misc', 'autofs', 'nsfs', 'rpc_pipefs', 'efivarfs', 'selinuxfs',
]);

/** Mounts that container runtimes and login sessions make and remove all day. */
const VOLATILE_MOUNT_POINTS = [/^\/proc(\/|$)/, /^\/sys(\/|$)/, /^\/run\/user\//, /^\/run\/netns\//, /^\/run\/docker\//, /^\/run\/containerd\//, /^\/var\/lib\/docker\//, /^\/var\/lib\/containerd\//, /^\/var\/lib\/kubelet\/pods\//, /^\/snap\//];

/** Overlay layer paths change with every image pull; they are the container runtime's business. */
const VOLATILE_SUPER_OPTIONS = /^(lowerdir|upperdir|workdir)=/;

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountInfo(text: string): FactorItem[] {
  const byPoint = new Map<string, FactorItem>();
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const mountPoint = unescapeMount(left[4] ?? '');
    const fstype = right[0] ?? '';
    if (!mountPoint || PSEUDO_FS.has(fstype) || VOLATILE_MOUNT_POINTS.some((re) => re.test(mountPoint))) continue;
    const superOptions = (right[2] ?? '').split(',').filter((o) => o && !VOLATILE_SUPER_OPTIONS.test(o));
    // Later lines are mounted on top of earlier ones at the same point: the last one is what is seen.
    byPoint.set(mountPoint, {
      key: mountPoint,
      value: { source: unescapeMount(right[1] ?? ''), fstype, options: left[5] ?? '', superOptions: superOptions.join(',') },
    });
  }
  return [...byPoint.values()];
}

/** Mounted file systems with source, type and options (a remount read-only, a lost NFS mount). */
export const osMountSensor: Sensor = {
  id: 'os.mount',
  description: 'mounted file systems: source, type, options (pseudo and container-runtime mounts left out)',
  default: true,
  async *collect(): AsyncIterable<FactorItem> {
    let text: string;
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      throw new SensorUnavailableError('no /proc/self/mountinfo (not Linux, or /proc is not mounted)');
    }
    yield* parseMountInfo(text);
  },
};
