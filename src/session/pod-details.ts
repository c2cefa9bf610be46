/**
 * What a pod prompt shows for each pod, gathered only when the user is about to be asked: one
 * metrics.k8s.io call for all pods (the same data as `kubectl top pod`), in parallel with one agent
 * `list` per pod (its Python processes; also the CPU and memory when the cluster serves no metrics).
 */
import type { Kubectl } from '../kube/kubectl';
import type { Pod } from '../kube/types';
import { summarizeProcesses, usageFromMetrics, usageFromProcesses, type PodMetricsLike, type PodUsage } from '../select/pod-usage';
import { discoverProcesses, type PodProcesses } from './discover';

export interface PodDetails {
  restarts: number;
  usage: PodUsage | null;
  /** "uvicorn --reload worker", or why the processes could not be listed */
  processes: string;
  /** the listing, reused once the pod is chosen (no second exec) */
  listed: PodProcesses | null;
}

/** PodMetrics by pod name; empty when the cluster serves no metrics.k8s.io (or refuses it). */
export async function podMetrics(kubectl: Kubectl, namespace: string): Promise<Map<string, PodMetricsLike>> {
  try {
    const path = `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const list = await kubectl.json<{ items?: PodMetricsLike[] }>(['get', '--raw', path], { timeoutMs: 10_000 });
    return new Map((list.items ?? []).map((m) => [m.metadata.name, m]));
  } catch {
    // metrics-server missing, its APIService unavailable, or no RBAC for it: the agent's samples stand in
    return new Map();
  }
}

function restartsOf(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
}

function detailsOf(pod: Pod, listed: PodProcesses | undefined, metrics: PodMetricsLike | undefined): PodDetails {
  // the pod's total, as `kubectl top pod` shows it; the agent only sees the listed container
  const fromMetrics = metrics ? usageFromMetrics(metrics) : null;
  const fromAgent = listed && !listed.error ? usageFromProcesses(listed.processes) : null;
  const processes = !listed ? 'not running' : listed.error ? listed.error.message : summarizeProcesses(listed.processes);
  return { restarts: restartsOf(pod), usage: fromMetrics ?? fromAgent, processes, listed: listed && !listed.error ? listed : null };
}

export async function gatherPodDetails(
  kubectl: Kubectl,
  namespace: string,
  pods: readonly Pod[],
  opts: { agentSource: string; container?: string },
): Promise<Map<string, PodDetails>> {
  const [metrics, listed] = await Promise.all([podMetrics(kubectl, namespace), discoverProcesses(kubectl, pods, opts)]);
  const byName = new Map(listed.map((l) => [l.pod.metadata.name, l]));
  return new Map(pods.map((pod) => [pod.metadata.name, detailsOf(pod, byName.get(pod.metadata.name), metrics.get(pod.metadata.name))]));
}
