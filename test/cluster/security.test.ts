/**
 * Containers as locked down as on a containerd node, read through the real kubectl: the default
 * capability set, securityContext add/drop/ALL/privileged/allowPrivilegeEscalation/runAsNonRoot,
 * no effective capabilities for non-root users, and the node's ptrace_scope (0–3) as Yama applies it
 * to `kubectl exec`. Needs root and the test images (npm run images).
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageRoot } from './images/images';
import { startCluster, type TestCluster } from './cluster';
import { probeRemoteExec } from './ptraceProbe';
import { capabilitySet, effectiveSecurityContext, runAsNonRootError } from './runtime/security';
import type { PtraceScope } from './runtime/security';

const ROOT = path.resolve(__dirname, '../..');
const canRun = process.getuid?.() === 0 && existsSync(path.join(imageRoot('wand-test/python:3.14'), 'usr/bin/python3'));
if (!canRun && process.env.CI === 'true') throw new Error('security tests need root and the test images (npm run images)');
const run = canRun ? describe : describe.skip;
jest.setTimeout(120_000);

const DEFAULT_CAPS = '00000000a80425fb';

function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

type SecurityContext = Record<string, unknown>;

function podYaml(name: string, container: SecurityContext = {}, pod: SecurityContext = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'sec' },
    spec: {
      securityContext: pod,
      containers: [{ name: 'app', image: 'wand-test/python:3.14', command: ['python3', '-c', 'import time; time.sleep(3600)'], securityContext: container }],
    },
  });
}

async function writeManifest(dir: string, pods: string[]): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'pods.yaml');
  await fs.writeFile(file, [JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sec' } }), ...pods].join('\n---\n'));
  return file;
}

/** "CapEff:\t…" of a process in the pod: the exec'd one (self) or the container's (1) */
async function capEff(kubeconfig: string, pod: string, pid: 'self' | '1' = 'self'): Promise<string> {
  const r = await kubectl(kubeconfig, ['exec', '-n', 'sec', pod, '--', 'grep', 'CapEff', `/proc/${pid}/status`]);
  expect(r.stderr).toBe('');
  return r.stdout.replace(/^CapEff:\s*/, '').trim();
}

const HOST_CAPS = readFileSync('/proc/self/status', 'latin1').match(/^CapBnd:\s*(\S+)/m)![1];

describe('securityContext as the kubelet and containerd resolve it', () => {
  test('the container-level fields win over the pod-level ones; capabilities exist only per container', () => {
    expect(effectiveSecurityContext({ runAsUser: 1000, runAsNonRoot: true }, { runAsUser: 2000 })).toEqual({ runAsUser: 2000, runAsGroup: undefined, runAsNonRoot: true });
    expect(effectiveSecurityContext({ runAsUser: 1000 }, undefined).runAsUser).toBe(1000);
  });

  test.each([
    [{}, 'a80425fb'],
    [{ capabilities: { add: ['SYS_PTRACE'] } }, 'a80c25fb'],
    [{ capabilities: { drop: ['NET_RAW', 'chown'] } }, 'a80405fa'],
    [{ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }, '400'],
    [{ capabilities: { add: ['ALL'], drop: ['CHOWN'] } }, (BigInt(`0x${HOST_CAPS}`) & ~1n).toString(16)],
    [{ capabilities: { add: ['SYS_PTRACE'], drop: ['SYS_PTRACE'] } }, 'a80425fb'],
    [{ privileged: true, capabilities: { drop: ['ALL'] } }, BigInt(`0x${HOST_CAPS}`).toString(16)],
  ])('capabilities of %j', (sc, expected) => {
    expect(capabilitySet(sc).toString(16)).toBe(expected);
  });

  test('runAsNonRoot refuses root with the kubelet\'s messages', () => {
    const pod = { name: 'p', namespace: 'ns', uid: 'u-1' };
    expect(runAsNonRootError({ runAsNonRoot: true }, pod, 'app')).toBe('container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: app)');
    expect(runAsNonRootError({ runAsNonRoot: true, runAsUser: 0 }, pod, 'app')).toBe('container\'s runAsUser breaks non-root policy (pod: "p_ns(u-1)", container: app)');
    expect(runAsNonRootError({ runAsNonRoot: true, runAsUser: 1000 }, pod, 'app')).toBeNull();
    expect(runAsNonRootError({ runAsUser: 0 }, pod, 'app')).toBeNull();
  });
});

run('capabilities in pods, through kubectl (ptrace_scope 0)', () => {
  let base: string;
  let cluster: TestCluster;

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-sec-'));
    const manifest = await writeManifest(base, [
      podYaml('root'),
      podYaml('user', {}, { runAsUser: 1000 }),
      podYaml('user-ptrace', { capabilities: { add: ['SYS_PTRACE'] } }, { runAsUser: 1000 }),
      podYaml('ptrace', { capabilities: { add: ['SYS_PTRACE'] } }),
      podYaml('no-raw', { capabilities: { drop: ['NET_RAW'] } }),
      podYaml('minimal', { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }),
      podYaml('privileged', { privileged: true }),
      podYaml('no-escalation', { allowPrivilegeEscalation: false }),
      podYaml('nonroot', {}, { runAsNonRoot: true }),
      podYaml('nonroot-uid0', { runAsUser: 0 }, { runAsNonRoot: true }),
      podYaml('nonroot-1000', {}, { runAsNonRoot: true, runAsUser: 1000 }),
    ]);
    cluster = await startCluster({ stateDir: path.join(base, 'state'), manifests: [manifest] });
  });

  afterAll(async () => {
    await cluster?.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  test('a root container and kubectl exec into it get containerd\'s default set', async () => {
    expect(await capEff(cluster.kubeconfig, 'root')).toBe(DEFAULT_CAPS);
    expect(await capEff(cluster.kubeconfig, 'root', '1')).toBe(DEFAULT_CAPS);
    const status = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'root', '--', 'grep', '-E', '^Cap(Inh|Bnd|Amb)|NoNewPrivs', '/proc/self/status']);
    expect(status.stdout.replace(/\t/g, ' ')).toBe(`CapInh: ${'0'.repeat(16)}\nCapBnd: ${DEFAULT_CAPS}\nCapAmb: ${'0'.repeat(16)}\nNoNewPrivs: 0\n`);
  });

  test('a uid-1000 container has no effective capabilities, even with SYS_PTRACE added', async () => {
    expect(await capEff(cluster.kubeconfig, 'user')).toBe('0000000000000000');
    expect(await capEff(cluster.kubeconfig, 'user', '1')).toBe('0000000000000000');
    expect(await capEff(cluster.kubeconfig, 'user-ptrace')).toBe('0000000000000000');
    const bounding = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'user-ptrace', '--', 'grep', 'CapBnd', '/proc/self/status']);
    expect(bounding.stdout).toContain('00000000a80c25fb');
  });

  test.each([
    ['ptrace', '00000000a80c25fb'],
    ['no-raw', '00000000a80405fb'],
    ['minimal', '0000000000000400'],
    ['privileged', HOST_CAPS],
  ])('%s: add, drop, ALL and privileged are honoured', async (pod, expected) => {
    expect(await capEff(cluster.kubeconfig, pod)).toBe(expected);
    expect(await capEff(cluster.kubeconfig, pod, '1')).toBe(expected);
  });

  test('allowPrivilegeEscalation: false sets no_new_privs on the container and on kubectl exec', async () => {
    for (const pid of ['self', '1']) {
      const r = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'no-escalation', '--', 'grep', 'NoNewPrivs', `/proc/${pid}/status`]);
      expect(r.stdout).toMatch(/^NoNewPrivs:\s*1$/m);
    }
  });

  test('runAsNonRoot: a root container is refused as the kubelet refuses it, a uid-1000 one runs', async () => {
    const table = await kubectl(cluster.kubeconfig, ['get', 'pods', '-n', 'sec', 'nonroot', 'nonroot-uid0', 'nonroot-1000']);
    expect(table.stdout).toMatch(/^nonroot\s+0\/1\s+CreateContainerConfigError\s+0\s/m);
    expect(table.stdout).toMatch(/^nonroot-uid0\s+0\/1\s+CreateContainerConfigError\s+0\s/m);
    expect(table.stdout).toMatch(/^nonroot-1000\s+1\/1\s+Running\s/m);
    const pod = JSON.parse((await kubectl(cluster.kubeconfig, ['get', 'pod', '-n', 'sec', 'nonroot', '-o', 'json'])).stdout) as {
      metadata: { uid: string }; status: { phase: string; containerStatuses: Array<{ state: { waiting?: { reason: string; message: string } } }> };
    };
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.containerStatuses[0].state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: `container has runAsNonRoot and image will run as root (pod: "nonroot_sec(${pod.metadata.uid})", container: app)`,
    });
    const exec = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'nonroot', '--', 'true']);
    expect(exec.code).not.toBe(0);
  });

  test('under ptrace_scope 0, kubectl exec may write into the app (same user, no CAP_SYS_PTRACE needed)', async () => {
    expect((await probeRemoteExec(cluster.kubeconfig, ['exec', '-n', 'sec', 'root'])).verdict).toBe('allowed');
    expect((await probeRemoteExec(cluster.kubeconfig, ['exec', '-n', 'sec', 'user'])).verdict).toBe('allowed');
    const scope = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'root', '--', 'cat', '/proc/sys/kernel/yama/ptrace_scope']);
    expect(scope.stdout).toBe('0\n');
  });
});

/** one cluster per scope: the default container, and one with SYS_PTRACE added */
describe.each([
  [1 as PtraceScope, { plain: 'PermissionError', ptrace: 'allowed' }],
  [2 as PtraceScope, { plain: 'PermissionError', ptrace: 'allowed' }],
  [3 as PtraceScope, { plain: 'PermissionError', ptrace: 'PermissionError' }],
])('ptrace_scope %i, through kubectl exec', (scope, expected) => {
  let base: string;
  let cluster: TestCluster;

  beforeAll(async () => {
    if (!canRun) return;
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-sec-'));
    const manifest = await writeManifest(base, [podYaml('plain'), podYaml('ptrace', { capabilities: { add: ['SYS_PTRACE'] } })]);
    cluster = await startCluster({ stateDir: path.join(base, 'state'), manifests: [manifest], ptraceScope: scope });
  });

  afterAll(async () => {
    await cluster?.stop();
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  (canRun ? test : test.skip)(`remote_exec into PID 1: default caps → ${expected.plain}, SYS_PTRACE → ${expected.ptrace}`, async () => {
    const [plain, ptrace] = await Promise.all(['plain', 'ptrace'].map((pod) => probeRemoteExec(cluster.kubeconfig, ['exec', '-n', 'sec', pod])));
    expect({ plain: plain.verdict, ptrace: ptrace.verdict }).toEqual(expected);
    if (plain.verdict !== 'allowed') expect(plain.code).toBe(1);
  });

  (canRun ? test : test.skip)(`/proc/sys/kernel/yama/ptrace_scope reads ${scope}, read-only as /proc/sys is in containers`, async () => {
    const read = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'plain', '--', 'cat', '/proc/sys/kernel/yama/ptrace_scope']);
    expect(read.stdout).toBe(`${scope}\n`);
    const write = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'ptrace', '--', 'sh', '-c', 'echo 0 > /proc/sys/kernel/yama/ptrace_scope']);
    expect(write.code).not.toBe(0);
    // the rest of /proc/sys/kernel is the kernel's own, seen from the pod's namespaces
    const hostname = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'plain', '--', 'cat', '/proc/sys/kernel/hostname']);
    expect(hostname.stdout).toBe('plain\n');
  });

  (canRun ? test : test.skip)('PTRACE_TRACEME: allowed under 1, refused under 2 (the parent lacks CAP_SYS_PTRACE) and 3, as by yama_ptrace_traceme', async () => {
    const traceme = 'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\npid = os.fork()\nif pid == 0:\n    os._exit(0 if libc.ptrace(0, 0, 0, 0) == 0 else 1)\nprint(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))';
    const r = await kubectl(cluster.kubeconfig, ['exec', '-n', 'sec', 'plain', '--', 'python3', '-c', traceme]);
    expect(r.stdout.trim()).toBe(scope === 1 ? '0' : '1');
  });
});

run('cluster CLI: --ptrace-scope, and nothing left after down', () => {
  test('up --ptrace-scope 2 shows the scope in pods; down leaves no process of the cluster', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-sec-cli-'));
    const state = path.join(base, 'state');
    try {
      const manifest = await writeManifest(base, [podYaml('plain')]);
      const up = await sh('npm', ['run', '-s', 'cluster', '--', 'up', '--manifests', manifest, '--state', state, '--ptrace-scope', '2']);
      expect(up.code).toBe(0);
      const kubeconfig = path.join(state, 'kubeconfig');
      expect((await kubectl(kubeconfig, ['exec', '-n', 'sec', 'plain', '--', 'cat', '/proc/sys/kernel/yama/ptrace_scope'])).stdout).toBe('2\n');
      expect((await probeRemoteExec(kubeconfig, ['exec', '-n', 'sec', 'plain'])).verdict).toBe('PermissionError');
      const down = await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state]);
      expect(down.code).toBe(0);
      // the policy lives in the seccomp filters of the pods' processes: with them gone, nothing is left
      const leftovers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return readlinkSync(`/proc/${p}/root`).startsWith(state) || readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(state);
        } catch {
          return false;
        }
      });
      expect(leftovers).toEqual([]);
    } finally {
      if (existsSync(path.join(state, 'daemon.pid'))) await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state]);
      await fs.rm(base, { recursive: true, force: true });
    }
  });

  test('up refuses a scope outside 0–3', async () => {
    const r = await sh('npm', ['run', '-s', 'cluster', '--', 'up', '--manifests', 'x', '--state', '/tmp/none', '--ptrace-scope', '4']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ptrace scope must be 0, 1, 2 or 3 (got 4)');
  });
});
