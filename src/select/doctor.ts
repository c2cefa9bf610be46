/**
 * `kubectl wand doctor` as pure decisions: from what kubectl and the agent found to a checklist
 * (pass/fail with the remedy) per cluster, pod and candidate process. The `-o json` document is
 * DoctorReport (documented in the README).
 */
import type { Capabilities, DoctorFacts } from '../agent/contract';
import type { Pod } from '../kube/types';
import { EPHEMERAL, remoteDebugRemedy, traceRemedy } from '../remedies';
import { overcomeByEphemeral } from './ephemeral';
import { shortCommand } from './describe';
import { isInfrastructure, type ClassifiedProcess } from './roles';

/** fail blocks attaching; skip: not checked because something it needs failed; info: a fact. */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'info';

export type CheckId =
  | 'cluster'
  | 'rbac-get-pods'
  | 'rbac-exec'
  | 'rbac-ephemeral'
  | 'rbac-portforward'
  | 'pod'
  | 'processes'
  | 'python'
  | 'remote-debug'
  | 'trace'
  | 'debugpy'
  | 'writable-dir'
  | 'listener';

export interface Check {
  id: CheckId;
  status: CheckStatus;
  message: string;
  /** what to do about a fail or warn; null otherwise */
  remedy: string | null;
}

export interface ProcessReport {
  pid: number;
  command: string;
  role: string;
  recommended: boolean;
  python: string | null;
  checks: Check[];
}

export interface PodReport {
  name: string;
  namespace: string;
  container: string | null;
  /** pod-level checks: Running, processes listed, a candidate found */
  checks: Check[];
  processes: ProcessReport[];
}

export interface DoctorReport {
  /** nothing blocks attaching: no fail anywhere and at least one process passed every check */
  ok: boolean;
  namespace: string;
  /** the target as given, e.g. "service/api"; "all pods" without one */
  target: string;
  cluster: Check[];
  pods: PodReport[];
}

/** A failure the user can act on, as the checklist shows it. */
export interface Problem {
  message: string;
  remedy: string;
}

/** `kubectl auth can-i`'s answer, or why it could not be asked. */
export type Access = { allowed: boolean } | { problem: Problem };

export interface ClusterFacts {
  namespace: string;
  target: string;
  /** the target's pods were read (the API server answered), or why not */
  reach: { pods: number } | { problem: Problem; forbidden: boolean };
  /** ephemeral: patch pods/ephemeralcontainers, the ephemeral route's kubectl debug (absent: not asked) */
  access: { getPods: Access; exec: Access; portforward: Access; ephemeral?: Access };
}

export interface CandidateFacts {
  process: ClassifiedProcess;
  /** the agent's doctor answer for it; null when the doctor exec failed */
  facts: DoctorFacts | null;
}

export interface PodFacts {
  pod: Pod;
  container: string | null;
  /** listing the processes failed; forbidden: pods/exec was refused */
  listing: { problem: Problem; forbidden: boolean } | null;
  /** a pod-level finding instead of candidates (no Python process, unknown --pid) */
  selection: Problem | null;
  candidates: CandidateFacts[];
  capabilities: Capabilities | null;
  /** the doctor exec itself failed */
  doctorProblem: Problem | null;
}

/** Where a local debugpy was found for upload; null when none was found, undefined if not looked. */
export type LocalDebugpy = { origin: string } | null | undefined;

const pass = (id: CheckId, message: string): Check => ({ id, status: 'pass', message, remedy: null });
const fail = (id: CheckId, message: string, remedy: string): Check => ({ id, status: 'fail', message, remedy });
const warn = (id: CheckId, message: string, remedy: string): Check => ({ id, status: 'warn', message, remedy });
const skip = (id: CheckId, message: string): Check => ({ id, status: 'skip', message, remedy: null });
const info = (id: CheckId, message: string): Check => ({ id, status: 'info', message, remedy: null });

// ---------------------------------------------------------------------------------------------
// Which processes to check

/** --pid when given; else the recommended processes; else every Python process that is not a helper. */
export function doctorCandidates(
  processes: readonly ClassifiedProcess[],
  container: string,
  pid?: number,
): { candidates: ClassifiedProcess[] } | { problem: Problem } {
  if (pid !== undefined) {
    const found = processes.find((p) => p.pid === pid);
    if (found) return { candidates: [found] };
    const pythons = processes.filter((p) => p.isPython).map((p) => p.pid);
    return {
      problem: {
        message: `no process with PID ${pid} in container "${container}"`,
        remedy: pythons.length ? `its Python processes are: ${pythons.join(', ')}` : 'list them with: kubectl wand pods POD --with-pids',
      },
    };
  }
  const recommended = processes.filter((p) => p.recommended);
  if (recommended.length > 0) return { candidates: recommended };
  const pythons = processes.filter((p) => p.isPython && !isInfrastructure(p.role));
  if (pythons.length > 0) return { candidates: pythons };
  return {
    problem: {
      message: `no Python application process in container "${container}"`,
      remedy: 'choose the container that runs your app with -c NAME',
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Cluster

export function roleRuleRemedy(namespace: string, resource: string, verb: string): string {
  return (
    `ask a cluster admin for a Role in namespace "${namespace}" with the rule ` +
    `{apiGroups: [""], resources: ["${resource}"], verbs: ["${verb}"]} and a RoleBinding to you`
  );
}

function accessCheck(id: CheckId, what: string, access: Access, namespace: string, resource: string, verb: string): Check {
  if ('problem' in access) return warn(id, `could not ask whether you may ${what}: ${access.problem.message}`, access.problem.remedy);
  if (access.allowed) return pass(id, `RBAC: you may ${what} in namespace "${namespace}"`);
  return fail(id, `RBAC: you may not ${what} in namespace "${namespace}"`, roleRuleRemedy(namespace, resource, verb));
}

export function clusterChecks(c: ClusterFacts): Check[] {
  if ('problem' in c.reach && !c.reach.forbidden) {
    return [fail('cluster', c.reach.problem.message, c.reach.problem.remedy)];
  }
  const reached = 'pods' in c.reach
    ? pass('cluster', `kubectl reaches the cluster (${c.target}: ${c.reach.pods} pod${c.reach.pods === 1 ? '' : 's'})`)
    : pass('cluster', 'kubectl reaches the cluster');
  return [
    reached,
    accessCheck('rbac-get-pods', 'get pods', c.access.getPods, c.namespace, 'pods', 'get'),
    accessCheck('rbac-exec', 'create pods/exec (kubectl exec)', c.access.exec, c.namespace, 'pods/exec', 'create'),
    accessCheck('rbac-portforward', 'create pods/portforward (kubectl port-forward)', c.access.portforward, c.namespace, 'pods/portforward', 'create'),
    ...(c.access.ephemeral ? [ephemeralAccessCheck(c.access.ephemeral, c.namespace)] : []),
  ];
}

/** The ephemeral route is a fallback: without it doctor warns, the exec route may still work. */
function ephemeralAccessCheck(access: Access, namespace: string): Check {
  const what = 'patch pods/ephemeralcontainers (kubectl debug: the ephemeral route)';
  if ('problem' in access || access.allowed) return accessCheck('rbac-ephemeral', what, access, namespace, 'pods/ephemeralcontainers', 'patch');
  return warn('rbac-ephemeral', `RBAC: you may not ${what} in namespace "${namespace}"`, EPHEMERAL.rbac(namespace));
}

// ---------------------------------------------------------------------------------------------
// Processes

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

function pythonCheck(f: DoctorFacts): Check {
  if (!f.isPython) return fail('python', 'not a Python process', 'pick the Python process with --pid');
  if (f.python === null) {
    return f.traceDenied
      ? skip('python', 'Python version unknown: its executable cannot be read (see tracing)')
      : warn('python', 'could not ask its interpreter for its Python version', 'check that the process still runs: kubectl wand pods POD --with-pids');
  }
  if (!versionAtLeast(f.python, 3, 9)) {
    return fail('python', `Python ${f.python}: attaching needs Python 3.9 or newer`, 'run the app on Python 3.9+ (3.14+ everywhere, 3.9–3.13 on x86_64 nodes)');
  }
  if (f.injectorRefused) return fail('python', `Python ${f.python}: ${f.injectorRefused}`, 'run the app on Python 3.14+ (sys.remote_exec)');
  return pass('python', `Python ${f.python}${f.injector === 'ptrace' ? ' (injected with ptrace: before 3.14 there is no sys.remote_exec)' : ''}`);
}

function remoteDebugCheck(f: DoctorFacts): Check {
  if (!f.isPython || f.python === null || !versionAtLeast(f.python, 3, 9)) return skip('remote-debug', 'remote debugging: needs a Python 3.9+ process');
  if (f.injector !== 'ptrace' && f.remoteDebugBuild === false) {
    const reason = `Python ${f.python} was built without remote debugging support`;
    return fail('remote-debug', reason, remoteDebugRemedy(reason));
  }
  if (f.remoteDebugDisabled) {
    return fail('remote-debug', `remote debugging is disabled: ${f.remoteDebugDisabled}`, remoteDebugRemedy(f.remoteDebugDisabled));
  }
  return pass('remote-debug', 'remote debugging is enabled');
}

export interface TraceContext {
  pod: string;
  namespace: string;
  container: string;
  /** RBAC lets kubectl debug add a debugger container (the ephemeral route) */
  ephemeral?: boolean;
  image: string | undefined;
}

function traceCheck(f: DoctorFacts, caps: Capabilities | null, t: TraceContext): Check {
  const why = f.traceDenied?.replace(/^no permission to trace it: /, '');
  if (f.traceDenied && t.ephemeral && f.traceDeniedCode && overcomeByEphemeral(f.traceDeniedCode)) {
    return warn('trace', `exec route: tracing not allowed (${why}); ephemeral route: available (kubectl wand takes it by itself)`, EPHEMERAL.taken);
  }
  if (f.traceDenied) return fail('trace', `tracing not allowed: ${f.traceDenied.replace(/^no permission to trace it: /, '')}`, traceRemedy(f.traceDenied, t, f.traceDeniedCode));
  const yama = caps?.yamaPtraceScope ?? null;
  const how = caps?.sysPtrace ? 'kubectl exec has CAP_SYS_PTRACE' : `kubectl exec runs as its user (uid ${caps?.uid ?? '?'})`;
  return pass('trace', `tracing allowed: ${how}${yama === null ? '' : `, Yama ptrace_scope=${yama}`}`);
}

function debugpyCheck(f: DoctorFacts, local: LocalDebugpy): Check {
  if (!f.debugpy) return skip('debugpy', 'debugpy: not a Python process');
  if (f.debugpyPort !== null) return pass('debugpy', 'debugpy is already loaded and listening in the process');
  if (!f.debugpy.error) {
    return pass('debugpy', `debugpy ${f.debugpy.version ?? '?'} importable by the process${f.debugpy.path ? ` (${f.debugpy.path})` : ''}`);
  }
  const missing = f.debugpy.error.replace(/^ModuleNotFoundError: /, '');
  if (local) return pass('debugpy', `debugpy not in the image (${missing}); kubectl wand debug uploads ${local.origin}`);
  return fail(
    'debugpy',
    `debugpy cannot be imported by the process (${missing}) and no local copy was found to upload`,
    'install debugpy locally (python3 -m pip install debugpy), pass --debugpy-from DIR to kubectl wand debug, or add debugpy to the image',
  );
}

function writableCheck(f: DoctorFacts): Check {
  if (!f.writableDir) return skip('writable-dir', 'writable directory: not a Python process');
  if (f.writableDir.path) return pass('writable-dir', `writable directory for the injected script: ${f.writableDir.path}`);
  return fail(
    'writable-dir',
    f.writableDir.error ?? 'no writable directory for the injected script',
    'mount an emptyDir at /tmp: volumes: [{name: tmp, emptyDir: {}}], volumeMounts: [{name: tmp, mountPath: /tmp}]',
  );
}

function listenerCheck(f: DoctorFacts): Check {
  return f.debugpyPort !== null
    ? info('listener', `debugpy already listening (adapter port ${f.debugpyPort}): kubectl wand debug reuses it`)
    : info('listener', 'no debugpy listening yet: kubectl wand debug starts one');
}

export function processChecks(c: CandidateFacts, caps: Capabilities | null, t: TraceContext, local: LocalDebugpy): Check[] {
  const f = c.facts;
  if (f === null) return [skip('python', 'not checked: the doctor exec failed (see the pod)')];
  if (!f.exists) return [fail('python', `process ${c.process.pid} exited during the check`, 'run kubectl wand doctor again')];
  if (!f.isPython) return [pythonCheck(f)];
  return [pythonCheck(f), remoteDebugCheck(f), traceCheck(f, caps, t), debugpyCheck(f, local), writableCheck(f), listenerCheck(f)];
}

// ---------------------------------------------------------------------------------------------
// Pods and the whole report

function isLive(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

function podChecks(p: PodFacts): Check[] {
  if (!isLive(p.pod)) {
    return [skip('pod', `pod is ${p.pod.metadata.deletionTimestamp ? 'Terminating' : (p.pod.status?.phase ?? 'Unknown')}: not checked`)];
  }
  if (p.listing) {
    return p.listing.forbidden
      ? [skip('processes', 'processes not checked: kubectl exec is forbidden (see RBAC above)')]
      : [fail('processes', `cannot list its processes: ${p.listing.problem.message}`, p.listing.problem.remedy)];
  }
  if (p.selection) return [fail('processes', p.selection.message, p.selection.remedy)];
  if (p.doctorProblem) return [fail('processes', `cannot check its processes: ${p.doctorProblem.message}`, p.doctorProblem.remedy)];
  return [];
}

function imageOf(pod: Pod, container: string | null): string | undefined {
  return pod.spec.containers.find((c) => c.name === container)?.image;
}

function podReport(p: PodFacts, local: LocalDebugpy, ephemeral: boolean): PodReport {
  const namespace = p.pod.metadata.namespace ?? 'default';
  const trace: TraceContext = { pod: p.pod.metadata.name, namespace, container: p.container ?? '?', image: imageOf(p.pod, p.container), ephemeral };
  return {
    name: p.pod.metadata.name,
    namespace,
    container: p.container,
    checks: podChecks(p),
    processes: p.candidates.map((c) => ({
      pid: c.process.pid,
      command: shortCommand(c.process, 80),
      role: c.process.role,
      recommended: c.process.recommended,
      python: c.facts?.python ?? c.process.python,
      checks: processChecks(c, p.capabilities, trace, local),
    })),
  };
}

function allChecks(report: Pick<DoctorReport, 'cluster' | 'pods'>): Check[] {
  return [...report.cluster, ...report.pods.flatMap((p) => [...p.checks, ...p.processes.flatMap((q) => q.checks)])];
}

export function doctorReport(cluster: ClusterFacts, pods: readonly PodFacts[], local: LocalDebugpy): DoctorReport {
  const body = { cluster: clusterChecks(cluster), pods: pods.map((p) => podReport(p, local, cluster.access.ephemeral !== undefined && 'allowed' in cluster.access.ephemeral && cluster.access.ephemeral.allowed)) };
  const anyFail = allChecks(body).some((c) => c.status === 'fail');
  const anyAttachable = body.pods.some((p) => p.processes.some((q) => q.checks.every((c) => c.status !== 'fail' && c.status !== 'skip')));
  return { ok: !anyFail && anyAttachable, namespace: cluster.namespace, target: cluster.target, ...body };
}

/** Counts for the summary line. */
export function countFailures(report: DoctorReport): number {
  return allChecks(report).filter((c) => c.status === 'fail').length;
}

/** True when some candidate lacks debugpy and nothing is listening: worth looking for a local copy. */
export function needsLocalDebugpy(pods: readonly PodFacts[]): boolean {
  return pods.some((p) => p.candidates.some((c) => c.facts?.debugpy?.error && c.facts.debugpyPort === null));
}
