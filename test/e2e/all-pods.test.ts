/**
 * Issue 16: `debug svc/api --all-pods` against every replica at once. Two replicas: one ready event
 * with both, each on its own local port in order, and a real DAP client on each port stops for a
 * request sent to that pod. `kubectl scale` to 3 during the session: the new pod joins on the next
 * port and stops too; back to 1: the dropped pods are reported and the remaining port still stops.
 * No polling while idle (one `kubectl get pods --watch`), one VS Code compound kept in step, and
 * Ctrl-C closes every pod's listener.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hitScenarioBreakpoint } from './support/scenario-debug';
import { SCENARIOS } from './support/apps';
import { e2eAvailable, startWandEnv, type WandChild, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(420_000);

const S = SCENARIOS['multi-replica'];

interface Target {
  pod: string;
  pid: number;
  localPort: number;
  remotePort: number;
}
interface LaunchJson {
  configurations: Array<{ name: string; connect: { port: number } }>;
  compounds?: Array<{ name: string; configurations: string[] }>;
}

/** `count` consecutive local ports nobody listens on, for checking that ports are handed out in order */
async function freePorts(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let base = 20000 + Math.floor(Math.random() * 20000); ; base += count) {
    const all = await Promise.all(Array.from({ length: count }, (_, i) => free(base + i)));
    if (all.every(Boolean)) return base;
  }
}

/** kubectl children still running for the namespace (port-forwards, agent execs, the watch) */
function kubectlLeft(namespace: string): string[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('kubectl')) && argv.includes(namespace) && !argv.includes('scale') ? [argv.join(' ')] : [];
    } catch {
      return [];
    }
  });
}

/** the TCP ports in LISTEN in the pod's network namespace (/proc/net/tcp, tcp6) */
async function listeningIn(env: WandEnv, pod: string): Promise<number[]> {
  const code = "import sys\nfor p in ('/proc/net/tcp', '/proc/net/tcp6'):\n    for l in open(p).read().splitlines()[1:]:\n        f = l.split()\n        if f[3] == '0A': print(int(f[1].rsplit(':', 1)[1], 16))";
  const r = await env.kubectl(['exec', '-n', S.namespace, pod, '-c', S.container, '--', 'python3', '-c', code]);
  expect(r.code).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

run('kubectl wand debug --all-pods (issue 16)', () => {
  let env: WandEnv;
  let child: WandChild | undefined;
  const vscodeDir = mkdtempSync(path.join(os.tmpdir(), 'wand-allpods-vscode-'));

  beforeAll(async () => {
    env = await startWandEnv([S.manifest]);
    await scaleTo(2);
  });
  afterAll(async () => {
    if (child && child.child.exitCode === null && child.child.pid) process.kill(-child.child.pid, 'SIGKILL');
    rmSync(vscodeDir, { recursive: true, force: true });
    await env?.stop();
  });

  /** scales the deployment and waits until exactly `n` pods exist (none terminating), Running and serving */
  async function scaleTo(n: number): Promise<void> {
    const r = await env.kubectl(['scale', S.workload, '-n', S.namespace, `--replicas=${n}`]);
    expect(r.code).toBe(0);
    const settled = () => {
      const pods = env.cluster.pods(S.namespace);
      return pods.length === n && pods.every((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    };
    for (let i = 0; i < 600 && !settled(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled()).toBe(true);
    await env.waitServing([S.namespace], 8000);
  }

  /** a DAP client on the target's local port stops for a request sent to its pod */
  async function stopsOn(target: Target): Promise<void> {
    const hit = await hitScenarioBreakpoint(env, S, { pod: target.pod, targets: [target] });
    expect(hit.stoppedLine).toBe(S.breakpointLine);
    expect(hit.evaluated).toBe(S.expectedValue);
    expect(hit.requestCompleted).toBe(true);
  }

  const launchJson = () => JSON.parse(readFileSync(path.join(vscodeDir, 'launch.json'), 'utf8')) as LaunchJson;
  async function compoundHas(ports: number[]): Promise<void> {
    const wanted = JSON.stringify([...ports].sort());
    let seen = '';
    for (let i = 0; i < 50; i++) {
      if (existsSync(path.join(vscodeDir, 'launch.json'))) {
        const file = launchJson();
        seen = JSON.stringify(file.configurations.map((c) => c.connect.port).sort());
        if (seen === wanted) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const file = launchJson();
    expect(seen).toBe(wanted);
    expect(file.compounds).toEqual([{ name: `wand: service/${S.service} (all pods)`, configurations: file.configurations.map((c) => c.name) }]);
  }

  test('--all-pods with --pod or --pid is a usage error (exit 2), before any kubectl call', async () => {
    for (const extra of [['--pod', 'api-'], ['--pid', '1']]) {
      const r = await env.wand(['debug', `svc/${S.service}`, '-n', S.namespace, '--all-pods', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--all-pods/);
      expect(r.kubectlCalls).toEqual([]);
    }
  });

  test('2 replicas, scaled to 3 then 1: every pod attached on its own port, joined and dropped as it comes and goes', async () => {
    const base = await freePorts(4);
    child = env.spawnWand(['debug', `svc/${S.service}`, '-n', S.namespace, '--all-pods', '--local-port', String(base), '--vscode', vscodeDir, '-o', 'json']);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 120_000)) as unknown as { allPods: boolean; targets: Target[]; pods: Array<{ pod: string }> };
    // one ready event for both pods, ports in order, the same remote port in every pod
    expect(ready.allPods).toBe(true);
    expect(ready.targets).toHaveLength(2);
    expect(ready.targets.map((t) => t.localPort)).toEqual([base, base + 1]);
    expect(new Set(ready.targets.map((t) => t.remotePort))).toEqual(new Set([5679]));
    expect(new Set(ready.targets.map((t) => t.pod)).size).toBe(2);
    expect(ready.pods.map((p) => p.pod).sort()).toEqual(ready.targets.map((t) => t.pod).sort());
    await compoundHas([base, base + 1]);
    for (const target of ready.targets) await stopsOn(target);

    // idle: no polling, one watch
    const callsBefore = child.kubectlCalls().length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(child.kubectlCalls()).toHaveLength(callsBefore);
    expect(child.kubectlCalls().filter((c) => c.includes('--watch'))).toHaveLength(1);

    await scaleTo(3);
    const joined = (await child.nextEvent((e) => e.event === 'pod-joined', 120_000)) as unknown as { pod: string; targets: Array<Omit<Target, 'pod'>> };
    expect(ready.targets.map((t) => t.pod)).not.toContain(joined.pod);
    expect(joined.targets.map((t) => t.localPort)).toEqual([base + 2]);
    await compoundHas([base, base + 1, base + 2]);
    await stopsOn({ pod: joined.pod, ...(joined.targets[0] as Omit<Target, 'pod'>) });

    await scaleTo(1);
    const dropped = [
      (await child.nextEvent((e) => e.event === 'pod-dropped', 60_000)) as unknown as { pod: string; remaining: number },
      (await child.nextEvent((e) => e.event === 'pod-dropped', 60_000)) as unknown as { pod: string; remaining: number },
    ];
    const all: Target[] = [...ready.targets, { pod: joined.pod, ...(joined.targets[0] as Omit<Target, 'pod'>) }];
    const left = all.filter((t) => !dropped.some((d) => d.pod === t.pod));
    expect(left).toHaveLength(1);
    expect(left[0]?.pod).toBe(env.podName(S.namespace));
    expect(child.stderr()).toMatch(new RegExp(`pod ${dropped[0]?.pod} dropped`));
    await compoundHas([left[0]!.localPort]);
    // the session goes on: the remaining port still stops
    await stopsOn(left[0]!);

    expect(await listeningIn(env, left[0]!.pod)).toContain(5679);
    expect(kubectlLeft(S.namespace).some((c) => c.includes('--watch'))).toBe(true); // the check below sees the session's children
    child.interrupt();
    expect(await child.exited).toBe(0);
    // nothing left: no listener in the pod, no kubectl child, no local port
    expect(await listeningIn(env, left[0]!.pod)).not.toContain(5679);
    expect(kubectlLeft(S.namespace)).toEqual([]);
    const stopped = child.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'stopped') as { closed: unknown[] };
    expect(stopped.closed).toEqual([{ pod: left[0]!.pod, pid: left[0]!.pid, closed: true, reason: 'closed', port: 5679 }]);
    for (const t of all) expect(await refused(t.localPort)).toBe(true);
    expect(child.stderr()).toMatch(new RegExp(`pod ${left[0]!.pod} PID ${left[0]!.pid}: debugger closed`));
  });
});
