/**
 * The test cluster, programmatically: an API server the real kubectl talks to, a controller, and
 * a runtime whose pods are Linux namespaces. Tests use this directly (with its fault hooks);
 * `npm run cluster -- up` runs the same thing in a background daemon (see cli.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ObjectStore } from './api/store';
import { startApiServer, type ApiHooks, type ApiServer } from './api/server';
import { Controller } from './controller';
import { EphemeralKubelet } from './ephemeral-kubelet';
import { imageRoot } from './images/images';
import { loadManifests } from './manifests';
import { serveExec } from './protocol/exec';
import { servePortForward } from './protocol/portforward';
import { createNamespaceRuntime } from './runtime';
import type { Pod } from './api/objects';
import type { PodRuntime } from './runtime/types';
import type { PtraceScope } from './runtime/security';

export interface ClusterOptions {
  stateDir: string;
  /** files or directories of YAML applied at start */
  manifests?: string[];
  /** the server's reported minor version (picks the kubectl client version) */
  serverMinor?: number;
  /** the node's kernel.yama.ptrace_scope, 0–3 (default 0): see runtime/security.ts */
  ptraceScope?: PtraceScope;
}

export interface TestCluster {
  readonly kubeconfig: string;
  readonly url: string;
  readonly store: ObjectStore;
  readonly runtime: PodRuntime;
  /** hooks to delay or drop exec and port-forward connections */
  readonly hooks: ApiHooks;
  apply(fileOrDir: string): Promise<void>;
  /** resolves once every pod started so far is running */
  settled(): Promise<void>;
  pods(namespace: string, labelSelector?: string): Pod[];
  deletePod(namespace: string, name: string, graceSeconds?: number): void;
  killContainer(namespace: string, pod: string, container: string): Promise<void>;
  /** cut the pod's live exec and/or port-forward connections; returns how many */
  dropConnections(pod: string, type?: 'exec' | 'attach' | 'portforward'): number;
  /** host directory behind a pod volume (tests edit configMap files there to trigger reloads) */
  volumeDir(namespace: string, pod: string, volume: string): string;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const stateDir = path.resolve(options.stateDir);
  await fs.mkdir(stateDir, { recursive: true });
  const store = new ObjectStore();
  const runtime = createNamespaceRuntime({ stateDir: path.join(stateDir, 'pods'), ptraceScope: options.ptraceScope });
  const controller = new Controller(store, runtime, { stateDir, imageRoot });
  const ephemeral = new EphemeralKubelet(store, runtime, { stateDir, imageRoot });
  const hooks: ApiHooks = {};
  let api: ApiServer;
  try {
    api = await startApiServer({
      stateDir,
      store,
      runtime,
      upgrades: { exec: serveExec, portForward: servePortForward },
      hooks,
      serverMinor: options.serverMinor,
    });
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }

  const cluster: TestCluster = {
    kubeconfig: api.kubeconfigPath,
    url: api.url,
    store,
    runtime,
    hooks,
    async apply(fileOrDir) {
      controller.apply(await loadManifests(fileOrDir));
      await controller.settled();
    },
    settled: () => controller.settled(),
    pods: (namespace, labelSelector) => store.list('Pod', { namespace, labelSelector }),
    deletePod(namespace, name, graceSeconds) {
      store.requestDelete('Pod', namespace, name, graceSeconds);
    },
    async killContainer(namespace, pod, container) {
      const found = store.get('Pod', namespace, pod);
      if (!found) throw new Error(`pod ${namespace}/${pod} not found`);
      await runtime.killContainer(found.metadata.uid, container);
    },
    dropConnections(pod, type) {
      const victims = api.sessions.list(pod).filter((e) => type === undefined || e.type === type);
      for (const e of victims) e.session.destroy();
      return victims.length;
    },
    volumeDir(namespace, pod, volume) {
      const found = store.get('Pod', namespace, pod);
      if (!found) throw new Error(`pod ${namespace}/${pod} not found`);
      return path.join(stateDir, 'volumes', found.metadata.uid, volume);
    },
    async stop() {
      ephemeral.stop();
      await api.close();
      await runtime.shutdown();
    },
  };
  try {
    for (const manifests of options.manifests ?? []) await cluster.apply(manifests);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
