/** Choosing the container a log or exec request is about, with the API server's error wording. */
import type { ContainerStatus, Pod } from './objects';
import { badRequest } from './status';

export function pickContainer(pod: Pod, requested: string | null | undefined): string {
  const names = pod.spec.containers.map((c) => c.name);
  const { name } = pod.metadata;
  if (!requested) {
    if (names.length === 1) return names[0];
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  }
  // pkg/registry/core/pod/strategy.go podHasContainerWithName: every container, ephemeral ones too
  const all = [...names, ...(pod.spec.ephemeralContainers ?? []).map((c) => c.name)];
  if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

export function containerStatus(pod: Pod, container: string): ContainerStatus | undefined {
  return [...(pod.status.containerStatuses ?? []), ...(pod.status.ephemeralContainerStatuses ?? [])].find((s) => s.name === container);
}

/** Exec and port-forward need a live pod (kubectl checks too, but not every client does). */
export function assertRunning(pod: Pod, action: 'exec' | 'attach' | 'port-forward'): void {
  const { phase } = pod.status;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw badRequest(action === 'port-forward'
      ? `cannot port-forward to a completed pod; current phase is ${phase}`
      : `cannot ${action} into a container in a completed pod; current phase is ${phase}`);
  }
  if (phase !== 'Running') throw badRequest(`pod ${pod.metadata.name} is not running (phase ${phase})`);
}

/**
 * The kubelet serves exec and attach only for a running container: pkg/kubelet/kubelet_pods.go
 * GetExec/GetAttach find it among the runtime's running containers, else fail with
 * `container not found (%q)`, which pkg/kubelet/cri/streaming WriteError sends as a 500 with that
 * text; kubectl prints `error: unable to upgrade connection: container not found ("NAME")`.
 */
export function assertContainerRunning(pod: Pod, container: string): void {
  if (!containerStatus(pod, container)?.state.running) throw new KubeletRefusal(`container not found ("${container}")`);
}

/** An error the kubelet answers an upgrade with: a 500 whose body is the text alone. */
export class KubeletRefusal extends Error {}
