/** The `-o json` document of `kubectl wand pods` (documented in the README). */
import type { Injector } from '../agent/contract';
import type { PodContainers } from '../session/discover-all';
import type { Pod } from '../kube/types';
import type { ClassifiedProcess } from '../select/roles';
import { podColumns } from '../select/pod-status';
import { processRoute, type ProcessRoute } from '../select/process-route';

export interface ProcessJson {
  /** the container the process runs in */
  container: string;
  pid: number;
  ppid: number;
  user: string;
  command: string;
  argv: string[];
  python: string | null;
  role: string;
  recommended: boolean;
  why: string | null;
  cpuPercent: number;
  rssBytes: number;
  uptimeSeconds: number;
  cwd: string | null;
  debuggable: boolean;
  reason: string | null;
  /** how `debug` would reach it: kubectl exec, an ephemeral debugger container (exec may not trace it), or neither */
  route: ProcessRoute;
  debugpyPort: number | null;
  injector: Injector | null;
}

export interface PodJson {
  name: string;
  namespace: string;
  phase: string;
  status: string;
  ready: string;
  restarts: number;
  node: string | null;
  createdAt: string | null;
  container: string | null;
  processes: ProcessJson[] | null;
  error: { message: string; remedy: string } | null;
}

function processJson(container: string, p: ClassifiedProcess): ProcessJson {
  return {
    container,
    pid: p.pid,
    ppid: p.ppid,
    user: p.user,
    command: p.argv.join(' '),
    argv: p.argv,
    python: p.python,
    role: p.role,
    recommended: p.recommended,
    why: p.why,
    cpuPercent: p.cpuPercent,
    rssBytes: p.rssBytes,
    uptimeSeconds: p.uptimeSeconds,
    cwd: p.cwd,
    debuggable: p.debuggable,
    reason: p.reason,
    route: processRoute(p),
    debugpyPort: p.debugpyPort,
    injector: p.injector ?? null,
  };
}

/** Processes worth showing: Python ones and the wrappers that start them. */
export function shownProcesses(processes: readonly ClassifiedProcess[]): ClassifiedProcess[] {
  return processes.filter((p) => p.isPython || p.role === 'wrapper');
}

function processesJson(listed: PodContainers): ProcessJson[] {
  return listed.containers.flatMap((c) => shownProcesses(c.processes).map((p) => processJson(c.container, p)));
}

function podJson(pod: Pod, listed: PodContainers | undefined, withPids: boolean): PodJson {
  const error = listed?.error ?? null;
  const columns = podColumns(pod, new Date());
  return {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? 'default',
    phase: pod.status?.phase ?? 'Unknown',
    status: columns.status,
    ready: columns.ready,
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    node: pod.spec.nodeName ?? null,
    createdAt: pod.metadata.creationTimestamp ?? null,
    container: listed?.defaultContainer ?? null,
    processes: withPids && listed && !error ? processesJson(listed) : null,
    error: error ? { message: error.message, remedy: error.remedy } : null,
  };
}

export function podsDocument(pods: readonly Pod[], listed: readonly PodContainers[], withPids: boolean): { pods: PodJson[] } {
  const byName = new Map(listed.map((l) => [l.pod.metadata.name, l]));
  return { pods: pods.map((pod) => podJson(pod, byName.get(pod.metadata.name), withPids)) };
}
