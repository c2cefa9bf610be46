/**
 * The few fields of Kubernetes objects that kubectl-wand reads, as `kubectl get -o json` prints
 * them. Everything is optional where the API server may omit it.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsNonRoot?: boolean;
}

export interface Container {
  name: string;
  image?: string;
  securityContext?: SecurityContext;
}

/** spec.ephemeralContainers[] (kubectl debug) */
export interface EphemeralContainer extends Container {
  targetContainerName?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state?: ContainerState;
}

export interface Pod {
  kind?: 'Pod';
  metadata: ObjectMeta;
  spec: {
    containers: Container[];
    nodeName?: string;
    /** the pod's host name when not its name */
    hostname?: string;
    setHostnameAsFQDN?: boolean;
    securityContext?: SecurityContext;
    ephemeralContainers?: EphemeralContainer[];
    /** one PID namespace for all containers: PID 1 is the pause container's */
    shareProcessNamespace?: boolean;
  };
  status?: {
    phase?: PodPhase;
    containerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
  };
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Service {
  kind?: 'Service';
  metadata: ObjectMeta;
  spec: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    /** plain equality selector; absent for Services without a selector */
    selector?: Record<string, string>;
    externalName?: string;
  };
}

/** Deployment, StatefulSet, ReplicaSet, DaemonSet and Job: all select pods the same way. */
export interface Workload {
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    selector?: LabelSelector;
  };
}

export interface List<T> {
  kind?: string;
  items: T[];
}
