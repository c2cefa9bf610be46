/**
 * How a container's processes get their PID namespace, ephemeral containers included. The kubelet
 * asks the runtime for the target container's namespace when an ephemeral container names one
 * (pkg/kubelet/kuberuntime/kuberuntime_container.go: NamespaceMode_TARGET with TargetId), which
 * containerd implements by joining the PID namespace of the target's task
 * (internal/cri/server/container_create_linux.go, WithPodNamespaces / "target" pid mode).
 * Without a target they get the pod's (shareProcessNamespace) or their own, as regular ones do.
 */
import type { ContainerSpec } from './types';

export interface PidNamespaceChoice {
  /** nsenter arguments for the PID namespace (the sandbox's, a target container's, or none) */
  nsenter: string[];
  /** unshare arguments creating a new PID namespace when the container gets its own */
  unshare: string[];
}

/**
 * targetHostPid: the host PID of a process of the target container (null when it does not run).
 * Throws with the message the kubelet reports when the target cannot be joined.
 */
export function pidNamespaceFor(spec: ContainerSpec, sharedWithPod: boolean, targetHostPid: number | null): PidNamespaceChoice {
  const target = spec.ephemeral?.targetContainer;
  if (target) {
    if (!targetHostPid) throw new Error(`failed to get target container "${target}" PID namespace: container is not running`);
    return { nsenter: [`--pid=/proc/${targetHostPid}/ns/pid`], unshare: [] };
  }
  return sharedWithPod ? { nsenter: ['-p'], unshare: [] } : { nsenter: [], unshare: ['--pid', '--kill-child'] };
}
