/**
 * Which process(es) of a container to debug, and which pod of several: pure decisions with the
 * one-line reason the CLI prints.
 */
import { pidList, serverName, shortCommand } from './describe';
import { isInfrastructure, isManager, type ClassifiedProcess, type Role } from './roles';

export interface ProcessChoice {
  chosen: ClassifiedProcess[];
  /** one line, e.g. "PID 4 — uvicorn --reload worker (the reloader PID 1 only restarts it)" */
  reason: string;
}

/**
 * - no-such-process / not-python / not-debuggable: the explicit --pid cannot be used
 * - not-debuggable (without --pid): the recommended processes all have `debuggable: false`
 * - starting: a reloader/supervisor/arbiter runs but its worker is not there (yet): retry soon
 * - no-python: nothing to debug in this container
 * - ambiguous: several candidates and none stands out: prompt, or ask for --pid
 */
export type ProcessChoiceErrorCode =
  | 'no-such-process'
  | 'not-python'
  | 'not-debuggable'
  | 'starting'
  | 'no-python'
  | 'ambiguous';

export interface ProcessChoiceError {
  error: ProcessChoiceErrorCode;
  message: string;
  /** what a prompt would offer, best first (recommended, then by role, then debuggable, then PID) */
  candidates: ClassifiedProcess[];
  /** not-debuggable: the processes that would have been chosen */
  blocked?: readonly ClassifiedProcess[];
}

export function chooseProcesses(
  classified: readonly ClassifiedProcess[],
  opts: { pid?: number } = {},
): ProcessChoice | ProcessChoiceError {
  if (opts.pid !== undefined) return chooseExplicit(classified, opts.pid);
  const candidates = sortCandidates(classified.filter((p) => p.isPython && !isInfrastructure(p.role)));
  const recommended = classified.filter((p) => p.recommended);
  if (recommended.length > 0) return chooseRecommended(recommended, classified, candidates);

  const idle = classified.find((p) => isManager(p.role) && !hasWorker(p, classified));
  if (idle !== undefined) {
    return {
      error: 'starting',
      message: `the ${serverName(idle, idle.framework)} ${idle.role} (PID ${idle.pid}) has no worker right now: it is starting or restarting one — try again in a moment`,
      candidates,
    };
  }
  if (candidates.length === 1) {
    const [only] = candidates;
    if (!only.debuggable) return notDebuggable([only], candidates);
    return { chosen: [only], reason: describeChoice([only], classified) };
  }
  if (candidates.length === 0) {
    const pythons = classified.filter((p) => p.isPython);
    const seen = pythons.length > 0 ? `only ${pythons.map((p) => p.role).join(', ')} processes` : 'no Python process';
    return { error: 'no-python', message: `nothing to debug in this container: ${seen}`, candidates };
  }
  return {
    error: 'ambiguous',
    message: `${candidates.length} Python processes and none of them clearly serves requests: choose one with --pid (${candidates
      .map((p) => `${p.pid} ${shortCommand(p, 30)}`)
      .join('; ')})`,
    candidates,
  };
}

function chooseExplicit(classified: readonly ClassifiedProcess[], pid: number): ProcessChoice | ProcessChoiceError {
  const candidates = sortCandidates(classified.filter((p) => p.isPython && !isInfrastructure(p.role)));
  const target = classified.find((p) => p.pid === pid);
  if (target === undefined) {
    const offer = candidates.length > 0 ? `; Python processes: ${candidates.map((p) => p.pid).join(', ')}` : '';
    return { error: 'no-such-process', message: `no process with PID ${pid} in this container${offer}`, candidates };
  }
  if (!target.isPython) {
    return {
      error: 'not-python',
      message: `PID ${pid} (${shortCommand(target, 40)}) is not a Python process`,
      candidates,
    };
  }
  if (!target.debuggable) return notDebuggable([target], candidates);
  return { chosen: [target], reason: describeChoice([target], classified, { explicit: true }) };
}

function chooseRecommended(
  recommended: readonly ClassifiedProcess[],
  classified: readonly ClassifiedProcess[],
  candidates: ClassifiedProcess[],
): ProcessChoice | ProcessChoiceError {
  const usable = recommended.filter((p) => p.debuggable);
  if (usable.length === 0) return notDebuggable(recommended, candidates);
  const skipped = recommended.filter((p) => !p.debuggable);
  const skippedNote = skipped.map((p) => `; skipped PID ${p.pid}: ${p.reason ?? 'not debuggable'}`).join('');
  return { chosen: usable, reason: describeChoice(usable, classified) + skippedNote };
}

function notDebuggable(targets: readonly ClassifiedProcess[], candidates: ClassifiedProcess[]): ProcessChoiceError {
  const why =
    targets.length === 1
      ? (targets[0].reason ?? 'not debuggable')
      : targets.map((p) => `PID ${p.pid}: ${p.reason ?? 'not debuggable'}`).join('; ');
  return { error: 'not-debuggable', message: `cannot debug ${pidList(targets)}: ${why}`, candidates, blocked: targets };
}

function hasWorker(manager: ClassifiedProcess, classified: readonly ClassifiedProcess[]): boolean {
  return classified.some((p) => p.ppid === manager.pid && p.role === 'worker');
}

const ROLE_RANK: Record<Role, number> = {
  worker: 0,
  main: 1,
  reloader: 2,
  supervisor: 2,
  arbiter: 2,
  other: 3,
  helper: 4,
  'debug-adapter': 4,
  wrapper: 5,
};

/** Best first: recommended, then by role (worker, main, managers, other), debuggable, PID. */
export function sortCandidates(processes: readonly ClassifiedProcess[]): ClassifiedProcess[] {
  return [...processes].sort(
    (a, b) =>
      Number(b.recommended) - Number(a.recommended) ||
      ROLE_RANK[a.role] - ROLE_RANK[b.role] ||
      Number(b.debuggable) - Number(a.debuggable) ||
      a.pid - b.pid,
  );
}

/**
 * The one-line "why" for a choice, e.g.
 * "PID 4 — uvicorn --reload worker (the reloader PID 1 only restarts it)" or
 * "PIDs 7, 8 — gunicorn workers (the arbiter PID 1 only manages them; a request may land on any)".
 */
export function describeChoice(
  chosen: readonly ClassifiedProcess[],
  classified: readonly ClassifiedProcess[],
  /** explicit: named with --pid; 'prompt': picked at a prompt */
  opts: { explicit?: boolean | 'prompt' } = {},
): string {
  if (chosen.length === 0) return 'no process chosen';
  if (opts.explicit) return describeExplicit(chosen[0], classified, opts.explicit === 'prompt' ? 'chosen' : 'chosen with --pid');
  if (chosen.every((p) => p.role === 'worker')) return describeWorkers(chosen, classified);
  if (chosen.length === 1) return `PID ${chosen[0].pid} — ${shortCommand(chosen[0])} (${soleReason(chosen[0])})`;
  return `${pidList(chosen)} — ${chosen.map((p) => shortCommand(p, 30)).join('; ')}`;
}

function soleReason(p: ClassifiedProcess): string {
  switch (p.why) {
    case 'only':
      return 'the only Python process';
    case 'app':
      return 'the only application process; the others are helpers';
    default:
      return 'the only Python process that is not a helper';
  }
}

function describeExplicit(p: ClassifiedProcess, classified: readonly ClassifiedProcess[], how: string): string {
  const head = `PID ${p.pid} — ${shortCommand(p)} (${how}`;
  if (!isManager(p.role)) return `${head})`;
  const workers = classified.filter((w) => w.ppid === p.pid && w.role === 'worker');
  if (workers.length === 0) return `${head}; it is the ${p.role})`;
  return `${head}; it is the ${p.role}: requests are served by ${pidList(workers)})`;
}

function describeWorkers(workers: readonly ClassifiedProcess[], classified: readonly ClassifiedProcess[]): string {
  const managerPids = [...new Set(workers.map((w) => w.ppid))];
  const plural = workers.length > 1;
  if (managerPids.length > 1) return `${pidList(workers)} — workers of ${managerPids.length} servers (PIDs ${managerPids.join(', ')})`;
  const manager = classified.find((p) => p.pid === managerPids[0]);
  const server = serverName(manager, workers[0].framework);
  const noun = plural ? 'workers' : 'worker';
  const subject = workers[0].framework === 'python' && manager !== undefined ? `${noun} of ${server}` : `${server} ${noun}`;
  if (manager === undefined) return `${pidList(workers)} — ${subject}`;
  const them = plural ? 'them' : 'it';
  const duty = manager.role === 'reloader' ? `only restarts ${them}` : `only manages ${them}`;
  const spread = plural ? '; a request may land on any of them' : '';
  return `${pidList(workers)} — ${subject} (the ${manager.role} PID ${manager.pid} ${duty}${spread})`;
}

/** The pod fields pod choice needs (see toPodSummary in pod-status.ts). */
export interface PodSummary {
  name: string;
  /** status.phase: Pending, Running, Succeeded, Failed, Unknown */
  phase: string;
  /** the pod's Ready condition */
  ready: boolean;
  /** RFC 3339 */
  creationTimestamp: string;
  /** set once the pod is being deleted */
  deletionTimestamp?: string | null;
}

export interface PodChoice {
  chosen: PodSummary;
  reason: string;
  /** the pods that could have been chosen, best first (chosen included) */
  candidates: PodSummary[];
}

/**
 * - no-pods: the selector matched nothing
 * - no-such-pod: the named pod is not among them
 * - pod-not-running: the named pod is not Running, or is being deleted
 * - none-running: no pod is Running and alive
 */
export type PodChoiceErrorCode = 'no-pods' | 'no-such-pod' | 'pod-not-running' | 'none-running';

export interface PodChoiceError {
  error: PodChoiceErrorCode;
  message: string;
  candidates: PodSummary[];
}

function isLive(p: PodSummary): boolean {
  return p.phase === 'Running' && !p.deletionTimestamp;
}

/** Best first: Ready, then newest, then by name. */
function sortPods(pods: readonly PodSummary[]): PodSummary[] {
  return [...pods].sort(
    (a, b) =>
      Number(b.ready) - Number(a.ready) ||
      Date.parse(b.creationTimestamp) - Date.parse(a.creationTimestamp) ||
      a.name.localeCompare(b.name),
  );
}

/**
 * An explicit name wins. Otherwise the newest Ready Running pod; when none is Ready, the newest
 * Running one — a pod failing its readiness probe is often the very one to debug. Pods being
 * deleted are never chosen unless named.
 */
export function choosePod(pods: readonly PodSummary[], opts: { name?: string } = {}): PodChoice | PodChoiceError {
  if (opts.name !== undefined) {
    const named = pods.find((p) => p.name === opts.name);
    if (named === undefined) {
      return { error: 'no-such-pod', message: `no pod named ${opts.name}`, candidates: sortPods(pods.filter(isLive)) };
    }
    if (named.phase !== 'Running') {
      return { error: 'pod-not-running', message: `pod ${named.name} is ${named.phase}, not Running`, candidates: [] };
    }
    return { chosen: named, reason: `pod ${named.name} (named)`, candidates: [named] };
  }
  if (pods.length === 0) return { error: 'no-pods', message: 'no pods matched', candidates: [] };
  const live = sortPods(pods.filter(isLive));
  if (live.length === 0) {
    const phases = pods.map((p) => `${p.name} ${p.deletionTimestamp ? 'Terminating' : p.phase}`).join(', ');
    return { error: 'none-running', message: `no Running pod (${phases})`, candidates: [] };
  }
  const [best] = live;
  const readyCount = live.filter((p) => p.ready).length;
  return { chosen: best, reason: podReason(best, live.length, readyCount), candidates: live };
}

function podReason(best: PodSummary, live: number, ready: number): string {
  if (live === 1) return `pod ${best.name} (the only Running pod${best.ready ? '' : ', not Ready'})`;
  if (!best.ready) return `pod ${best.name} (the newest of ${live} Running pods; none is Ready)`;
  if (ready === 1) return `pod ${best.name} (the only Ready pod of ${live} Running)`;
  return `pod ${best.name} (the newest of ${ready} Ready pods)`;
}
