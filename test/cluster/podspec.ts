/**
 * Turns a Pod object into what the runtime starts: argv as Kubernetes resolves command/args,
 * the container environment, the user from securityContext, and volumes as host directories.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Container, Pod, Volume } from './api/objects';
import type { ContainerSpec, PodSpecForRuntime, VolumeMountSpec } from './runtime/types';
import { effectiveSecurityContext } from './runtime/security';

/** The parts of a Pod the runtime needs (the store's own types: one model of a pod). */
export type PodManifest = Pick<Pod, 'spec'> & { metadata: Pick<Pod['metadata'], 'name' | 'namespace'> };
type ContainerManifest = Container;
type VolumeManifest = Volume;

export interface PodSpecContext {
  /** directory for this pod's volumes */
  volumesDir: string;
  imageRoot(image: string): string;
  configMapData(namespace: string, name: string): Record<string, string> | undefined;
}

/** Our images have no ENTRYPOINT; their CMD is python3, like the official python images. */
const IMAGE_CMD = ['python3'];
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function resolveArgv(c: ContainerManifest): string[] {
  if (c.command?.length) return [...c.command, ...(c.args ?? [])];
  return [...IMAGE_CMD, ...(c.args ?? [])];
}

function containerEnv(c: ContainerManifest, uid: number, podName: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: IMAGE_PATH,
    HOSTNAME: podName,
    HOME: uid === 0 ? '/root' : '/home/app',
    LANG: 'C.UTF-8',
  };
  for (const v of c.env ?? []) env[v.name] = v.value ?? '';
  return env;
}

async function prepareVolume(v: VolumeManifest, namespace: string, ctx: PodSpecContext): Promise<string> {
  const dir = path.join(ctx.volumesDir, v.name);
  await fs.mkdir(dir, { recursive: true, mode: 0o777 });
  if (v.emptyDir) {
    await fs.chmod(dir, 0o777);
    return dir;
  }
  if (v.configMap) {
    const data = ctx.configMapData(namespace, v.configMap.name);
    if (!data) throw new Error(`configmap "${v.configMap.name}" not found`);
    const items = v.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      const file = path.join(dir, item.path);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, data[item.key] ?? '', { mode: 0o644 });
    }
    return dir;
  }
  throw new Error(`volume "${v.name}": only configMap and emptyDir are supported`);
}

export async function podSpecForRuntime(pod: PodManifest, uid: string, ctx: PodSpecContext): Promise<PodSpecForRuntime> {
  const namespace = pod.metadata.namespace ?? 'default';
  const volumeDirs = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) volumeDirs.set(v.name, await prepareVolume(v, namespace, ctx));
  const isConfigMap = new Set((pod.spec.volumes ?? []).filter((v) => v.configMap).map((v) => v.name));

  const containers: ContainerSpec[] = pod.spec.containers.map((c) => {
    const sc = effectiveSecurityContext(pod.spec.securityContext, c.securityContext);
    const cUid = sc.runAsUser ?? 0;
    const mounts: VolumeMountSpec[] = (c.volumeMounts ?? []).map((m) => {
      const hostPath = volumeDirs.get(m.name);
      if (!hostPath) throw new Error(`container "${c.name}": volume "${m.name}" is not defined`);
      return { hostPath, mountPath: m.mountPath, readOnly: Boolean(m.readOnly) || isConfigMap.has(m.name) };
    });
    return {
      name: c.name,
      imageRoot: ctx.imageRoot(c.image),
      argv: resolveArgv(c),
      workingDir: c.workingDir ?? '/',
      env: containerEnv(c, cUid, pod.metadata.name),
      uid: cUid,
      gid: sc.runAsGroup ?? cUid,
      mounts,
      securityContext: sc,
    };
  });
  return { uid, namespace, name: pod.metadata.name, shareProcessNamespace: Boolean(pod.spec.shareProcessNamespace), containers };
}
