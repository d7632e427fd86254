import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { canonicalJson } from '../../../core/json.js';
import { SensorUnavailableError, type FactorItem, type Sensor } from './sensor.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const digest = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16);

/** Kinds whose objects are created and deleted by controllers, not by changes: left out. */
const SKIPPED_KINDS = new Set(['Pod', 'ReplicaSet', 'ControllerRevision', 'Event', 'Endpoints', 'EndpointSlice', 'Lease']);

function metaOf(o: Obj): { name: string; namespace: string | undefined; labels: Obj } {
  const m = isObj(o.metadata) ? o.metadata : {};
  return { name: str(m.name) ?? '?', namespace: str(m.namespace), labels: isObj(m.labels) ? m.labels : {} };
}

function keyOf(kind: string, o: Obj): string {
  const { name, namespace } = metaOf(o);
  return `${kind.toLowerCase()} ${namespace ? `${namespace}/` : ''}${name}`;
}

function containerImages(spec: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const pod = isObj(spec) && isObj(spec.template) && isObj(spec.template.spec) ? spec.template.spec : undefined;
  for (const list of [pod?.initContainers, pod?.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) if (isObj(c)) out[str(c.name) ?? '?'] = str(c.image) ?? '?';
  }
  return out;
}

function workload(kind: string, o: Obj): FactorItem {
  const spec = isObj(o.spec) ? o.spec : {};
  const { replicas: _r, template, ...rest } = spec;
  return {
    key: keyOf(kind, o),
    value: {
      ...(typeof spec.replicas === 'number' ? { replicas: spec.replicas } : {}),
      images: containerImages(spec),
      templateSha256: digest(template ?? null),
      specSha256: digest(rest),
    },
  };
}

function service(o: Obj): FactorItem {
  const spec = isObj(o.spec) ? o.spec : {};
  const ports = Array.isArray(spec.ports)
    ? spec.ports.filter(isObj).map((p) => `${String(p.port)}/${str(p.protocol) ?? 'TCP'}→${String(p.targetPort ?? p.port)}${p.nodePort ? ` node:${String(p.nodePort)}` : ''}`).sort()
    : [];
  return { key: keyOf('Service', o), value: { type: str(spec.type) ?? 'ClusterIP', clusterIP: str(spec.clusterIP) ?? null, ports, selector: isObj(spec.selector) ? spec.selector : {} } };
}

function configMap(o: Obj): FactorItem {
  const keys: Record<string, string> = {};
  for (const field of ['data', 'binaryData'] as const) {
    const data = o[field];
    if (isObj(data)) for (const [k, v] of Object.entries(data)) keys[k] = createHash('sha256').update(String(v)).digest('hex').slice(0, 16);
  }
  return { key: keyOf('ConfigMap', o), value: { keys } };
}

/**
 * Secrets: key names and sizes only. Even a hash of a short password can be brute-forced, so no
 * digest of secret values ever leaves the cluster.
 */
function secret(o: Obj): FactorItem {
  const keys: Record<string, number> = {};
  if (isObj(o.data)) for (const [k, v] of Object.entries(o.data)) keys[k] = Buffer.from(String(v), 'base64').length;
  return { key: keyOf('Secret', o), value: { type: str(o.type) ?? 'Opaque', keys } };
}

interface HelmRelease {
  key: string;
  revision: number;
  value: Obj;
}

/** Helm 3 keeps each release revision in a Secret (type helm.sh/release.v1) with a gzipped payload. */
function helmFromSecret(o: Obj): HelmRelease | undefined {
  const { namespace, labels } = metaOf(o);
  const name = str(labels.name);
  const revision = Number(labels.version);
  if (!name || !Number.isFinite(revision)) return undefined;
  const value: Obj = { revision, status: str(labels.status) ?? null };
  const payload = isObj(o.data) ? str(o.data.release) : undefined;
  if (payload) {
    try {
      const inner = Buffer.from(Buffer.from(payload, 'base64').toString('utf8'), 'base64');
      const release = JSON.parse(gunzipSync(inner).toString('utf8')) as Obj;
      const chart = isObj(release.chart) && isObj(release.chart.metadata) ? release.chart.metadata : undefined;
      if (chart) {
        value.chart = `${str(chart.name) ?? '?'}-${str(chart.version) ?? '?'}`;
        value.appVersion = str(chart.appVersion) ?? null;
      }
    } catch {
      // an unreadable payload still leaves revision and status
    }
  }
  return { key: `helm ${namespace ?? 'default'}/${name}`, revision, value };
}

/** An entry of `helm list -o json`: {name, namespace, revision, status, chart, app_version}. */
function helmFromList(e: Obj): HelmRelease | undefined {
  const name = str(e.name);
  if (!name) return undefined;
  const revision = Number(e.revision);
  return {
    key: `helm ${str(e.namespace) ?? 'default'}/${name}`,
    revision: Number.isFinite(revision) ? revision : 0,
    value: { revision: Number.isFinite(revision) ? revision : null, status: str(e.status) ?? null, chart: str(e.chart) ?? null, appVersion: str(e.app_version) ?? null },
  };
}

/** Turn kubectl/helm JSON (a List, one object, or a helm list array) into factor items. */
export function k8sItems(doc: unknown): FactorItem[] {
  const items = new Map<string, FactorItem>();
  const helm = new Map<string, HelmRelease>();
  const addHelm = (r: HelmRelease | undefined) => {
    if (!r) return;
    const prev = helm.get(r.key);
    if (!prev || r.revision > prev.revision) helm.set(r.key, r);
  };
  const objects: unknown[] = Array.isArray(doc) ? doc : isObj(doc) && Array.isArray(doc.items) ? doc.items : [doc];
  for (const o of objects) {
    if (!isObj(o)) continue;
    if (typeof o.kind !== 'string' && 'chart' in o && 'revision' in o) {
      addHelm(helmFromList(o));
      continue;
    }
    const kind = str(o.kind);
    if (!kind || SKIPPED_KINDS.has(kind)) continue;
    let item: FactorItem;
    if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet') item = workload(kind, o);
    else if (kind === 'Service') item = service(o);
    else if (kind === 'ConfigMap') item = configMap(o);
    else if (kind === 'Secret') {
      if (str(o.type) === 'helm.sh/release.v1') {
        addHelm(helmFromSecret(o));
        continue;
      }
      item = secret(o);
    } else item = { key: keyOf(kind, o), value: { specSha256: digest(isObj(o.spec) ? o.spec : (o.data ?? null)) } };
    items.set(item.key, item);
  }
  for (const r of helm.values()) items.set(r.key, { key: r.key, value: r.value });
  return [...items.values()];
}

/**
 * Container platform resources from `kubectl get … -o json` and `helm list -o json` output files
 * (`--kube-json`): Deployments, StatefulSets, DaemonSets (replicas, images, template digest),
 * Services (type, ports, selector), ConfigMaps (per-key digests), Secrets (key names only) and
 * helm releases (chart, revision, status). Reading files keeps cluster credentials out of Warroom.
 */
export const k8sResourceSensor: Sensor = {
  id: 'k8s.resource',
  description: 'Kubernetes Deployments, StatefulSets, Services, ConfigMap digests and helm releases from kubectl/helm JSON (--kube-json)',
  default: true,
  async *collect(options): AsyncIterable<FactorItem> {
    if (options.kubeFiles.length === 0) {
      throw new SensorUnavailableError('no kubectl output given: pass --kube-json FILE (from `kubectl get deploy,sts,ds,svc,cm,secret -A -o json` and/or `helm list -A -o json`)');
    }
    const all = new Map<string, FactorItem>();
    for (const file of options.kubeFiles) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new Error(`cannot read kubectl JSON ${file}: ${(err as Error).message}`);
      }
      for (const item of k8sItems(doc)) all.set(item.key, item);
    }
    yield* all.values();
  },
};
