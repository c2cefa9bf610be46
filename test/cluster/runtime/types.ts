/**
 * The contract between the emulator's API layer (test/cluster/api, test/cluster/protocol) and the
 * pod runtime (test/cluster/runtime) that runs containers as Linux namespaces chrooted into image
 * root filesystems. The API layer knows nothing of namespaces; the runtime knows nothing of HTTP.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { EffectiveSecurityContext } from './security';

export interface VolumeMountSpec {
  /** directory on the host that is mounted (configMap files are already written there) */
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
}

export interface ContainerSpec {
  name: string;
  /** host directory holding the image's root filesystem (read-only lower layer) */
  imageRoot: string;
  /** command + args resolved as Kubernetes does (image default when both are absent) */
  argv: string[];
  workingDir: string;
  /** full environment of the container's processes (image env + spec env) */
  env: Record<string, string>;
  uid: number;
  gid: number;
  mounts: VolumeMountSpec[];
  /** pod + container securityContext merged (security.ts effectiveSecurityContext); absent: the runtime's defaults */
  securityContext?: EffectiveSecurityContext;
}

export interface PodSpecForRuntime {
  /** unique id; also names the pod's state directory */
  uid: string;
  namespace: string;
  name: string;
  shareProcessNamespace: boolean;
  containers: ContainerSpec[];
}

export type ContainerState =
  | { state: 'waiting'; reason: string; message?: string }
  | { state: 'running'; startedAt: Date }
  | { state: 'terminated'; exitCode: number; reason: string; startedAt: Date; finishedAt: Date };

export interface ContainerStatusUpdate {
  container: string;
  state: ContainerState;
  restartCount: number;
  /** host PID of the container's PID 1 while running */
  hostPid: number | null;
}

export interface ExecRequest {
  podUid: string;
  container: string;
  command: string[];
  tty: boolean;
}

export interface ExecStreams {
  /** null when the client did not ask for stdin */
  stdin: Readable | null;
  stdout: Writable;
  /** null with a tty (stderr is merged) */
  stderr: Writable | null;
}

/** exitCode when the command ran; error (a message kubectl prints) when it could not start */
export type ExecOutcome = { exitCode: number } | { error: string };

export interface PodRuntime {
  /** start every container; resolves once each container's PID 1 is running */
  startPod(spec: PodSpecForRuntime, onStatus: (update: ContainerStatusUpdate) => void): Promise<void>;
  /** kill every process of the pod (SIGTERM, then SIGKILL after graceSeconds), unmount, clean up */
  stopPod(podUid: string, graceSeconds: number): Promise<void>;
  /** run a command inside a container, as its user, in its namespaces and root */
  exec(req: ExecRequest, streams: ExecStreams, signal: AbortSignal): Promise<ExecOutcome>;
  /** connect to 127.0.0.1:port inside the pod's network namespace */
  dialPort(podUid: string, port: number): Promise<Duplex>;
  /** file holding the container's stdout and stderr (all restarts appended), for pods/log */
  logPath(podUid: string, container: string): string;
  /** current CPU (nanocores, sampled) and memory (RSS bytes) of each container, for metrics */
  usage(podUid: string): Promise<Record<string, { cpuNanoCores: number; memoryBytes: number }>>;
  /** test hook: SIGKILL the container's PID 1 (the runtime restarts it) */
  killContainer(podUid: string, container: string): Promise<void>;
  /** stop everything; leaves no process, mount or namespace behind */
  shutdown(): Promise<void>;
}
