/**
 * Every container's Python processes, for listings (`pods --with-pids`). Containers of a pod
 * rarely share a PID namespace (only with `shareProcessNamespace: true`), so one agent exec per
 * container, all in parallel; a one-container pod still costs one exec.
 */
import type { ListResult } from '../agent/contract';
import { classifyProcesses, type ClassifiedProcess } from '../select/roles';
import { runAgent } from './agent-runner';
import { chooseContainer, choosePythonContainer, containerNames } from './containers';
import { isLivePod, mapBounded, type DiscoverOptions } from './discover';
import { KubeError } from '../kube/errors';
import { NoPython } from './errors';
import type { Kubectl } from '../kube/kubectl';
import type { Pod } from '../kube/types';

export interface ContainerProcessList {
  container: string;
  processes: ClassifiedProcess[];
  /** why this container has no process list */
  error: KubeError | null;
}

export interface PodContainers {
  pod: Pod;
  /** the container `debug` would use (null when no container runs Python) */
  defaultContainer: string | null;
  /** set when several containers run Python and the first was taken */
  note: string | null;
  containers: ContainerProcessList[];
  /** the first container's error when no container could be listed at all */
  error: KubeError | null;
}

async function listContainer(kubectl: Kubectl, pod: Pod, container: string, opts: DiscoverOptions): Promise<ContainerProcessList> {
  try {
    const list: ListResult = await runAgent(
      kubectl,
      { namespace: pod.metadata.namespace ?? 'default', pod: pod.metadata.name, container, containers: containerNames(pod) },
      { op: 'list' },
      { agentSource: opts.agentSource, timeoutMs: opts.timeoutMs ?? 30_000 },
    );
    return { container, processes: classifyProcesses(list.processes), error: null };
  } catch (error) {
    if (!(error instanceof KubeError)) throw error;
    return { container, processes: [], error };
  }
}

/** ★ is what `debug` would pick, so only the default container keeps its recommendation. */
function withoutRecommendation(list: ContainerProcessList): ContainerProcessList {
  return { ...list, processes: list.processes.map((p) => ({ ...p, recommended: false, why: null })) };
}

function decideDefault(pod: Pod, lists: ContainerProcessList[], requested?: string): { container: string | null; note: string | null } {
  const hint = chooseContainer(pod, requested);
  if (hint.kind === 'chosen') return { container: hint.container, note: null };
  const choice = choosePythonContainer(lists.map((l) => ({ container: l.container, processes: l.processes })));
  if (choice.kind === 'chosen') return { container: choice.container, note: null };
  if (choice.kind === 'ambiguous') return { container: choice.candidates[0] ?? null, note: `${choice.note}; debug would use "${choice.candidates[0]}", the first` };
  return { container: null, note: null };
}

export async function discoverPodContainers(kubectl: Kubectl, pod: Pod, opts: DiscoverOptions): Promise<PodContainers> {
  // chooseContainer first: an unknown -c is the user's mistake, reported before any exec
  if (opts.container !== undefined) chooseContainer(pod, opts.container);
  const names = opts.container !== undefined ? [opts.container] : containerNames(pod);
  const listed = await Promise.all(names.map((name) => listContainer(kubectl, pod, name, opts)));
  // Among several containers, one without an interpreter (a proxy sidecar) simply runs no Python.
  const lists = names.length > 1 ? listed.map((l) => (l.error instanceof NoPython ? { ...l, error: null } : l)) : listed;
  const chosen = decideDefault(pod, lists, opts.container);
  return {
    pod,
    defaultContainer: chosen.container,
    note: chosen.note,
    containers: lists.map((l) => (l.container === chosen.container ? l : withoutRecommendation(l))),
    error: lists.every((l) => l.error) ? lists[0]!.error : null,
  };
}

/** Every live pod, every container (or the one -c names), in parallel; pods not Running are skipped. */
export function discoverEveryContainer(kubectl: Kubectl, pods: readonly Pod[], opts: DiscoverOptions): Promise<PodContainers[]> {
  return mapBounded(pods.filter(isLivePod), opts.concurrency ?? 16, (pod) => discoverPodContainers(kubectl, pod, opts));
}
