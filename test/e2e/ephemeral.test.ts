/**
 * The ephemeral route on a node like Ubuntu's or Bottlerocket's (Yama ptrace_scope=1, containerd's
 * default capabilities): `kubectl exec` may not trace the app, so debug attaches from a debugger
 * container that the real `kubectl debug --profile general` adds, and a real DAP client stops on a
 * breakpoint through it. Ctrl-C ends the container's process; the app keeps serving.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attachAndHitBreakpoint } from './support/dap';
import { localDebugpyDir } from './support/local-debugpy';
import { SCENARIOS, type Scenario } from './support/apps';
import { httpGetInPod } from './support/http-in-pod';
import { debugArgs, hitScenarioBreakpoint } from './support/scenario-debug';
import { e2eAvailable, REAL_CONTEXT, startWandEnv, type WandChild, type WandEnv } from './support/wand-env';

const run = e2eAvailable() && !REAL_CONTEXT ? describe : describe.skip;
jest.setTimeout(180_000);

const APP = SCENARIOS['fastapi-uvicorn-reload'];
const SLIM = SCENARIOS['slim-nonroot'];
const GUNICORN = SCENARIOS['gunicorn-2-workers'];
const TWO = SCENARIOS['two-container/annotated'];
const PY313 = SCENARIOS['py313'];
const PSA_NAMESPACE = 'wand-psa';
const SHARED_NAMESPACE = 'wand-shared-pid';

/** The machine's kubectl 1.27 (the Cloud SDK ships versioned binaries next to kubectl), if any. */
function kubectl127(): string | undefined {
  try {
    const sdk = path.dirname(realpathSync(execFileSync('which', ['kubectl']).toString().trim()));
    const candidate = path.join(sdk, 'kubectl.1.27');
    return existsSync(candidate) ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** The uvicorn app again in `namespace`, its manifest changed by `edit`. */
function appManifestIn(namespace: string, edit: (text: string) => string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), `${namespace}-`)), 'app.yaml');
  writeFileSync(file, edit(readFileSync(APP.manifest, 'utf8').split('wand-uvicorn').join(namespace)));
  return file;
}

/** The uvicorn app again in a namespace that enforces Pod Security baseline. */
function psaManifest(): string {
  return appManifestIn(PSA_NAMESPACE, (text) => text.replace(/(kind: Namespace\nmetadata:\n  name: wand-psa\n  labels:\n)/, '$1    pod-security.kubernetes.io/enforce: baseline\n'));
}

/** The uvicorn app again in a pod with one PID namespace: PID 1 is the sandbox's (pause's), not the app's. */
function sharedPidManifest(): string {
  return appManifestIn(SHARED_NAMESPACE, (text) => text.replace(/(\n    spec:\n)/, '$1      shareProcessNamespace: true\n'));
}

interface PodJson {
  spec: { ephemeralContainers?: Array<{ name: string }> };
  status: { ephemeralContainerStatuses?: Array<{ name: string; state: Record<string, unknown> }> };
}

run('a node with Yama ptrace_scope=1: the ephemeral route', () => {
  let env: WandEnv;
  const children: WandChild[] = [];

  beforeAll(async () => {
    env = await startWandEnv([APP.manifest, SLIM.manifest, GUNICORN.manifest, TWO.manifest, PY313.manifest, psaManifest()], { ptraceScope: 1 });
    await env.waitServing([APP.namespace, SLIM.namespace, GUNICORN.namespace, TWO.namespace, PY313.namespace, PSA_NAMESPACE], 8000, 90_000);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.pid) process.kill(-c.child.pid, 'SIGKILL');
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function podJson(pod: string, namespace = APP.namespace): Promise<PodJson> {
    const r = await env.kubectl(['get', 'pod', pod, '-n', namespace, '-o', 'json']);
    return JSON.parse(r.stdout) as PodJson;
  }

  /** The debugger container's state in the pod, polled until it shows terminated or `withinMs` passed. */
  async function terminatedWithin(pod: string, namespace: string, name: string, withinMs: number): Promise<Record<string, unknown> | undefined> {
    const since = Date.now();
    let state: Record<string, unknown> | undefined;
    while (Date.now() - since < withinMs) {
      state = (await podJson(pod, namespace)).status.ephemeralContainerStatuses?.find((s) => s.name === name)?.state;
      if (state?.terminated) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return state;
  }

  /** Ctrl-C: exit 0, the debugger container terminated within 5 s, and the app answers a request. */
  async function stopCleanly(child: WandChild, ready: { pod: string; debugContainer: string }, s: Scenario): Promise<void> {
    child.interrupt();
    expect(await child.exited).toBe(0);
    expect(await terminatedWithin(ready.pod, s.namespace, ready.debugContainer, 5_000)).toHaveProperty('terminated');
    // a real request, not a TCP connect: a main thread left stopped would still accept connections
    expect(await env.getApp(s, ready.pod, 10_000)).toContain(s.expectedValue);
  }

  type Ready = { pod: string; route: string; container: string; debugContainer: string; injector?: string | null; targets: Array<{ pid: number; localPort: number; reused?: boolean }> };

  test('--ephemeral never: the precise cause, exit 1, no debugger container', async () => {
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0', '--ephemeral', 'never']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Yama ptrace_scope=1/);
    expect(r.stderr).not.toMatch(/Traceback|PyRuntime/);
    expect((await podJson(env.podName(APP.namespace))).spec.ephemeralContainers ?? []).toEqual([]);
  });

  test('--all-pods takes the ephemeral route per pod: a breakpoint stops, Ctrl-C terminates the debugger container', async () => {
    const child = env.spawnWand(debugArgs(APP, ['--all-pods']));
    children.push(child);
    const all = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as {
      allPods: boolean; targets: Array<{ pod: string; localPort: number; pid: number }>; pods: Array<{ pod: string; route: string; debugContainer: string }>;
    };
    expect(all.allPods).toBe(true);
    expect(all.pods).toEqual([expect.objectContaining({ route: 'ephemeral', debugContainer: expect.stringMatching(/^wand-debug-[0-9a-f]{6}$/) })]);
    const ready: Ready = { pod: all.pods[0]!.pod, route: 'ephemeral', container: APP.container, debugContainer: all.pods[0]!.debugContainer, targets: all.targets };
    expect((await hitScenarioBreakpoint(env, APP, ready, { timeoutMs: 60_000 })).evaluated).toBe(APP.expectedValue);
    await stopCleanly(child, ready, APP);
  });

  test('auto: says so on stderr, stops on a breakpoint through the debugger container; Ctrl-C terminates it within 5 s', async () => {
    const child = env.spawnWand(debugArgs(APP));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as {
      pod: string; route: string; debugContainer: string; targets: Array<{ localPort: number }>;
    };
    expect(ready.route).toBe('ephemeral');
    expect(ready.debugContainer).toMatch(/^wand-debug-[0-9a-f]{6}$/);
    expect(child.stderr()).toMatch(/kubectl exec may not trace the app \(Yama ptrace_scope=1.*debugger container wand-debug-/);
    const hit = await hitScenarioBreakpoint(env, APP, ready);
    expect(hit.stoppedLine).toBe(APP.breakpointLine);
    const calls = child.kubectlCalls();
    expect(calls.filter((c) => c[0] === 'debug')).toHaveLength(1);
    expect(calls.find((c) => c[0] === 'debug')).toEqual(expect.arrayContaining(['--target', APP.container, '--profile', 'general', '-i']));

    await stopCleanly(child, ready, APP);
  });
  test('a second session while one runs reuses its debugger container (kubectl exec -c); both end cleanly', async () => {
    const child = env.spawnWand(debugArgs(APP));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as { pod: string; debugContainer: string };
    const before = (await podJson(ready.pod)).spec.ephemeralContainers?.length ?? 0;
    const ex = await env.wand(['exec', `pod/${ready.pod}`, '-n', APP.namespace, '--code', 'print("again")']);
    expect(ex).toMatchObject({ code: 0, stdout: 'again\n' });
    expect(ex.stderr).toContain(`reusing ${ready.debugContainer}`);
    expect((await podJson(ready.pod)).spec.ephemeralContainers?.length ?? 0).toBe(before);
    child.interrupt();
    expect(await child.exited).toBe(0);
  });

  test('reload: the new worker is re-injected through the same debugger container and stops', async () => {
    const child = env.spawnWand(debugArgs(APP));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as { pod: string; debugContainer: string; targets: Array<{ pid: number }> };
    const file = path.join(env.cluster.volumeDir(APP.namespace, ready.pod, 'src'), path.basename(APP.appFile));
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# touched by the ephemeral reload test\n`);
    const again = (await child.nextEvent((e) => e.event === 'reinjected', 30_000)) as { pod: string; route: string; debugContainer: string; targets: Array<{ pid: number; localPort: number }> };
    expect(again).toMatchObject({ route: 'ephemeral', debugContainer: ready.debugContainer });
    expect(again.targets[0]!.pid).not.toBe(ready.targets[0]!.pid);
    const hit = await hitScenarioBreakpoint(env, APP, again);
    expect(hit.stoppedLine).toBe(APP.breakpointLine);
    child.interrupt();
    expect(await child.exited).toBe(0);
  });

  test('gunicorn with 2 workers: both injected through one debugger container; each stops', async () => {
    const child = env.spawnWand(debugArgs(GUNICORN));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as { pod: string; route: string; targets: Array<{ localPort: number }> };
    expect(ready.route).toBe('ephemeral');
    expect(ready.targets).toHaveLength(2);
    for (const target of ready.targets) {
      const hit = await hitScenarioBreakpoint(env, GUNICORN, ready, { target });
      expect(hit.stoppedLine).toBe(GUNICORN.breakpointLine);
    }
    child.interrupt();
    expect(await child.exited).toBe(0);
  });

  test('RBAC without patch pods/ephemeralcontainers: the precise error naming the rule, exit 1, nothing added', async () => {
    const pod = env.podName(APP.namespace);
    const before = (await podJson(pod)).spec.ephemeralContainers?.length ?? 0;
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0', '--context', 'wand-test-nodebug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: forbidden: cannot patch pods\/ephemeralcontainers in namespace "wand-uvicorn"/m);
    expect(r.stderr).toMatch(/^hint: .*resources: \["pods\/ephemeralcontainers"\], verbs: \["patch"\].*kubectl auth can-i patch pods --subresource ephemeralcontainers/m);
    expect((await podJson(pod)).spec.ephemeralContainers?.length ?? 0).toBe(before);
  });

  test('Pod Security baseline: the precise error naming the level and namespace, exit 1, nothing added', async () => {
    const pod = env.podName(PSA_NAMESPACE);
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', PSA_NAMESPACE, '--local-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Pod Security "baseline" in namespace "wand-psa" refuses the debugger container/m);
    expect(r.stderr).toMatch(/^hint: .*pod-security\.kubernetes\.io\/enforce/m);
    const json = JSON.parse((await env.kubectl(['get', 'pod', pod, '-n', PSA_NAMESPACE, '-o', 'json'])).stdout) as PodJson;
    expect(json.spec.ephemeralContainers ?? []).toEqual([]);
  });

  test('slim uid-1000 image without debugpy: --custom runs the debugger container as root, debugpy is streamed, the breakpoint stops', async () => {
    const child = env.spawnWand(debugArgs(SLIM, ['--debugpy-from', localDebugpyDir()]));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as { pod: string; route: string; targets: Array<{ localPort: number }> };
    expect(ready.route).toBe('ephemeral');
    expect(child.kubectlCalls().find((c) => c.includes('debug'))).toContain('--custom');
    const hit = await hitScenarioBreakpoint(env, SLIM, ready);
    expect(hit.stoppedLine).toBe(SLIM.breakpointLine);
    child.interrupt();
    expect(await child.exited).toBe(0);
  });

  test('exec prints its output and stack shows the main thread, each through a debugger container', async () => {
    const ex = await env.wand(['exec', `svc/${APP.service}`, '-n', APP.namespace, '--code', 'print(6 * 7)']);
    expect(ex.stderr).toMatch(/debugger container|wand-debug-/);
    expect(ex).toMatchObject({ code: 0, stdout: '42\n' });
    const st = await env.wand(['stack', `svc/${APP.service}`, '-n', APP.namespace]);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^Thread \d+ \(main\):\n  \S+ \(/m);
  });

  // a two-container pod: the debugger container must target the app container; a 3.13 pod: the
  // ptrace injector runs in the debugger container, chrooted into the app's root
  test.each([
    ['a two-container pod', TWO, { container: TWO.container }],
    ['a Python 3.13 pod (ptrace injector)', PY313, { injector: 'ptrace' }],
  ] as const)('%s: stops on a breakpoint through the debugger container', async (_, s, expected) => {
    const child = env.spawnWand(debugArgs(s));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 120_000)) as Ready;
    expect(ready).toMatchObject({ route: 'ephemeral', ...expected });
    expect(child.kubectlCalls().find((c) => c[0] === 'debug')).toEqual(expect.arrayContaining(['--target', s.container]));
    const hit = await hitScenarioBreakpoint(env, s, ready, { timeoutMs: 60_000 });
    expect(hit).toMatchObject({ stoppedLine: s.breakpointLine, evaluated: s.expectedValue });
    await stopCleanly(child, ready, s);
  });

  test('the CLI killed (SIGKILL): the stdinOnce debugger container sees its input end, terminates; kubectl ends', async () => {
    const child = env.spawnWand(debugArgs(APP));
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as Ready;
    expect(child.kubectlCalls().find((c) => c[0] === 'debug')).toContain('--custom');
    // the CLI's process group (kubectl's plugin dispatcher and the plugin): the kubectl children it
    // started run in process groups of their own, and only see their stdin end
    process.kill(-child.child.pid!, 'SIGKILL');
    await child.exited;
    expect(await terminatedWithin(ready.pod, APP.namespace, ready.debugContainer, 15_000)).toHaveProperty('terminated');
    const orphans = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((line) => line.includes(ready.debugContainer));
    for (let i = 0; i < 50 && orphans().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(orphans()).toEqual([]);
    // the agent closed what it injected before it ended: its container's log says so
    const log = await env.kubectl(['logs', ready.pod, '-n', APP.namespace, '-c', ready.debugContainer]);
    expect(log.stdout + log.stderr).toContain(`kubectl-wand agent: input ended: process ${ready.targets[0]!.pid}: closed`);
    // a new session attaches through a debugger container of its own, to a listener it opens anew
    const again = env.spawnWand(debugArgs(APP));
    children.push(again);
    const next = (await again.nextEvent((e) => e.event === 'ready', 90_000)) as Ready;
    expect(next.debugContainer).not.toBe(ready.debugContainer);
    expect(next.targets.map((t) => t.reused)).toEqual([false]);
    await stopCleanly(again, next, APP);
  });

  test("the agent's attach dropped: the session reconnects through the ephemeral route and stops", async () => {
    const child = env.spawnWand(debugArgs(APP));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as Ready;
    expect(env.cluster.dropConnections(ready.pod, 'attach')).toBe(1);
    const again = (await child.nextEvent((e) => e.event === 'reconnected', 60_000)) as Ready;
    expect(again).toMatchObject({ pod: ready.pod, route: 'ephemeral' });
    // stdinOnce: the dropped attach ended the first container's agent; the session added its own again
    expect(again.debugContainer).not.toBe(ready.debugContainer);
    expect(await terminatedWithin(ready.pod, APP.namespace, ready.debugContainer, 5_000)).toHaveProperty('terminated');
    const hit = await hitScenarioBreakpoint(env, APP, again, { timeoutMs: 60_000 });
    expect(hit.stoppedLine).toBe(APP.breakpointLine);
    await stopCleanly(child, again, APP);
  });

  test('pod deleted: the session follows to the replacement pod with its own debugger container, and stops there', async () => {
    const child = env.spawnWand(debugArgs(APP));
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as Ready;
    expect(ready.route).toBe('ephemeral');
    env.cluster.deletePod(APP.namespace, ready.pod, 1);
    const moved = (await child.nextEvent((e) => e.event === 'reconnected', 120_000)) as Ready;
    expect(moved.pod).not.toBe(ready.pod);
    expect(moved.route).toBe('ephemeral');
    expect((await podJson(moved.pod)).spec.ephemeralContainers?.map((c) => c.name)).toEqual([moved.debugContainer]);
    expect(child.kubectlCalls().filter((c) => c[0] === 'debug').map((c) => c[1])).toEqual([ready.pod, moved.pod]);
    const hit = await hitScenarioBreakpoint(env, APP, moved, { timeoutMs: 60_000 });
    expect(hit.stoppedLine).toBe(APP.breakpointLine);
    await stopCleanly(child, moved, APP);
  });

  (kubectl127() ? test : test.skip)('kubectl 1.27 (no --custom): a root app works through kubectl debug; the uid-1000 app gets the precise error, nothing added', async () => {
    const env127 = { KUBECTL_PATH: kubectl127()! };
    const appPod = env.podName(APP.namespace);
    const had = (await podJson(appPod)).spec.ephemeralContainers?.length ?? 0;
    const ex = await env.wand(['exec', `svc/${APP.service}`, '-n', APP.namespace, '--code', 'print(1 + 1)'], { env: env127 });
    expect(ex).toMatchObject({ code: 0, stdout: '2\n' });
    // --custom is tried first (no version call for kubectl 1.31+): 1.27 refuses the flag before it
    // calls the API server, so only the retry without it added a container (no stdinOnce then)
    const added = ((await podJson(appPod)).spec.ephemeralContainers ?? []).slice(had) as Array<{ name: string; stdinOnce?: boolean }>;
    expect(added).toHaveLength(1);
    expect(added[0]!.stdinOnce ?? false).toBe(false);
    const slimPod = env.podName(SLIM.namespace);
    const before = JSON.parse((await env.kubectl(['get', 'pod', slimPod, '-n', SLIM.namespace, '-o', 'json'])).stdout) as PodJson;
    const r = await env.wand(['exec', `svc/${SLIM.service}`, '-n', SLIM.namespace, '--code', 'print(1)'], { env: env127 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: the app runs as non-root and kubectl 1\.27 cannot run the debugger container as root \(no --custom\)$/m);
    expect(r.stderr).toMatch(/^hint: use kubectl 1\.31\+/m);
    const after = JSON.parse((await env.kubectl(['get', 'pod', slimPod, '-n', SLIM.namespace, '-o', 'json'])).stdout) as PodJson;
    expect(after.spec.ephemeralContainers?.length ?? 0).toBe(before.spec.ephemeralContainers?.length ?? 0);
  });
});

run('a node with Yama ptrace_scope=0: the exec route, as before', () => {
  let env: WandEnv;

  beforeAll(async () => {
    env = await startWandEnv([APP.manifest, sharedPidManifest()], { ptraceScope: 0 });
    await env.waitServing([APP.namespace, SHARED_NAMESPACE], 8000, 30_000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('route exec, no debugger container, no kubectl debug nor version call', async () => {
    const child = env.spawnWand(debugArgs(APP));
    try {
      const ready = await child.nextEvent((e) => e.event === 'ready', 60_000);
      expect(ready).toMatchObject({ route: 'exec', debugContainer: null });
      expect(child.kubectlCalls().filter((c) => c.includes('debug') || c.includes('version'))).toEqual([]);
      // the same calls as on a node that lets exec trace (debug.test.ts): the agent exec, get svc, get pods, the forward
      expect(child.kubectlCalls().map((c) => c[0]).sort()).toEqual(['exec', 'get', 'get', 'port-forward']);
      expect(child.stderr()).not.toMatch(/debugger container/);
    } finally {
      child.interrupt();
      await child.exited;
    }
    const pod = JSON.parse((await env.kubectl(['get', 'pod', env.podName(APP.namespace), '-n', APP.namespace, '-o', 'json'])).stdout) as PodJson;
    expect(pod.spec.ephemeralContainers ?? []).toEqual([]);
  });

  test("--ephemeral always in a pod sharing one PID namespace: the agent works in the app's root, not PID 1's; the breakpoint stops", async () => {
    const child = env.spawnWand(['debug', `svc/${APP.service}`, '-n', SHARED_NAMESPACE, '-o', 'json', '--local-port', '0', '--ephemeral', 'always']);
    try {
      const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as { pod: string; route: string; targets: Array<{ pid: number; localPort: number }> };
      expect(ready.route).toBe('ephemeral');
      expect(child.stderr()).toMatch(/asked for with --ephemeral always/);
      const root = /serve\(root_pid=(\d+)\)$/.exec(child.kubectlCalls().find((c) => c[0] === 'debug')?.at(-1) ?? '');
      expect(Number(root?.[1])).toBeGreaterThan(1);
      const hit = await attachAndHitBreakpoint({
        port: ready.targets[0]!.localPort, file: APP.appFile, line: APP.breakpointLine, evaluate: APP.evaluate, timeoutMs: 30_000,
        trigger: () => httpGetInPod(['--kubeconfig', env.cluster.kubeconfig, '-n', SHARED_NAMESPACE], ready.pod, APP.container, APP.url, { timeoutMs: 60_000 }),
      });
      expect(hit.stoppedLine).toBe(APP.breakpointLine);
    } finally {
      // a wand that already failed must not hide its error behind kill's ESRCH
      if (child.child.exitCode === null) child.interrupt();
      await child.exited;
    }
  });

});

run('a node with Yama ptrace_scope=2 (Talos): the ephemeral route', () => {
  let env: WandEnv;
  beforeAll(async () => {
    env = await startWandEnv([APP.manifest], { ptraceScope: 2 });
    await env.waitServing([APP.namespace], 8000, 30_000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('stops on a breakpoint through the debugger container', async () => {
    const child = env.spawnWand(debugArgs(APP));
    try {
      const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as { pod: string; route: string; targets: Array<{ localPort: number }> };
      expect(ready.route).toBe('ephemeral');
      expect(child.stderr()).toMatch(/Yama ptrace_scope=2/);
      const hit = await hitScenarioBreakpoint(env, APP, ready);
      expect(hit.stoppedLine).toBe(APP.breakpointLine);
    } finally {
      child.interrupt();
      await child.exited;
    }
  });
});

run('a node with Yama ptrace_scope=3: no route', () => {
  let env: WandEnv;
  beforeAll(async () => {
    env = await startWandEnv([APP.manifest], { ptraceScope: 3 });
    await env.waitServing([APP.namespace], 8000, 30_000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('the precise error and remedy, exit 1, no debugger container added', async () => {
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*Yama ptrace_scope=3 forbids attaching to any process/m);
    expect(r.stderr).toMatch(/^hint: the node's Yama ptrace_scope=3 forbids tracing any process: only the node's admin can lower it/m);
    const pod = JSON.parse((await env.kubectl(['get', 'pod', env.podName(APP.namespace), '-n', APP.namespace, '-o', 'json'])).stdout) as PodJson;
    expect(pod.spec.ephemeralContainers ?? []).toEqual([]);
  });
});
