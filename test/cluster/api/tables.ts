/** Server-side printing (`as=Table`): the columns and cells `kubectl get` shows for each kind. */
import type { ConfigMap, Deployment, KubeObject, Namespace, Pod, Service } from './objects';
import { formatLabelSelector } from './selectors';

interface Column {
  name: string;
  type: 'string' | 'integer';
  /** 1 = only with `-o wide` */
  priority?: 1;
  format?: 'name';
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  const days = Math.floor(hours / 24) % 365;
  if (hours < 24 * 365 * 8) return days === 0 ? `${years}y` : `${years}y${days}d`;
  return `${years}y`;
}

function age(timestamp: string | undefined): string {
  return timestamp ? humanDuration(Date.now() - Date.parse(timestamp)) : '<unknown>';
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name' };
const AGE: Column = { name: 'Age', type: 'string' };

/** kubectl's printPod: the STATUS word, READY and RESTARTS */
export function podSummary(pod: Pod): { status: string; ready: string; restarts: string } {
  let reason: string = pod.status.reason || pod.status.phase;
  let ready = 0;
  let restarts = 0;
  let lastRestart: string | undefined;
  let hasRunning = false;
  const statuses = pod.status.containerStatuses ?? [];
  for (const c of [...statuses].reverse()) {
    restarts += c.restartCount;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished && (!lastRestart || finished > lastRestart)) lastRestart = finished;
    const { waiting, terminated, running } = c.state;
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
    else if (c.ready && running) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === 'Completed' && hasRunning) {
    reason = pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (pod.metadata.deletionTimestamp) reason = pod.status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const restartText = restarts > 0 && lastRestart ? `${restarts} (${age(lastRestart)} ago)` : String(restarts);
  return { status: reason, ready: `${ready}/${pod.spec.containers.length}`, restarts: restartText };
}

function servicePorts(svc: Service): string {
  const ports = svc.spec.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function externalIp(svc: Service): string {
  const external = svc.spec.externalIPs ?? [];
  switch (svc.spec.type) {
    case 'ExternalName':
      return svc.spec.externalName ?? '<none>';
    case 'LoadBalancer': {
      const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '');
      const all = [...ingress, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    default:
      return external.length > 0 ? external.join(',') : '<none>';
  }
}

function selectorText(selector: Record<string, string> | undefined): string {
  return selector && Object.keys(selector).length > 0 ? formatLabelSelector({ matchLabels: selector }) : '<none>';
}

interface Printer<T> {
  columns: Column[];
  cells(object: T): Array<string | number>;
}

const pods: Printer<Pod> = {
  columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Status', type: 'string' }, { name: 'Restarts', type: 'string' }, AGE,
    { name: 'IP', type: 'string', priority: 1 }, { name: 'Node', type: 'string', priority: 1 },
    { name: 'Nominated Node', type: 'string', priority: 1 }, { name: 'Readiness Gates', type: 'string', priority: 1 }],
  cells(pod) {
    const { status, ready, restarts } = podSummary(pod);
    return [pod.metadata.name, ready, status, restarts, age(pod.metadata.creationTimestamp),
      pod.status.podIP || '<none>', pod.spec.nodeName || '<none>', '<none>', '<none>'];
  },
};

const services: Printer<Service> = {
  columns: [NAME, { name: 'Type', type: 'string' }, { name: 'Cluster-IP', type: 'string' }, { name: 'External-IP', type: 'string' },
    { name: 'Port(s)', type: 'string' }, AGE, { name: 'Selector', type: 'string', priority: 1 }],
  cells: (svc) => [svc.metadata.name, svc.spec.type, svc.spec.clusterIP || '<none>', externalIp(svc), servicePorts(svc),
    age(svc.metadata.creationTimestamp), selectorText(svc.spec.selector)],
};

const deployments: Printer<Deployment> = {
  columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Up-to-date', type: 'integer' }, { name: 'Available', type: 'integer' }, AGE,
    { name: 'Containers', type: 'string', priority: 1 }, { name: 'Images', type: 'string', priority: 1 }, { name: 'Selector', type: 'string', priority: 1 }],
  cells(d) {
    const containers = d.spec.template.spec.containers;
    return [d.metadata.name, `${d.status?.readyReplicas ?? 0}/${d.spec.replicas}`, d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0, age(d.metadata.creationTimestamp), containers.map((c) => c.name).join(','),
      containers.map((c) => c.image).join(','), formatLabelSelector(d.spec.selector)];
  },
};

const configMaps: Printer<ConfigMap> = {
  columns: [NAME, { name: 'Data', type: 'integer' }, AGE],
  cells: (cm) => [cm.metadata.name, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
    age(cm.metadata.creationTimestamp)],
};

const namespaces: Printer<Namespace> = {
  columns: [NAME, { name: 'Status', type: 'string' }, AGE],
  cells: (ns) => [ns.metadata.name, ns.status.phase, age(ns.metadata.creationTimestamp)],
};

function cellsOf(object: KubeObject): Array<string | number> {
  switch (object.kind) {
    case 'Pod': return pods.cells(object);
    case 'Service': return services.cells(object);
    case 'Deployment': return deployments.cells(object);
    case 'ConfigMap': return configMaps.cells(object);
    case 'Namespace': return namespaces.cells(object);
  }
}

const COLUMNS: Record<KubeObject['kind'], Column[]> = {
  Pod: pods.columns, Service: services.columns, Deployment: deployments.columns, ConfigMap: configMaps.columns, Namespace: namespaces.columns,
};

function rowObject(object: KubeObject, include: IncludeObject): object | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export function toTable(kind: KubeObject['kind'], objects: KubeObject[], include: IncludeObject, resourceVersion: string) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: COLUMNS[kind].map((c) => ({ description: '', format: '', priority: 0, ...c })),
    rows: objects.map((o) => ({ cells: cellsOf(o), object: rowObject(o, include) })),
  };
}
