/**
 * What kubelet and the workload controllers do, in miniature: start a pod's containers through
 * the runtime and mirror their state into the pod's status; keep each Deployment's replica
 * count (a deleted pod is replaced by a new one with a generated name).
 */
import { createHash, randomInt } from 'node:crypto';
import path from 'node:path';
import type { ManifestObject } from './manifests';
import type { ContainerStatus, Deployment, KubeObject, NewObject, Pod, Service } from './api/objects';
import type { ObjectStore } from './api/store';
import { podSpecForRuntime } from './podspec';
import type { ContainerState, ContainerStatusUpdate, PodRuntime } from './runtime/types';

export interface ControllerOptions {
  stateDir: string;
  imageRoot(image: string): string;
}

/** Kubernetes' alphabet for generated name suffixes (no vowels, no look-alikes). */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(length: number): string {
  return Array.from({ length }, () => SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)]).join('');
}

function templateHash(deploy: Deployment): string {
  const digest = createHash('sha256').update(JSON.stringify(deploy.spec.template)).digest();
  return Array.from(digest.subarray(0, 10), (b) => SAFE_ALPHABET[b % SAFE_ALPHABET.length]).join('');
}

function toContainerStateDetail(state: ContainerState): ContainerStatus['state'] {
  switch (state.state) {
    case 'running':
      return { running: { startedAt: state.startedAt.toISOString() } };
    case 'waiting':
      return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
    case 'terminated':
      return {
        terminated: {
          exitCode: state.exitCode,
          reason: state.reason,
          startedAt: state.startedAt.toISOString(),
          finishedAt: state.finishedAt.toISOString(),
        },
      };
  }
}

export class Controller {
  private nextIp = 2;
  private nextClusterIp = 10;
  private readonly starting = new Set<Promise<void>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly runtime: PodRuntime,
    private readonly options: ControllerOptions,
  ) {
    store.onDeletePod = (pod, grace) => this.deletePod(pod, grace);
    this.ensureNamespace('default');
    this.ensureNamespace('kube-system');
  }

  /** Creates the objects (namespaces first) and starts their pods. */
  apply(objects: ManifestObject[]): void {
    for (const object of objects) this.create(object);
  }

  /** Resolves once every pod started so far has all its containers running. */
  async settled(): Promise<void> {
    while (this.starting.size > 0) await Promise.all([...this.starting]);
  }

  private create(manifest: ManifestObject): void {
    const object = manifest as unknown as NewObject<KubeObject>;
    const namespace = manifest.metadata.namespace ?? 'default';
    switch (object.kind) {
      case 'Namespace':
        this.ensureNamespace(manifest.metadata.name);
        return;
      case 'Service':
        this.store.create<Service>({ ...(object as NewObject<Service>), metadata: { ...object.metadata, namespace } , spec: this.serviceSpec(object as NewObject<Service>) });
        return;
      case 'Deployment': {
        const deploy = this.store.create<Deployment>({ ...(object as NewObject<Deployment>), metadata: { ...object.metadata, namespace } });
        for (let i = 0; i < deploy.spec.replicas; i++) this.createDeploymentPod(deploy);
        return;
      }
      case 'Pod':
        this.startPod(this.store.create<Pod>(this.newPod(object as NewObject<Pod>, namespace)));
        return;
      default:
        this.store.create({ ...object, metadata: { ...object.metadata, namespace } });
    }
  }

  private ensureNamespace(name: string): void {
    if (this.store.get('Namespace', undefined, name)) return;
    this.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } });
  }

  private serviceSpec(svc: NewObject<Service>): Service['spec'] {
    const type = svc.spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') return { ...svc.spec, type };
    return { ...svc.spec, type, clusterIP: `10.96.0.${this.nextClusterIp++}` };
  }

  private newPod(pod: NewObject<Pod>, namespace: string): NewObject<Pod> {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...pod.metadata, namespace },
      spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...pod.spec, nodeName: 'wand-node' },
      status: { phase: 'Pending', hostIP: '127.0.0.1', podIP: `10.244.0.${this.nextIp++}` },
    };
  }

  private createDeploymentPod(deploy: Deployment): void {
    const hash = templateHash(deploy);
    const template = deploy.spec.template;
    const pod = this.newPod(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${deploy.metadata.name}-${hash}-${randomSuffix(5)}`,
          labels: { ...template.metadata.labels, 'pod-template-hash': hash },
          annotations: template.metadata.annotations,
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deploy.metadata.name}-${hash}`, uid: deploy.metadata.uid, controller: true }],
        },
        spec: structuredClone(template.spec),
        status: { phase: 'Pending' },
      },
      deploy.metadata.namespace ?? 'default',
    );
    this.startPod(this.store.create<Pod>(pod));
  }

  private startPod(pod: Pod): void {
    const starting = this.runPod(pod).catch((error: Error) => this.markFailed(pod, error.message));
    this.starting.add(starting);
    void starting.finally(() => this.starting.delete(starting));
  }

  private async runPod(pod: Pod): Promise<void> {
    const { namespace = 'default', name, uid } = pod.metadata;
    this.setContainerStatuses(pod, pod.spec.containers.map((c) => this.initialStatus(c.name, c.image)));
    const spec = await podSpecForRuntime(pod, uid, {
      volumesDir: path.join(this.options.stateDir, 'volumes', uid),
      imageRoot: (image) => this.options.imageRoot(image),
      configMapData: (ns, cm) => this.store.get('ConfigMap', ns, cm)?.data,
    });
    await this.runtime.startPod(spec, (update) => this.onContainerStatus(namespace, name, uid, update));
  }

  private initialStatus(name: string, image: string): ContainerStatus {
    return { name, image, imageID: image, ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };
  }

  private setContainerStatuses(pod: Pod, statuses: ContainerStatus[]): void {
    this.store.update('Pod', pod.metadata.namespace, pod.metadata.name, (p) => {
      p.status.containerStatuses = statuses;
    });
  }

  private onContainerStatus(namespace: string, name: string, uid: string, update: ContainerStatusUpdate): void {
    const updated = this.store.update('Pod', namespace, name, (pod) => {
      if (pod.metadata.uid !== uid) return;
      const statuses = pod.status.containerStatuses ?? [];
      const status = statuses.find((s) => s.name === update.container);
      if (!status) return;
      const running = update.state.state === 'running';
      if (!running && status.state.running) status.lastState = status.state;
      status.state = toContainerStateDetail(update.state);
      status.restartCount = update.restartCount;
      status.ready = running;
      status.started = running;
      this.updatePodPhase(pod);
    });
    const deploy = updated && this.ownerDeployment(updated);
    if (deploy) this.refreshDeploymentStatus(deploy);
  }

  private updatePodPhase(pod: Pod): void {
    const statuses = pod.status.containerStatuses ?? [];
    const everStarted = statuses.every((s) => s.state.running || s.lastState?.running || s.restartCount > 0);
    const allReady = statuses.every((s) => s.ready);
    const now = new Date().toISOString();
    if (pod.status.phase === 'Pending' && everStarted) {
      pod.status.phase = 'Running';
      pod.status.startTime = now;
    }
    pod.status.conditions = [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: pod.metadata.creationTimestamp },
      { type: 'Initialized', status: 'True', lastTransitionTime: pod.metadata.creationTimestamp },
      { type: 'ContainersReady', status: allReady ? 'True' : 'False', lastTransitionTime: now },
      { type: 'Ready', status: allReady ? 'True' : 'False', lastTransitionTime: now },
    ];
  }

  private refreshDeploymentStatus(deploy: Deployment): void {
    const pods = this.store.list('Pod', { namespace: deploy.metadata.namespace }).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === deploy.metadata.uid));
    const ready = pods.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    this.store.update('Deployment', deploy.metadata.namespace, deploy.metadata.name, (d) => {
      d.status = { replicas: pods.length, readyReplicas: ready, updatedReplicas: pods.length, availableReplicas: ready };
    });
  }

  private ownerDeployment(pod: Pod): Deployment | undefined {
    const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
    if (!owner) return undefined;
    return this.store.list('Deployment', { namespace: pod.metadata.namespace }).find((d) => d.metadata.uid === owner.uid);
  }

  private markFailed(pod: Pod, message: string): void {
    this.store.update('Pod', pod.metadata.namespace, pod.metadata.name, (p) => {
      p.status.phase = 'Failed';
      p.status.reason = 'StartError';
      for (const s of p.status.containerStatuses ?? []) s.state = { waiting: { reason: 'CreateContainerError', message } };
    });
  }

  private async deletePod(pod: Pod, graceSeconds: number): Promise<void> {
    const deploy = this.ownerDeployment(pod);
    // Like the ReplicaSet controller: the replacement starts while the old pod terminates.
    if (deploy) this.createDeploymentPod(deploy);
    await this.runtime.stopPod(pod.metadata.uid, graceSeconds);
    this.store.remove('Pod', pod.metadata.namespace, pod.metadata.name);
    if (deploy) this.refreshDeploymentStatus(deploy);
  }
}
