/**
 * Pods and the live Python processes in each: one agent exec per pod, all pods in parallel
 * (bounded). Shared by pods --with-pids, debug, exec, stack and doctor.
 */
import type { ListResult } from '../agent/contract';
import { classifyProcesses, type ClassifiedProcess } from '../select/roles';
import { runAgent } from './agent-runner';
import { choosePythonContainer, chooseContainer, type ContainerChoice } from './containers';
import { KubeError } from '../kube/errors';
import { NoPython } from './errors';
import type { Kubectl } from '../kube/kubectl';
import { TARGET } from '../remedies';
import type { Pod } from '../kube/types';

export interface PodProcesses {
  pod: Pod;
  /** the container the processes were read from (null when that could not be decided) */
  container: string | null;
  /** why that container, for the user */
  containerNote: string;
  processes: ClassifiedProcess[];
  list: ListResult | null;
  /** why this pod has no process list */
  error: KubeError | null;
}

export interface DiscoverOptions {
  container?: string;
  agentSource: string;
  /** pods listed at once */
  concurrency?: number;
  timeoutMs?: number;
}

const DEFAULT_CONCURRENCY = 16;

/** Runs `work` over items with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function isLivePod(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

function listIn(kubectl: Kubectl, pod: Pod, container: string, opts: DiscoverOptions): Promise<ListResult> {
  return runAgent(
    kubectl,
    { namespace: pod.metadata.namespace ?? 'default', pod: pod.metadata.name, container, containers: pod.spec.containers.map((c) => c.name) },
    { op: 'list' },
    { agentSource: opts.agentSource, timeoutMs: opts.timeoutMs ?? 30_000 },
  );
}

function found(pod: Pod, choice: Extract<ContainerChoice, { kind: 'chosen' }>, list: ListResult): PodProcesses {
  return { pod, container: choice.container, containerNote: choice.note, processes: classifyProcesses(list.processes), list, error: null };
}

function failed(pod: Pod, container: string | null, note: string, error: unknown): PodProcesses {
  if (!(error instanceof KubeError)) throw error;
  return { pod, container, containerNote: note, processes: [], list: null, error };
}

/** Lists processes in every container when the pod alone cannot say which one runs Python. */
async function discoverInCandidates(kubectl: Kubectl, pod: Pod, candidates: string[], opts: DiscoverOptions): Promise<PodProcesses> {
  const lists = await Promise.all(candidates.map((c) => listIn(kubectl, pod, c, opts).catch((e: unknown) => e)));
  const listings = candidates.map((container, i) => {
    const list = lists[i];
    return { container, processes: list instanceof Error ? [] : (list as ListResult).processes };
  });
  const choice = choosePythonContainer(listings);
  if (choice.kind === 'chosen') {
    return found(pod, choice, lists[candidates.indexOf(choice.container)] as ListResult);
  }
  if (choice.kind === 'ambiguous') {
    // Like kubectl's own default: the first container (of those running Python), said out loud.
    const first = choice.candidates[0];
    const note = `${choice.note}; using "${first}", the first — pick another with -c`;
    return found(pod, { kind: 'chosen', container: first, reason: 'python', note }, lists[candidates.indexOf(first)] as ListResult);
  }
  const note = choice.kind === 'none' ? choice.note : 'no container runs Python';
  const firstError = lists.find((l) => l instanceof Error);
  return failed(pod, null, note, firstError ?? new NoPython(pod.metadata.name, candidates.join(', ')));
}

export class ContainerChoiceNeeded extends KubeError {
  override readonly name = 'ContainerChoiceNeeded';
  constructor(pod: string, note: string, candidates: string[]) {
    super(`pod ${pod}: ${note}`, TARGET.containerChoice(candidates));
  }
}

export async function discoverPod(kubectl: Kubectl, pod: Pod, opts: DiscoverOptions): Promise<PodProcesses> {
  const choice = chooseContainer(pod, opts.container);
  if (choice.kind === 'ask-agent') return discoverInCandidates(kubectl, pod, choice.candidates, opts);
  if (choice.kind !== 'chosen') return failed(pod, null, choice.note, new ContainerChoiceNeeded(pod.metadata.name, choice.note, choice.candidates));
  try {
    return found(pod, choice, await listIn(kubectl, pod, choice.container, opts));
  } catch (error) {
    return failed(pod, choice.container, choice.note, error);
  }
}

/** Every live pod's processes, in parallel; pods that are not Running are not exec'd into. */
export async function discoverProcesses(kubectl: Kubectl, pods: readonly Pod[], opts: DiscoverOptions): Promise<PodProcesses[]> {
  return mapBounded(pods.filter(isLivePod), opts.concurrency ?? DEFAULT_CONCURRENCY, (pod) => discoverPod(kubectl, pod, opts));
}
