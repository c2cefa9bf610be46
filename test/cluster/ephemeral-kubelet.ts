/**
 * The kubelet's half of ephemeral containers: when a pod's spec gains one (through the
 * pods/ephemeralcontainers subresource), start it in the running pod and report it in
 * status.ephemeralContainerStatuses — nothing right after the PATCH, then waiting
 * (ContainerCreating), running, terminated with its exit code; never restarted
 * (pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions: ephemeral containers are
 * started once; pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses for their statuses).
 */
import path from 'node:path';
import type { ContainerStatus, EphemeralContainer, Pod } from './api/objects';
import type { ObjectStore } from './api/store';
import { ephemeralContainerSpec } from './podspec';
import type { PodRuntime } from './runtime/types';

export interface EphemeralKubeletOptions {
  stateDir: string;
  imageRoot(image: string): string;
}

export class EphemeralKubelet {
  /** pod uid → names of the ephemeral containers already handed to the runtime */
  private readonly started = new Map<string, Set<string>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore, private readonly runtime: PodRuntime, private readonly options: EphemeralKubeletOptions) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.object.kind !== 'Pod') return;
      if (event.type === 'deleted') this.started.delete(event.object.metadata.uid);
      // after the store's commit (its listeners must not write)
      else if (event.object.spec.ephemeralContainers?.length) setImmediate(() => this.sync(event.object as Pod));
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  private sync(pod: Pod): void {
    const { uid } = pod.metadata;
    if (pod.metadata.deletionTimestamp || pod.status.phase !== 'Running') return;
    const started = this.started.get(uid) ?? new Set<string>();
    this.started.set(uid, started);
    for (const c of pod.spec.ephemeralContainers ?? []) {
      if (started.has(c.name)) continue;
      started.add(c.name);
      void this.start(pod, c);
    }
  }

  private async start(pod: Pod, c: EphemeralContainer): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    this.setStatus(namespace, name, uid, { name: c.name, image: c.image, imageID: c.image, ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } });
    try {
      const spec = ephemeralContainerSpec(c, pod, { imageRoot: (image) => this.options.imageRoot(image), volumesDir: path.join(this.options.stateDir, 'volumes', uid) });
      await this.runtime.startEphemeralContainer(uid, spec);
    } catch (error) {
      // kubelet: a container that cannot be created stays waiting with the reason and message
      const message = error instanceof Error ? error.message : String(error);
      this.setStatus(namespace, name, uid, { name: c.name, image: c.image, imageID: c.image, ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerError', message } } });
    }
  }

  private setStatus(namespace: string | undefined, name: string, uid: string, status: ContainerStatus): void {
    this.store.update('Pod', namespace, name, (pod) => {
      if (pod.metadata.uid !== uid) return;
      const statuses = (pod.status.ephemeralContainerStatuses ??= []);
      const index = statuses.findIndex((s) => s.name === status.name);
      // a status the runtime already reported (running, terminated) is never taken back
      if (index >= 0 && status.state.waiting?.reason === 'ContainerCreating') return;
      if (index >= 0) statuses[index] = status;
      else statuses.push(status);
    });
  }
}
