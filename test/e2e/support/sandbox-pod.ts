/**
 * One pod of a scenario manifest run in rootfs sandboxes (one per container, sharing the first
 * container's network namespace), to check that the manifests' commands really work in the
 * Debian-built images: the emulator's own image roots when test/cluster has built them, else views
 * of the one probe rootfs.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { imageRoot } from '../../cluster/images/images';
import type { TestImage } from './apps';
import { configMapData, containerArgv, effectiveUser, type Container, type KubeObject, type Workload } from './manifests';
import { PROBE_ROOT, startSandbox, type Sandbox, type SandboxMount, type SandboxSpec } from './rootfs-sandbox';

type ImageView = Pick<SandboxSpec, 'root' | 'remove' | 'links'>;

/** the test images as views of the probe rootfs, for when the emulator has not built its own */
/** (the images of Python before 3.14 have no view: their interpreters are not in the probe rootfs) */
export const PROBE_VIEWS: Partial<Record<TestImage, ImageView>> = {
  'wand-test/python:3.14': { root: PROBE_ROOT },
  'wand-test/python:3.14-slim': {
    root: PROBE_ROOT,
    remove: [
      '/usr/lib/python3/dist-packages/debugpy',
      '/usr/bin/debugpy',
      '/usr/bin/debugpy-adapter',
      '/usr/lib/python3/dist-packages/django',
      '/usr/lib/python3/dist-packages/gunicorn',
      '/usr/bin/ps',
      '/usr/bin/pgrep',
      '/usr/bin/pkill',
      '/usr/bin/top',
    ],
  },
  'wand-test/python:3.13': { root: PROBE_ROOT, links: { '/usr/bin/python3': 'python3.13' } },
};

/** the emulator's own root filesystem of `image` when it is built, else a view of the probe rootfs */
export function imageView(image: TestImage): ImageView {
  try {
    const root = imageRoot(image);
    if (existsSync(join(root, 'usr/bin/python3'))) return { root };
  } catch {
    // not a test image name: fall through to the error below
  }
  const view = PROBE_VIEWS[image];
  if (!view) throw new Error(`no sandbox view of image ${image}`);
  return view;
}

/** whether `command` (as a container's argv[0]) resolves to an executable in the image */
export function imageHasCommand(image: TestImage, command: string): boolean {
  const view = imageView(image);
  const candidates = command.includes('/') ? [command] : ['/usr/local/bin', '/usr/bin', '/bin'].map((d) => `${d}/${command}`);
  return candidates.some((c) => !view.remove?.includes(c) && existsSync(join(view.root, c)));
}

export interface SandboxContainer {
  sandbox: Sandbox;
  uid: number;
  gid: number;
  env: Record<string, string>;
}

export interface SandboxPod {
  containers: Record<string, SandboxContainer>;
  stop(): Promise<void>;
}

function containerEnv(container: Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
}

/** writes each mounted ConfigMap's files to a host directory (0755/0644: readable by any uid) */
function configMapMounts(objects: KubeObject[], workload: Workload, container: Container, work: string): SandboxMount[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const volume = workload.spec.volumes?.find((v) => v.name === mount.name);
    const hostPath = join(work, `${container.name}-${mount.name}`);
    mkdirSync(hostPath, { recursive: true });
    chmodSync(hostPath, 0o755);
    if (volume?.configMap) {
      for (const [file, content] of Object.entries(configMapData(objects, workload.namespace, volume.configMap.name))) {
        writeFileSync(join(hostPath, file), content, { mode: 0o644 });
      }
      return { hostPath, mountPath: mount.mountPath, readOnly: true };
    }
    chmodSync(hostPath, 0o777); // emptyDir
    return { hostPath, mountPath: mount.mountPath, readOnly: mount.readOnly ?? false };
  });
}

/**
 * Starts one replica of `workload`. `extraMounts` are added to every container (e.g. an injection
 * directory). The first container owns the network namespace, as a pod's pause container would.
 */
export async function startSandboxPod(
  objects: KubeObject[],
  workload: Workload,
  extraMounts: SandboxMount[] = [],
): Promise<SandboxPod> {
  const work = mkdtempSync(join(tmpdir(), 'wand-sandbox-pod-'));
  chmodSync(work, 0o755);
  const containers: Record<string, SandboxContainer> = {};
  const stop = async (): Promise<void> => {
    for (const c of Object.values(containers).reverse()) await c.sandbox.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    let netPid: number | undefined;
    for (const container of workload.spec.containers) {
      const view = imageView(container.image as TestImage);
      const { uid, gid } = effectiveUser(workload.spec, container);
      const env = containerEnv(container);
      const sandbox = await startSandbox({
        ...view,
        argv: containerArgv(container),
        workingDir: container.workingDir ?? '/',
        env,
        uid,
        gid,
        mounts: [...configMapMounts(objects, workload, container, work), ...extraMounts],
        network: netPid ?? 'private',
      });
      netPid ??= sandbox.hostPid;
      containers[container.name] = { sandbox, uid, gid, env };
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { containers, stop };
}

/** a host directory with files, for mounting read-only into sandboxes */
export function writeHostDir(files: Record<string, string>): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'wand-files-'));
  chmodSync(path, 0o755);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(path, name)), { recursive: true });
    writeFileSync(join(path, name), content, { mode: 0o644 });
  }
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
