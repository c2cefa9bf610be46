/** The resources served, and the legacy discovery documents kubectl builds its REST mapping from. */
import type { Kind } from './objects';

export interface ResourceDef {
  group: string;
  version: string;
  /** plural name, or `pods/exec` for a subresource */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** the stored kind behind it; absent for virtual resources (metrics, reviews, subresources) */
  stored?: Kind;
  /** a subresource whose kind lives in another group version (deployments/scale → autoscaling/v1 Scale) */
  kindGroupVersion?: { group: string; version: string };
}

const READ = ['get', 'list', 'watch'];

export const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', name: 'namespaces', singularName: 'namespace', kind: 'Namespace', namespaced: false, verbs: [...READ, 'delete'], shortNames: ['ns'], stored: 'Namespace' },
  { group: '', version: 'v1', name: 'pods', singularName: 'pod', kind: 'Pod', namespaced: true, verbs: [...READ, 'delete'], shortNames: ['po'], categories: ['all'], stored: 'Pod' },
  { group: '', version: 'v1', name: 'pods/attach', singularName: '', kind: 'PodAttachOptions', namespaced: true, verbs: ['create', 'get'] },
  { group: '', version: 'v1', name: 'pods/ephemeralcontainers', singularName: '', kind: 'Pod', namespaced: true, verbs: ['get', 'patch', 'update'] },
  { group: '', version: 'v1', name: 'pods/exec', singularName: '', kind: 'PodExecOptions', namespaced: true, verbs: ['create', 'get'] },
  { group: '', version: 'v1', name: 'pods/log', singularName: '', kind: 'Pod', namespaced: true, verbs: ['get'] },
  { group: '', version: 'v1', name: 'pods/portforward', singularName: '', kind: 'PodPortForwardOptions', namespaced: true, verbs: ['create', 'get'] },
  { group: '', version: 'v1', name: 'services', singularName: 'service', kind: 'Service', namespaced: true, verbs: [...READ, 'delete'], shortNames: ['svc'], categories: ['all'], stored: 'Service' },
  { group: '', version: 'v1', name: 'configmaps', singularName: 'configmap', kind: 'ConfigMap', namespaced: true, verbs: [...READ, 'delete'], shortNames: ['cm'], stored: 'ConfigMap' },
  { group: 'apps', version: 'v1', name: 'deployments', singularName: 'deployment', kind: 'Deployment', namespaced: true, verbs: [...READ, 'delete'], shortNames: ['deploy'], categories: ['all'], stored: 'Deployment' },
  { group: 'apps', version: 'v1', name: 'deployments/scale', singularName: '', kind: 'Scale', namespaced: true, verbs: ['get', 'patch', 'update'], kindGroupVersion: { group: 'autoscaling', version: 'v1' } },
  { group: 'metrics.k8s.io', version: 'v1beta1', name: 'pods', singularName: '', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
  { group: 'authorization.k8s.io', version: 'v1', name: 'selfsubjectaccessreviews', singularName: '', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
];

export function findResource(group: string, version: string, name: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.name === name);
}

export function resourceForKind(kind: Kind): ResourceDef {
  const def = RESOURCES.find((r) => r.stored === kind);
  if (!def) throw new Error(`no resource serves ${kind}`);
  return def;
}

export function groupVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function versionInfo(minor: number) {
  return {
    major: '1',
    minor: String(minor),
    gitVersion: `v1.${minor}.0`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList() {
  const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => {
      const version = RESOURCES.find((r) => r.group === name)!.version;
      const gv = { groupVersion: `${name}/${version}`, version };
      return { name, versions: [gv], preferredVersion: gv };
    }),
  };
}

/** APIResourceList for one group version, or undefined when that group version is not served. */
export function apiResourceList(group: string, version: string) {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf({ group, version }),
    resources: defs.map((r) => ({
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames && { shortNames: r.shortNames }),
      ...(r.categories && { categories: r.categories }),
      ...(r.kindGroupVersion && r.kindGroupVersion),
    })),
  };
}

/** `/api/v1/namespaces/NS/pods/NAME/exec` and `/apis/GROUP/VERSION/...`, split into its parts. */
export interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  /** empty for the group version itself (its APIResourceList) */
  resource: string;
  name?: string;
  subresource?: string;
}

export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let group = '';
  let version: string;
  if (segments[0] === 'api' && segments.length >= 2) [version, rest] = [segments[1], segments.slice(2)];
  else if (segments[0] === 'apis' && segments.length >= 3) [group, version, rest] = [segments[1], segments[2], segments.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  if (rest.length > 3) return undefined;
  const [resource = '', name, subresource] = rest;
  return { group, version, namespace, resource, name, subresource };
}
