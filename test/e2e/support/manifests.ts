/**
 * Reading the scenario manifests in test/manifests/: the Kubernetes objects, the pod template of
 * each workload, and the files of the ConfigMaps the pods mount. Only the fields the test
 * scenarios use are typed.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string }[];
  ports?: { containerPort: number }[];
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface Volume {
  name: string;
  configMap?: { name: string };
  emptyDir?: Record<string, never>;
}

export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  shareProcessNamespace?: boolean;
}

export interface ConfigMap extends KubeObject {
  kind: 'ConfigMap';
  data: Record<string, string>;
}

export interface Service extends KubeObject {
  kind: 'Service';
  spec: {
    type?: string;
    externalName?: string;
    selector?: Record<string, string>;
    ports: { name?: string; port: number; targetPort?: number }[];
  };
}

export interface Workload {
  kind: 'Deployment' | 'Pod';
  name: string;
  namespace: string;
  replicas: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
}

/** every object of a multi-document YAML file; throws on any YAML error or a document without kind */
export function readManifest(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${path} document ${i + 1}: ${doc.errors[0]?.message}`);
    const object = doc.toJS() as KubeObject | null;
    if (!object?.kind || !object.metadata?.name) throw new Error(`${path} document ${i + 1}: no kind or metadata.name`);
    return object;
  });
}

function isKind<T extends KubeObject>(kind: T['kind']) {
  return (object: KubeObject): object is T => object.kind === kind;
}

export function services(objects: KubeObject[]): Service[] {
  return objects.filter(isKind<Service>('Service'));
}

export function workloads(objects: KubeObject[]): Workload[] {
  return objects.flatMap((object): Workload[] => {
    if (object.kind === 'Deployment') {
      const d = object as KubeObject & {
        spec: { replicas?: number; template: { metadata?: Partial<ObjectMeta>; spec: PodSpec } };
      };
      return [
        {
          kind: 'Deployment',
          name: d.metadata.name,
          namespace: d.metadata.namespace ?? 'default',
          replicas: d.spec.replicas ?? 1,
          labels: d.spec.template.metadata?.labels ?? {},
          annotations: d.spec.template.metadata?.annotations ?? {},
          spec: d.spec.template.spec,
        },
      ];
    }
    if (object.kind === 'Pod') {
      const p = object as KubeObject & { spec: PodSpec };
      return [
        {
          kind: 'Pod',
          name: p.metadata.name,
          namespace: p.metadata.namespace ?? 'default',
          replicas: 1,
          labels: p.metadata.labels ?? {},
          annotations: p.metadata.annotations ?? {},
          spec: p.spec,
        },
      ];
    }
    return [];
  });
}

export function configMapData(objects: KubeObject[], namespace: string, name: string): Record<string, string> {
  const found = objects
    .filter(isKind<ConfigMap>('ConfigMap'))
    .find((cm) => cm.metadata.name === name && (cm.metadata.namespace ?? 'default') === namespace);
  if (!found) throw new Error(`no ConfigMap ${namespace}/${name}`);
  return found.data;
}

/** command + args as Kubernetes joins them when both are set (no image default is needed here) */
export function containerArgv(container: Container): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])];
}

/** container-level securityContext wins over the pod's, field by field */
export function effectiveUser(pod: PodSpec, container: Container): { uid: number; gid: number } {
  const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser ?? 0;
  // without runAsGroup the primary group is the image's (0 for every test image), not the uid
  const gid = container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup ?? 0;
  return { uid, gid };
}
