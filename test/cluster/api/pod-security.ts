/**
 * Pod Security admission (staging/src/k8s.io/pod-security-admission): the namespace label
 * `pod-security.kubernetes.io/enforce` (+ `-version`) picks a level; a pod, or an update of
 * pods/ephemeralcontainers, that violates it is refused with 403 and the admission's wording
 * (admission/admission.go: `violates PodSecurity "<level>:<version>": <reasons>`).
 *
 * The checks are those of policy/check_*.go that can apply to what this cluster runs, in the
 * registry's order (policy/registry.go: baseline checks, then for baseline the overlapping ones,
 * for restricted the restricted ones; each list in file order, as the checks register in init()).
 */
import { forbiddenBy } from './status';

export interface SecurityContextLike {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile?: { type?: string };
  capabilities?: { add?: string[]; drop?: string[] };
}

export interface ContainerLike {
  name: string;
  ports?: Array<{ hostPort?: number }>;
  securityContext?: SecurityContextLike;
}

export interface PodSpecLike {
  containers: ContainerLike[];
  initContainers?: ContainerLike[];
  ephemeralContainers?: ContainerLike[];
  hostPID?: boolean;
  hostIPC?: boolean;
  hostNetwork?: boolean;
  securityContext?: Pick<SecurityContextLike, 'runAsNonRoot' | 'runAsUser' | 'seccompProfile'>;
}

type Level = 'privileged' | 'baseline' | 'restricted';

interface CheckResult {
  reason: string;
  detail: string;
}

type Check = (spec: PodSpecLike) => CheckResult | undefined;

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
export const ENFORCE_VERSION_LABEL = 'pod-security.kubernetes.io/enforce-version';

/** policy/visitor.go visitContainers: init, regular, then ephemeral containers */
function allContainers(spec: PodSpecLike): ContainerLike[] {
  return [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? [])];
}

/** policy/helpers.go */
function joinQuote(items: string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

function containersPhrase(names: string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Go's sets.NewString().List(): sorted, unique */
function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** policy/check_hostNamespaces.go */
const hostNamespaces: Check = (spec) => {
  const used = sortedSet([spec.hostNetwork && 'hostNetwork', spec.hostPID && 'hostPID', spec.hostIPC && 'hostIPC'].filter((v): v is string => Boolean(v)));
  return used.length ? { reason: 'host namespaces', detail: used.join(', ') } : undefined;
};

/** policy/check_hostPorts.go */
const hostPorts: Check = (spec) => {
  const bad: string[] = [];
  const ports = new Set<string>();
  for (const c of allContainers(spec)) {
    const used = (c.ports ?? []).filter((p) => p.hostPort);
    for (const p of used) ports.add(String(p.hostPort));
    if (used.length) bad.push(c.name);
  }
  if (!bad.length) return undefined;
  const list = sortedSet(ports);
  return {
    reason: 'hostPort',
    detail: `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
  };
};

/** policy/check_privileged.go */
const privileged: Check = (spec) => {
  const bad = allContainers(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  return bad.length ? { reason: 'privileged', detail: `${containersPhrase(bad)} must not set securityContext.privileged=true` } : undefined;
};

const validSeccomp = (type: string | undefined): boolean => type === 'RuntimeDefault' || type === 'Localhost';

/** policy/check_seccompProfile_baseline.go (1.19+: the field; Unconfined is refused) */
const seccompBaseline: Check = (spec) => {
  const setters: string[] = [];
  const values = new Set<string>();
  const podType = spec.securityContext?.seccompProfile?.type;
  if (spec.securityContext?.seccompProfile && !validSeccomp(podType)) {
    setters.push('pod');
    values.add(podType ?? '');
  }
  const bad = allContainers(spec).filter((c) => c.securityContext?.seccompProfile && !validSeccomp(c.securityContext.seccompProfile.type));
  for (const c of bad) values.add(c.securityContext?.seccompProfile?.type ?? '');
  if (bad.length) setters.push(containersPhrase(bad.map((c) => c.name)));
  if (!setters.length) return undefined;
  return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}` };
};

/** policy/check_capabilities_baseline.go: only containerd's default set may be added */
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const capabilitiesBaseline: Check = (spec) => {
  const bad: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const added = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    for (const cap of added) caps.add(cap);
    if (added.length) bad.push(c.name);
  }
  if (!bad.length) return undefined;
  return { reason: 'non-default capabilities', detail: `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add` };
};

/** policy/check_allowPrivilegeEscalation.go */
const allowPrivilegeEscalation: Check = (spec) => {
  const bad = allContainers(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  return bad.length
    ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false` }
    : undefined;
};

/** policy/check_capabilities_restricted.go: drop ALL, add at most NET_BIND_SERVICE */
const capabilitiesRestricted: Check = (spec) => {
  const missingDropAll: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const capabilities = c.securityContext?.capabilities;
    if (!capabilities) {
      missingDropAll.push(c.name);
      continue;
    }
    if (!(capabilities.drop ?? []).includes('ALL')) missingDropAll.push(c.name);
    const added = (capabilities.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    for (const cap of added) caps.add(cap);
    if (added.length) adding.push(c.name);
  }
  const details: string[] = [];
  if (missingDropAll.length) details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) details.push(`${containersPhrase(adding)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
};

/** policy/check_runAsNonRoot.go */
const runAsNonRoot: Check = (spec) => {
  const setters: string[] = [];
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue === false) setters.push('pod');
  const podNonRoot = podValue === true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const value = c.securityContext?.runAsNonRoot;
    if (value === false) explicit.push(c.name);
    else if (value === undefined && !podNonRoot) implicit.push(c.name);
  }
  if (explicit.length) setters.push(containersPhrase(explicit));
  if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
};

/** policy/check_runAsUser.go */
const runAsUser: Check = (spec) => {
  const setters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) setters.push('pod');
  const bad = allContainers(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (bad.length) setters.push(containersPhrase(bad));
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
};

/** policy/check_seccompProfile_restricted.go */
const seccompRestricted: Check = (spec) => {
  const explicitBad = seccompBaseline(spec);
  if (explicitBad) return explicitBad;
  if (validSeccomp(spec.securityContext?.seccompProfile?.type)) return undefined;
  const implicit = allContainers(spec).filter((c) => !c.securityContext?.seccompProfile).map((c) => c.name);
  return implicit.length
    ? { reason: 'seccompProfile', detail: `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` }
    : undefined;
};

// policy/registry.go EvaluatePod. Not modelled (nothing here can set them): AppArmor, hostPath and
// restricted volume types (only configMap and emptyDir exist here), host probes, procMount,
// SELinux, sysctls, Windows hostProcess.
const BASELINE_CHECKS: Check[] = [hostNamespaces, hostPorts, privileged];
const OVERLAPPING_BASELINE_CHECKS: Check[] = [capabilitiesBaseline, seccompBaseline];
const RESTRICTED_CHECKS: Check[] = [allowPrivilegeEscalation, capabilitiesRestricted, runAsNonRoot, runAsUser, seccompRestricted];

/** policy/checks.go AggregateCheckResult.ForbiddenDetail: `reason (detail), reason (detail)` */
export function evaluatePodSecurity(level: Level, spec: PodSpecLike): string | undefined {
  if (level === 'privileged') return undefined;
  const checks = [...BASELINE_CHECKS, ...(level === 'baseline' ? OVERLAPPING_BASELINE_CHECKS : RESTRICTED_CHECKS)];
  const failed = checks.map((check) => check(spec)).filter((r): r is CheckResult => Boolean(r));
  if (!failed.length) return undefined;
  return failed.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
}

/** api/helpers.go ParseLevel/ParseVersion; an invalid label is treated as the strictest level */
function enforcedPolicy(labels: Record<string, string> | undefined): { level: Level; version: string } | undefined {
  const value = labels?.[ENFORCE_LABEL];
  if (value === undefined) return undefined;
  const level: Level = value === 'privileged' || value === 'baseline' ? value : 'restricted';
  const version = labels?.[ENFORCE_VERSION_LABEL] ?? 'latest';
  return { level, version: /^v1\.\d+$/.test(version) ? version : 'latest' };
}

/**
 * Throws the API server's 403 when the namespace enforces a level the pod violates. `name` is the
 * pod's name (admission.go forbiddenResponse: NewForbidden(pods, name, err)).
 */
export function enforcePodSecurity(namespaceLabels: Record<string, string> | undefined, name: string, spec: PodSpecLike): void {
  const policy = enforcedPolicy(namespaceLabels);
  if (!policy) return;
  const violations = evaluatePodSecurity(policy.level, spec);
  if (violations) throw forbiddenBy('pods', '', name, `violates PodSecurity "${policy.level}:${policy.version}": ${violations}`);
}
