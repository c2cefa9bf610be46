/**
 * Ephemeral containers, Pod Security admission, RBAC on pods/ephemeralcontainers and
 * deployments/scale, driven by the real kubectl: the Cloud SDK's 1.27 and 1.32 and Debian
 * testing's 1.36 (npm run images fetches it). Runs `npm run cluster -- up/down` like users do.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { Pod } from './api/objects';
import { imageRoot } from './images/images';
import { cachedDebianKubectls } from './images/kubectl';
import { probeRemoteExec, type ProbeVerdict } from './ptraceProbe';

const canRun = process.getuid?.() === 0 && existsSync(path.join(imageRoot('wand-test/python:3.14'), 'usr/bin/python3'));
if (!canRun && process.env.CI === 'true') throw new Error('cluster tests need root and the test images (npm run images)');
jest.setTimeout(120_000);

/** kubectl 1.<minor>: the Cloud SDK's versioned binaries, or Debian testing's for 1.36+ */
function kubectlBinary(minor: number): string | undefined {
  if (minor >= 36) return cachedDebianKubectls().find((k) => k.minor >= minor)?.path;
  try {
    const sdk = path.dirname(realpathSync(execFileSync('which', ['kubectl']).toString().trim()));
    const candidate = path.join(sdk, `kubectl.1.${minor}`);
    return existsSync(candidate) ? candidate : undefined;
  } catch {
    return undefined;
  }
}

const CLIENTS = [27, 32, 36].map((minor) => ({ minor, path: kubectlBinary(minor) }));
const missing = CLIENTS.filter((c) => !c.path).map((c) => `1.${c.minor}`);
if (canRun && missing.length && process.env.CI === 'true') throw new Error(`kubectl ${missing.join(', ')} not found (npm run images fetches 1.36)`);
const run = canRun && !missing.length ? describe : describe.skip;
const kubectl = (minor: number): string => CLIENTS.find((c) => c.minor === minor)!.path!;

/** containerd's default set for a root container (runtime/security.ts DEFAULT_CAPABILITIES) */
const CONTAINERD_DEFAULT_CAPS = 0xa80425fbn;
const CAP_SYS_PTRACE = 19n;
const CAP_SYS_ADMIN = 21n;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeout = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: wand-eph }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: src, namespace: wand-eph }
data:
  marker.txt: only-in-the-app-container
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: app, namespace: wand-eph }
spec:
  replicas: 1
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: wand-test/python:3.14
          command: [python3, -m, http.server, "8000", --bind, 127.0.0.1]
          volumeMounts: [{ name: src, mountPath: /app }]
      volumes: [{ name: src, configMap: { name: src } }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: nonroot, namespace: wand-eph }
spec:
  replicas: 1
  selector: { matchLabels: { app: nonroot } }
  template:
    metadata: { labels: { app: nonroot } }
    spec:
      terminationGracePeriodSeconds: 1
      securityContext: { runAsUser: 1000, runAsGroup: 1000 }
      containers:
        - name: app
          image: wand-test/python:3.14
          command: [python3, -m, http.server, "8000", --bind, 127.0.0.1]
---
apiVersion: v1
kind: Namespace
metadata:
  name: wand-eph-baseline
  labels: { pod-security.kubernetes.io/enforce: baseline }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: wand-eph-baseline }
spec:
  replicas: 1
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: wand-test/python:3.14
          command: [python3, -m, http.server, "8000", --bind, 127.0.0.1]
---
apiVersion: v1
kind: Namespace
metadata:
  name: wand-eph-restricted
  labels: { pod-security.kubernetes.io/enforce: restricted }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: rootful, namespace: wand-eph-restricted }
spec:
  replicas: 1
  selector: { matchLabels: { app: rootful } }
  template:
    metadata: { labels: { app: rootful } }
    spec:
      containers:
        - name: app
          image: wand-test/python:3.14
          command: [python3, -m, http.server, "8000", --bind, 127.0.0.1]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: locked, namespace: wand-eph-restricted }
spec:
  replicas: 1
  selector: { matchLabels: { app: locked } }
  template:
    metadata: { labels: { app: locked } }
    spec:
      terminationGracePeriodSeconds: 1
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: app
          image: wand-test/python:3.14
          command: [python3, -m, http.server, "8000", --bind, 127.0.0.1]
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`;

/**
 * First statement of a `kubectl debug -i` command that would print without reading stdin: wait for
 * a line from the attached client (send one). Output written before the attach connects is not
 * replayed, by containerd either, so a quick command could lose it; and kubectl debug sets no
 * stdinOnce, so the client's EOF does not reach the container.
 */
const AFTER_ATTACH = 'import sys; sys.stdin.readline()';
/** CapEff of the process that prints it, as a bigint */
const PRINT_CAPEFF = "print('CapEff', open('/proc/self/status').read().split('CapEff:')[1].split()[0])";
function capEff(output: string): bigint {
  const m = /CapEff ([0-9a-f]{16})/.exec(output);
  if (!m) throw new Error(`no CapEff in ${JSON.stringify(output)}`);
  return BigInt(`0x${m[1]}`);
}
const hasCap = (caps: bigint, bit: bigint): boolean => ((caps >> bit) & 1n) === 1n;

let nameCounter = 0;
const uniqueName = (prefix: string): string => `${prefix}-${process.pid % 1000}-${++nameCounter}`;

/** Processes whose command line contains marker (what an ephemeral container would leave) */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

function processesUnder(dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      // a container's root is its mount namespace's root ("/" from here): its mounts name the dir
      return [readlinkSync(`/proc/${p}/root`), readlinkSync(`/proc/${p}/cwd`)].some((l) => l.startsWith(dir)) ||
        readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(dir);
    } catch {
      return false;
    }
  }).map(Number);
}

async function waitFor<T>(label: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

run('ephemeral containers, Pod Security, RBAC and scale with the real kubectl', () => {
  let base: string;
  let state: string;
  let env: NodeJS.ProcessEnv;

  const k = (minor: number, args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) => sh(kubectl(minor), args, { ...env, ...extraEnv }, input);
  const podOf = async (namespace: string, app: string): Promise<string> => {
    const r = await k(32, ['get', 'pods', '-n', namespace, '-l', `app=${app}`, '-o', 'json']);
    const pods = (JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string; deletionTimestamp?: string } }> }).items;
    return pods.filter((p) => !p.metadata.deletionTimestamp)[0].metadata.name;
  };
  const ephemeralStatus = async (namespace: string, pod: string, container: string) => {
    const r = await k(32, ['get', 'pod', '-n', namespace, pod, '-o', 'json']);
    const statuses = (JSON.parse(r.stdout) as { status: { ephemeralContainerStatuses?: Array<{ name: string; state: Record<string, { exitCode?: number; reason?: string }> }> } }).status.ephemeralContainerStatuses ?? [];
    return statuses.find((s) => s.name === container);
  };

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-eph-'));
    state = path.join(base, 'state');
    await fs.writeFile(path.join(base, 'eph.yaml'), MANIFESTS);
    const up = await sh('npm', ['run', '-s', 'cluster', '--', 'up', '--manifests', path.join(base, 'eph.yaml'), '--state', state], process.env);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    env = { ...process.env, KUBECONFIG: path.join(state, 'kubeconfig'), HOME: base };
  });

  afterAll(async () => {
    if (state && existsSync(path.join(state, 'daemon.pid'))) await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state], process.env);
    await fs.rm(base, { recursive: true, force: true });
  });

  describe.each([
    [27, 'SPDY', {}],
    [32, 'WebSocket', {}],
    [32, 'SPDY', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
    [36, 'WebSocket', {}],
    [36, 'SPDY', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
  ])('kubectl 1.%i debug -i over %s', (minor, _transport, transportEnv) => {
    test('--profile general: the image runs in the target\'s PID namespace with SYS_PTRACE, stdin and output attached', async () => {
      const pod = await podOf('wand-eph', 'app');
      const name = uniqueName('dbg');
      const script = [
        'import os, sys',
        'line = sys.stdin.readline()',
        "print('got', line.strip().upper())",
        PRINT_CAPEFF,
        "print('pid1', open('/proc/1/cmdline').read().replace(chr(0), ' ').strip())",
        "print('own /app', os.path.exists('/app'), 'target /app', open('/proc/1/root/app/marker.txt').read())",
        "print('err-line', file=sys.stderr)",
      ].join('\n');
      const r = await k(minor, ['debug', '-i', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'general', '-c', name,
        '--', 'python3', '-c', script], `hello ${minor}\n`, transportEnv);
      expect(r.stderr).not.toMatch(/error|warning: couldn't attach/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`got HELLO ${minor}`);
      expect(r.stdout).toContain('pid1 python3 -m http.server 8000 --bind 127.0.0.1');
      expect(r.stdout).toContain('own /app False target /app only-in-the-app-container');
      expect(r.stderr).toContain('err-line');
      // general adds SYS_PTRACE to containerd's default set
      expect(capEff(r.stdout)).toBe(CONTAINERD_DEFAULT_CAPS | (1n << CAP_SYS_PTRACE));
      const status = await waitFor('terminated', async () => (await ephemeralStatus('wand-eph', pod, name))?.state.terminated && ephemeralStatus('wand-eph', pod, name));
      expect(status.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    });

    test('sys.remote_exec from the ephemeral container into the app (PID 1 of the target)', async () => {
      const pod = await podOf('wand-eph', 'app');
      const r = await k(minor, ['debug', '-i', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'general', '-c', uniqueName('rx'),
        '--', 'python3', '-c', `${AFTER_ATTACH}; sys.remote_exec(1, '/dev/null'); print('remote_exec ok')`], '\n', transportEnv);
      expect(`${r.stdout}${r.stderr}`).toContain('remote_exec ok');
    });
  });

  test('status: nothing after the PATCH, then waiting (ContainerCreating) → running → terminated with the exit code; never restarted', async () => {
    const pod = await podOf('wand-eph', 'app');
    const name = uniqueName('tx');
    const watch = spawn(kubectl(32), ['get', 'pod', '-n', 'wand-eph', pod, '--watch', '-o', 'json'], { env });
    let seen = '';
    watch.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    try {
      await waitFor('the watch', async () => (seen.length > 0 ? true : undefined));
      const r = await k(32, ['debug', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '-c', name,
        '--', 'python3', '-c', 'import time; time.sleep(1); raise SystemExit(3)']);
      expect(r.code).toBe(0);
      await waitFor('terminated', async () => (/"terminated"/.test(seen) ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a restart would show up here
    } finally {
      watch.kill();
    }
    // one pretty-printed Pod per event
    const events = seen.split(/^}$/m).filter((text) => text.trim()).map((text) => JSON.parse(`${text}}`) as Pod);
    const states = events.map((p) => {
      const status = p.status.ephemeralContainerStatuses?.find((s) => s.name === name);
      if (!status) return 'none';
      const [state] = Object.keys(status.state);
      return state === 'waiting' ? `waiting:${status.state.waiting?.reason}` : state;
    });
    const transitions = states.filter((s, i) => s !== states[i - 1]);
    expect(transitions).toEqual(['none', 'waiting:ContainerCreating', 'running', 'terminated']);
    const status = await ephemeralStatus('wand-eph', pod, name);
    expect(status?.state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  test('kubectl exec -c into a running ephemeral container; /proc/PID/root reaches the target\'s files; refused once it has exited', async () => {
    const pod = await podOf('wand-eph', 'app');
    const name = uniqueName('sleeper');
    const marker = `${name}-marker`;
    expect((await k(32, ['debug', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '-c', name,
      '--', 'python3', '-c', `import time, sys; sys.argv.append("${marker}"); time.sleep(3600)`, marker])).code).toBe(0);
    await waitFor('running', async () => ((await ephemeralStatus('wand-eph', pod, name))?.state.running ? true : undefined));
    for (const minor of [27, 36]) {
      const r = await k(minor, ['exec', '-n', 'wand-eph', pod, '-c', name, '--', 'python3', '-c',
        "import os; print(sorted(os.listdir('/proc/1/root/app'))); print(open('/proc/1/root/app/marker.txt').read())"]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe("['marker.txt']\nonly-in-the-app-container\n");
    }
    expect(processesWith(marker).length).toBeGreaterThan(0);
    // it terminates when its process exits
    expect((await k(32, ['exec', '-n', 'wand-eph', pod, '-c', name, '--', 'python3', '-c',
      `import os, signal; [os.kill(int(p), signal.SIGTERM) for p in os.listdir('/proc') if p.isdigit() and p != str(os.getpid()) and "${marker}" in open(f'/proc/{p}/cmdline').read()]`])).code).toBe(0);
    await waitFor('terminated', async () => ((await ephemeralStatus('wand-eph', pod, name))?.state.terminated ? true : undefined));
    const after = await k(32, ['exec', '-n', 'wand-eph', pod, '-c', name, '--', 'true']);
    expect(after.code).not.toBe(0);
    // the kubelet's GetExec wording (pkg/kubelet/kubelet_pods.go), as a 500 kubectl cannot upgrade
    expect(after.stderr).toContain(`error: unable to upgrade connection: container not found ("${name}")`);
  });

  test.each([
    [32, {}],
    [32, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
    [36, {}],
  ])('kubectl 1.%i attach -i to an ephemeral container started with -i --attach=false (%j)', async (minor, transportEnv) => {
    const pod = await podOf('wand-eph', 'app');
    const name = uniqueName('att');
    const created = await k(minor, ['debug', '-i', '--attach=false', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '-c', name,
      '--', 'python3', '-c', "import sys; print('echo', sys.stdin.readline().strip(), flush=True)"]);
    expect(created.code).toBe(0);
    await waitFor('running', async () => ((await ephemeralStatus('wand-eph', pod, name))?.state.running ? true : undefined));
    const r = await k(minor, ['attach', '-i', '-n', 'wand-eph', pod, '-c', name], 'ping\n', transportEnv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('echo ping');
  });

  test('an ephemeral container can be neither removed nor changed (merge patch, PUT), as the API server refuses it', async () => {
    const pod = await podOf('wand-eph', 'app');
    const name = uniqueName('keep');
    expect((await k(32, ['debug', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '-c', name, '--', 'true'])).code).toBe(0);
    const config = parse(readFileSync(path.join(state, 'kubeconfig'), 'utf8')) as {
      clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
      users: Array<{ name: string; user: { token: string } }>;
    };
    const url = `${config.clusters[0].cluster.server}/api/v1/namespaces/wand-eph/pods/${pod}/ephemeralcontainers`;
    const call = (method: string, contentType: string, body: unknown) => new Promise<{ code: number; json: { message: string; reason: string } }>((resolve, reject) => {
      const req = request(url, {
        method,
        ca: Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64'),
        headers: { Authorization: `Bearer ${config.users.find((u) => u.name === 'wand-test')!.user.token}`, 'Content-Type': contentType },
      }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, json: JSON.parse(text) as { message: string; reason: string } }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    const removal = await call('PATCH', 'application/merge-patch+json', { spec: { ephemeralContainers: [] } });
    expect(removal.code).toBe(422);
    expect(removal.json.reason).toBe('Invalid');
    expect(removal.json.message.startsWith(`Pod "${pod}" is invalid: `)).toBe(true);
    expect(removal.json.message).toContain(`spec.ephemeralContainers: Forbidden: existing ephemeral containers "${name}" may not be removed`);
    const current = JSON.parse((await k(32, ['get', 'pod', '-n', 'wand-eph', pod, '-o', 'json'])).stdout) as { spec: { ephemeralContainers: Array<{ name: string; command: string[] }> } };
    for (const c of current.spec.ephemeralContainers) if (c.name === name) c.command = ['false'];
    const change = await call('PUT', 'application/json', current);
    expect(change.code).toBe(422);
    expect(change.json.message).toContain(`existing ephemeral containers "${name}" may not be changed`);
    const strategicDelete = await call('PATCH', 'application/strategic-merge-patch+json', { spec: { ephemeralContainers: [{ name, $patch: 'delete' }] } });
    expect(strategicDelete.code).toBe(422);
  });

  test.each([27, 32, 36])('Pod Security baseline refuses kubectl 1.%i debug --profile general with the API server\'s message', async (minor) => {
    const pod = await podOf('wand-eph-baseline', 'api');
    const name = uniqueName('debugger');
    const r = await k(minor, ['debug', '-n', 'wand-eph-baseline', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'general', '-c', name, '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Error from server (Forbidden): pods "${pod}" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "${name}" must not include "SYS_PTRACE" in securityContext.capabilities.add)`);
    const allowed = await k(minor, ['debug', '-i', '-n', 'wand-eph-baseline', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'baseline', '-c', uniqueName('ok'),
      '--', 'python3', '-c', `${AFTER_ATTACH}; ${PRINT_CAPEFF}`], '\n');
    expect(allowed.code).toBe(0);
    expect(capEff(allowed.stdout)).toBe(CONTAINERD_DEFAULT_CAPS); // no SYS_PTRACE
  });

  test('Pod Security restricted: a root Deployment gets no pod (ReplicaFailure with the admission message); kubectl debug --profile restricted passes', async () => {
    const deploy = JSON.parse((await k(32, ['get', 'deploy', '-n', 'wand-eph-restricted', 'rootful', '-o', 'json'])).stdout) as {
      status: { conditions?: Array<{ type: string; reason: string; message: string }> };
    };
    const failure = deploy.status.conditions?.find((c) => c.type === 'ReplicaFailure');
    expect(failure?.reason).toBe('FailedCreate');
    expect(failure?.message).toMatch(/^pods "rootful-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "app" must set securityContext\.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "app" must set securityContext\.capabilities\.drop=\["ALL"\]\), runAsNonRoot != true \(pod or container "app" must set securityContext\.runAsNonRoot=true\), seccompProfile \(pod or container "app" must set securityContext\.seccompProfile\.type to "RuntimeDefault" or "Localhost"\)$/);
    expect((await k(32, ['get', 'pods', '-n', 'wand-eph-restricted', '-l', 'app=rootful', '-o', 'name'])).stdout).toBe('');

    const pod = await podOf('wand-eph-restricted', 'locked');
    const general = await k(32, ['debug', '-n', 'wand-eph-restricted', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'general', '-c', 'gen', '--', 'true']);
    expect(general.stderr).toContain(`pods "${pod}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "gen" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "gen" must set securityContext.capabilities.drop=["ALL"]; container "gen" must not include "SYS_PTRACE" in securityContext.capabilities.add)`);
    // kubectl 1.27's restricted profile does not set allowPrivilegeEscalation=false yet (1.28 does):
    // a restricted namespace refuses it, as a real API server does
    const old = await k(27, ['debug', '-n', 'wand-eph-restricted', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'restricted', '-c', 'rs127', '--', 'true']);
    expect(old.stderr).toContain(`pods "${pod}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "rs127" must set securityContext.allowPrivilegeEscalation=false)`);
    for (const minor of [32, 36]) {
      const r = await k(minor, ['debug', '-i', '-n', 'wand-eph-restricted', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'restricted', '-c', uniqueName('rs'),
        '--', 'python3', '-c', `${AFTER_ATTACH}; import os; print('uid', os.getuid()); ${PRINT_CAPEFF}`], '\n');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('uid 1000');
      expect(capEff(r.stdout)).toBe(0n);
    }
  });

  test('sysadmin profile (1.36): privileged, every capability', async () => {
    const pod = await podOf('wand-eph', 'app');
    const r = await k(36, ['debug', '-i', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'sysadmin', '-c', uniqueName('sa'),
      '--', 'python3', '-c', `${AFTER_ATTACH}; ${PRINT_CAPEFF}`], '\n');
    expect(r.code).toBe(0);
    const caps = capEff(r.stdout);
    expect(hasCap(caps, CAP_SYS_PTRACE) && hasCap(caps, CAP_SYS_ADMIN)).toBe(true);
  });

  test('without a profile flag (legacy) a root ephemeral container has containerd\'s default set, no SYS_PTRACE', async () => {
    const pod = await podOf('wand-eph', 'app');
    const r = await k(32, ['debug', '-i', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '-c', uniqueName('legacy'), '--', 'python3', '-c', `${AFTER_ATTACH}; ${PRINT_CAPEFF}`], '\n');
    expect(capEff(r.stdout)).toBe(CONTAINERD_DEFAULT_CAPS);
  });

  test.each([27, 32, 36])('RBAC: kubectl 1.%i with a context that may exec but not patch pods/ephemeralcontainers', async (minor) => {
    const pod = await podOf('wand-eph', 'app');
    const ctx = ['--context', 'wand-test-nodebug'];
    expect((await k(minor, [...ctx, 'auth', 'can-i', 'patch', 'pods', '--subresource', 'ephemeralcontainers', '-n', 'wand-eph'])).stdout.trim()).toBe('no');
    expect((await k(minor, [...ctx, 'auth', 'can-i', 'create', 'pods', '--subresource', 'exec', '-n', 'wand-eph'])).stdout.trim()).toBe('yes');
    expect((await k(minor, [...ctx, 'exec', '-n', 'wand-eph', pod, '--', 'true'])).code).toBe(0);
    const r = await k(minor, [...ctx, 'debug', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Error from server (Forbidden): pods "${pod}" is forbidden: User "nodebug" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "wand-eph"`);
  });

  test.each([27, 32, 36])('kubectl 1.%i scale deploy/nonroot up to 3 and back to 1: the controller follows', async (minor) => {
    const running = async (): Promise<string[]> => {
      const r = await k(32, ['get', 'pods', '-n', 'wand-eph', '-l', 'app=nonroot', '-o', 'json']);
      return (JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }> }).items
        .filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    };
    const before = await running();
    expect(before).toHaveLength(1);
    const up = await k(minor, ['scale', '-n', 'wand-eph', 'deploy/nonroot', '--replicas', '3']);
    expect(up.stdout.trim()).toBe('deployment.apps/nonroot scaled');
    const three = await waitFor('3 pods', async () => {
      const pods = await running();
      return pods.length === 3 ? pods : undefined;
    });
    expect(three).toEqual(expect.arrayContaining(before));
    const down = await k(minor, ['scale', '-n', 'wand-eph', 'deploy/nonroot', '--replicas=1', '--current-replicas=3']);
    expect(down.stdout.trim()).toBe('deployment.apps/nonroot scaled');
    await waitFor('1 pod left', async () => {
      const r = await k(32, ['get', 'pods', '-n', 'wand-eph', '-l', 'app=nonroot', '-o', 'name']);
      return r.stdout.trim().split('\n').length === 1 ? true : undefined;
    });
    // the newest go first (ReplicaSet's ActivePods ordering): the original pod stays
    expect(await running()).toEqual(before);
    const scaleJson = JSON.parse((await k(minor, ['get', '--raw', '/apis/apps/v1/namespaces/wand-eph/deployments/nonroot/scale'])).stdout) as { kind: string; apiVersion: string; spec: { replicas: number }; status: { selector: string } };
    expect(scaleJson).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { selector: 'app=nonroot' } });
  });

  test('an ephemeral container goes with its pod, and nothing is left after down', async () => {
    const pod = await podOf('wand-eph', 'app');
    const name = uniqueName('doomed');
    const marker = `${name}-marker`;
    expect((await k(32, ['debug', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '-c', name,
      '--', 'python3', '-c', 'import time; time.sleep(3600)', marker])).code).toBe(0);
    await waitFor('running', async () => ((await ephemeralStatus('wand-eph', pod, name))?.state.running ? true : undefined));
    expect(processesWith(marker).length).toBeGreaterThan(0);
    expect((await k(32, ['delete', 'pod', '-n', 'wand-eph', pod])).code).toBe(0);
    expect(processesWith(marker)).toEqual([]);

    const second = await podOf('wand-eph', 'app');
    const marker2 = `${uniqueName('left')}-marker`;
    expect((await k(32, ['debug', '-n', 'wand-eph', second, '--image', 'wand-test/python:3.14', '--target', 'app',
      '--', 'python3', '-c', 'import time; time.sleep(3600)', marker2])).code).toBe(0);
    await waitFor('the second one runs', async () => (processesWith(marker2).length ? true : undefined));
    const down = await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state], process.env);
    expect(down.code).toBe(0);
    expect(processesWith(marker2)).toEqual([]);
    expect(processesUnder(state)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(state);
  });
});

/*
 * Issue 13's ptrace-scope criterion, both halves: under --ptrace-scope N, sys.remote_exec(1, ...)
 * through `kubectl exec` (containerd's default set, no CAP_SYS_PTRACE) and through `kubectl debug
 * --profile general` (CAP_SYS_PTRACE added) — 0: both; 1 and 2: only the ephemeral one (Yama lets
 * CAP_SYS_PTRACE through; exec is no ancestor of PID 1); 3: neither.
 */
run('sys.remote_exec through kubectl exec and kubectl debug --profile general under --ptrace-scope', () => {
  test.each([
    [1, { exec: 'PermissionError', ephemeral: 'allowed' }],
    [2, { exec: 'PermissionError', ephemeral: 'allowed' }],
    [3, { exec: 'PermissionError', ephemeral: 'PermissionError' }],
    [0, { exec: 'allowed', ephemeral: 'allowed' }],
  ] as Array<[number, { exec: ProbeVerdict; ephemeral: ProbeVerdict }]>)('scope %i', async (scope, expected) => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-yama-'));
    const state = path.join(base, 'state');
    await fs.writeFile(path.join(base, 'eph.yaml'), MANIFESTS);
    const up = await sh('npm', ['run', '-s', 'cluster', '--', 'up', '--manifests', path.join(base, 'eph.yaml'), '--state', state, '--ptrace-scope', String(scope)], process.env);
    expect(up.code).toBe(0);
    const kubeconfig = path.join(state, 'kubeconfig');
    try {
      const pods = JSON.parse((await sh(kubectl(32), ['get', 'pods', '-n', 'wand-eph', '-l', 'app=app', '-o', 'json'], { ...process.env, KUBECONFIG: kubeconfig })).stdout) as { items: Array<{ metadata: { name: string } }> };
      const pod = pods.items[0].metadata.name;
      const viaExec = await probeRemoteExec(kubeconfig, ['exec', '-n', 'wand-eph', pod], kubectl(32));
      expect([viaExec.verdict, viaExec.output]).toEqual([expected.exec, expect.anything()]);
      for (const minor of [27, 32, 36]) {
        const viaDebug = await probeRemoteExec(kubeconfig, ['debug', '-i', '-n', 'wand-eph', pod, '--image', 'wand-test/python:3.14', '--target', 'app', '--profile', 'general'], kubectl(minor));
        expect([minor, viaDebug.verdict, viaDebug.output]).toEqual([minor, expected.ephemeral, expect.anything()]);
      }
    } finally {
      await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state], process.env);
      await fs.rm(base, { recursive: true, force: true });
    }
  });
});
