/**
 * kubectl-style pod columns (STATUS, READY, RESTARTS, AGE) computed from a pod object, following
 * kubectl's own printer (printPod in k8s.io/kubernetes pkg/printers/internalversion).
 */
import type { PodSummary } from './choose';

export interface ContainerStateLike {
  waiting?: { reason?: string } | null;
  running?: { startedAt?: string } | null;
  terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string } | null;
}

export interface ContainerStatusLike {
  name: string;
  ready?: boolean;
  restartCount?: number;
  started?: boolean;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

/** The fields of a Pod that the columns read. */
export interface PodLike {
  metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string | null };
  spec?: {
    containers?: { name: string }[];
    initContainers?: { name: string; restartPolicy?: string }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: ContainerStatusLike[];
    initContainerStatuses?: ContainerStatusLike[];
  };
}

export interface PodColumns {
  /** "Running", "CrashLoopBackOff", "Init:0/1", "Terminating", "Completed", … */
  status: string;
  /** "1/2" */
  ready: string;
  /** "0", or "3 (5m ago)" */
  restarts: string;
  /** "45s", "3m12s", "5h", "2d3h", … or "<unknown>" */
  age: string;
}

function isSidecar(pod: PodLike, name: string): boolean {
  return pod.spec?.initContainers?.some((c) => c.name === name && c.restartPolicy === 'Always') ?? false;
}

function hasCondition(pod: PodLike, type: string): boolean {
  return pod.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

function terminatedText(t: NonNullable<ContainerStateLike['terminated']>): string {
  if (t.reason) return t.reason;
  return t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode ?? 0}`;
}

interface Tally {
  status: string;
  readyContainers: number;
  restarts: number;
  lastRestart: number;
}

function finishedAt(c: ContainerStatusLike): number {
  const at = c.lastState?.terminated?.finishedAt;
  return at ? Date.parse(at) : 0;
}

/** Init containers: returns the status while the pod is still initialising, else null. */
function initStatus(pod: PodLike, tally: Tally): string | null {
  const statuses = pod.status?.initContainerStatuses ?? [];
  const total = pod.spec?.initContainers?.length ?? statuses.length;
  for (const [i, c] of statuses.entries()) {
    tally.restarts += c.restartCount ?? 0;
    tally.lastRestart = Math.max(tally.lastRestart, finishedAt(c));
    const state = c.state ?? {};
    if (state.terminated && (state.terminated.exitCode ?? 0) === 0) continue;
    if (isSidecar(pod, c.name) && c.started) {
      if (c.ready) tally.readyContainers++;
      continue;
    }
    if (state.terminated) return `Init:${terminatedText(state.terminated)}`;
    const waiting = state.waiting?.reason;
    if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
    return `Init:${i}/${total}`;
  }
  return null;
}

function podStatusTally(pod: PodLike): Tally {
  const phase = pod.status?.phase ?? 'Unknown';
  let status = pod.status?.reason || phase;
  if (pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    status = 'SchedulingGated';
  }
  const tally: Tally = { status, readyContainers: 0, restarts: 0, lastRestart: 0 };
  const init = initStatus(pod, tally);
  if (init !== null) tally.status = init;
  if (init === null || hasCondition(pod, 'Initialized')) {
    // Only sidecars' restarts count once the pod is initialised.
    const sidecars = (pod.status?.initContainerStatuses ?? []).filter((c) => isSidecar(pod, c.name));
    tally.restarts = sidecars.reduce((n, c) => n + (c.restartCount ?? 0), 0);
    tally.lastRestart = Math.max(0, ...sidecars.map(finishedAt));
    let hasRunning = false;
    for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
      tally.restarts += c.restartCount ?? 0;
      tally.lastRestart = Math.max(tally.lastRestart, finishedAt(c));
      const state = c.state ?? {};
      if (state.waiting?.reason) tally.status = state.waiting.reason;
      else if (state.terminated) tally.status = terminatedText(state.terminated);
      else if (c.ready && state.running) {
        hasRunning = true;
        tally.readyContainers++;
      }
    }
    if (tally.status === 'Completed' && hasRunning) {
      tally.status = hasCondition(pod, 'Ready') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) {
    if (pod.status?.reason === 'NodeLost') tally.status = 'Unknown';
    else if (phase !== 'Succeeded' && phase !== 'Failed') tally.status = 'Terminating';
  }
  return tally;
}

/** kubectl's STATUS column. */
export function podStatus(pod: PodLike): string {
  return podStatusTally(pod).status;
}

/** STATUS, READY, RESTARTS and AGE as `kubectl get pods` prints them, at time `now`. */
export function podColumns(pod: PodLike, now: Date): PodColumns {
  const tally = podStatusTally(pod);
  const sidecars = pod.spec?.initContainers?.filter((c) => c.restartPolicy === 'Always').length ?? 0;
  const total = (pod.spec?.containers?.length ?? pod.status?.containerStatuses?.length ?? 0) + sidecars;
  const restarts =
    tally.restarts !== 0 && tally.lastRestart > 0
      ? `${tally.restarts} (${formatAge((now.getTime() - tally.lastRestart) / 1000)} ago)`
      : String(tally.restarts);
  return { status: tally.status, ready: `${tally.readyContainers}/${total}`, restarts, age: ageSince(pod.metadata.creationTimestamp, now) };
}

/** "<unknown>" when there is no timestamp, else formatAge of the time since. */
export function ageSince(timestamp: string | undefined | null, now: Date): string {
  if (!timestamp) return '<unknown>';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return '<unknown>';
  return formatAge((now.getTime() - at) / 1000);
}

/** kubectl's duration format (k8s.io/apimachinery HumanDuration): 45s, 3m12s, 15m, 5h30m, 20h, 2d3h, 30d, 2y45d. */
export function formatAge(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const minutes = Math.trunc(s / 60);
  if (minutes < 10) return s % 60 === 0 ? `${minutes}m` : `${minutes}m${s % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(s / 3600);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** The fields choosePod needs. */
export function toPodSummary(pod: PodLike): PodSummary {
  return {
    name: pod.metadata.name,
    phase: pod.status?.phase ?? 'Unknown',
    ready: hasCondition(pod, 'Ready'),
    creationTimestamp: pod.metadata.creationTimestamp ?? '',
    deletionTimestamp: pod.metadata.deletionTimestamp ?? null,
  };
}
