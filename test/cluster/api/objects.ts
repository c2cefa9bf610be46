/**
 * The subset of the Kubernetes object model the emulator stores and serves. Field names and
 * shapes follow the real API so that kubectl (and `-o json`) see what a cluster would send.
 */

import type { EffectiveSecurityContext } from '../runtime/security';

export interface ObjectMeta {
  name: string;
  /** absent on cluster-scoped objects (Namespace) */
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** set when deletion was requested and the object is still being torn down */
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface EnvVar {
  name: string;
  value?: string;
}

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Volume {
  name: string;
  configMap?: { name: string; items?: Array<{ key: string; path: string }> };
  emptyDir?: Record<string, never>;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: EffectiveSecurityContext;
}

export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  nodeName?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  shareProcessNamespace?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
}

export interface ContainerStateDetail {
  running?: { startedAt: string };
  waiting?: { reason: string; message?: string };
  terminated?: { exitCode: number; reason?: string; signal?: number; startedAt?: string; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: ContainerStateDetail;
  lastState?: ContainerStateDetail;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
}

export interface PodStatus {
  phase: PodPhase;
  reason?: string;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatus[];
}

export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status: PodStatus;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: {
    type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    externalName?: string;
    externalIPs?: string[];
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: LabelSelector;
    template: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
  status: { phase: 'Active' | 'Terminating' };
}

export type KubeObject = Pod | Service | Deployment | ConfigMap | Namespace;
export type Kind = KubeObject['kind'];
export type ObjectOfKind<K extends Kind> = Extract<KubeObject, { kind: K }>;

export type NewObjectMeta = Omit<ObjectMeta, 'uid' | 'resourceVersion' | 'creationTimestamp'> & Partial<ObjectMeta>;

/** What a caller hands to the store, which assigns uid, resourceVersion and creationTimestamp. */
export type NewObject<T extends KubeObject = KubeObject> = T extends KubeObject ? Omit<T, 'metadata'> & { metadata: NewObjectMeta } : never;

/** metav1.Status, the body of every error reply */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

export interface PodMetrics {
  kind: 'PodMetrics';
  apiVersion: 'metrics.k8s.io/v1beta1';
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: Array<{ name: string; usage: { cpu: string; memory: string } }>;
}
