/** metrics.k8s.io PodMetrics, sampled from the pod runtime, for `kubectl top pod`. */
import type { Pod, PodMetrics } from './objects';
import type { PodRuntime } from '../runtime/types';

export type UsageSource = Pick<PodRuntime, 'usage'>;

/** undefined for pods that have no running processes to measure */
export async function podMetrics(pod: Pod, runtime: UsageSource): Promise<PodMetrics | undefined> {
  if (pod.status.phase !== 'Running' || pod.metadata.deletionTimestamp) return undefined;
  const running = new Set((pod.status.containerStatuses ?? []).filter((c) => c.state.running).map((c) => c.name));
  const usage = await runtime.usage(pod.metadata.uid).catch(() => undefined);
  const measured = Object.entries(usage ?? {}).filter(([container]) => running.has(container));
  if (measured.length === 0) return undefined;
  const { name, namespace = 'default', labels } = pod.metadata;
  return {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name, namespace, creationTimestamp: new Date().toISOString(), ...(labels && { labels }) },
    timestamp: new Date().toISOString(),
    window: '10s',
    containers: measured.map(([container, u]) => ({
      name: container,
      usage: { cpu: `${Math.round(u.cpuNanoCores)}n`, memory: `${Math.ceil(u.memoryBytes / 1024)}Ki` },
    })),
  };
}

export async function podMetricsList(pods: Pod[], runtime: UsageSource) {
  const items = await Promise.all(pods.map((p) => podMetrics(p, runtime)));
  return {
    kind: 'PodMetricsList',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: {},
    items: items.filter((m): m is PodMetrics => m !== undefined),
  };
}
