/**
 * The ephemeral route on a node like Ubuntu's or Bottlerocket's (Yama ptrace_scope=1, containerd's
 * default capabilities): `kubectl exec` may not trace the app, so debug attaches from a debugger
 * container that the real `kubectl debug --profile general` adds, and a real DAP client stops on a
 * breakpoint through it. Ctrl-C ends the container's process; the app keeps serving.
 */
import { attachAndHitBreakpoint } from './support/dap';
import { SCENARIOS } from './support/apps';
import { httpGetInPod } from './support/http-in-pod';
import { e2eAvailable, REAL_CONTEXT, startWandEnv, type WandChild, type WandEnv } from './support/wand-env';

const run = e2eAvailable() && !REAL_CONTEXT ? describe : describe.skip;
jest.setTimeout(180_000);

const APP = SCENARIOS['fastapi-uvicorn-reload'];

interface PodJson {
  spec: { ephemeralContainers?: Array<{ name: string }> };
  status: { ephemeralContainerStatuses?: Array<{ name: string; state: Record<string, unknown> }> };
}

run('a node with Yama ptrace_scope=1: the ephemeral route', () => {
  let env: WandEnv;
  const children: WandChild[] = [];

  beforeAll(async () => {
    env = await startWandEnv([APP.manifest], { ptraceScope: 1 });
    await env.waitServing([APP.namespace], 8000, 30_000);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.pid) process.kill(-c.child.pid, 'SIGKILL');
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function podJson(pod: string): Promise<PodJson> {
    const r = await env.kubectl(['get', 'pod', pod, '-n', APP.namespace, '-o', 'json']);
    return JSON.parse(r.stdout) as PodJson;
  }

  test('--ephemeral never: the precise cause, exit 1, no debugger container', async () => {
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0', '--ephemeral', 'never']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Yama ptrace_scope=1/);
    expect(r.stderr).not.toMatch(/Traceback|PyRuntime/);
    expect((await podJson(env.podName(APP.namespace))).spec.ephemeralContainers ?? []).toEqual([]);
  });

  test('auto: says so on stderr, stops on a breakpoint through the debugger container; Ctrl-C terminates it within 5 s', async () => {
    const child = env.spawnWand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '-o', 'json', '--local-port', '0']);
    children.push(child);
    const ready = (await child.nextEvent((e) => e.event === 'ready', 90_000)) as {
      pod: string; route: string; debugContainer: string; targets: Array<{ localPort: number }>;
    };
    expect(ready.route).toBe('ephemeral');
    expect(ready.debugContainer).toMatch(/^wand-debug-[0-9a-f]{6}$/);
    expect(child.stderr()).toMatch(/kubectl exec may not trace the app \(Yama ptrace_scope=1.*debugger container wand-debug-/);
    const hit = await attachAndHitBreakpoint({
      port: ready.targets[0]!.localPort,
      file: APP.appFile,
      line: APP.breakpointLine,
      evaluate: APP.evaluate,
      timeoutMs: 30_000,
      trigger: () => httpGetInPod(['--kubeconfig', env.cluster.kubeconfig, '-n', APP.namespace], ready.pod, APP.container, APP.url, { timeoutMs: 60_000 }),
    });
    expect(hit.stoppedLine).toBe(APP.breakpointLine);
    const calls = child.kubectlCalls();
    expect(calls.filter((c) => c[0] === 'debug')).toHaveLength(1);
    expect(calls.find((c) => c[0] === 'debug')).toEqual(expect.arrayContaining(['--target', APP.container, '--profile', 'general', '-i']));

    child.interrupt();
    expect(await child.exited).toBe(0);
    const stoppedAt = Date.now();
    let state: Record<string, unknown> | undefined;
    while (Date.now() - stoppedAt < 5_000) {
      state = (await podJson(ready.pod)).status.ephemeralContainerStatuses?.find((s) => s.name === ready.debugContainer)?.state;
      if (state?.terminated) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state).toHaveProperty('terminated');
    await env.waitServing([APP.namespace], 8000, 10_000);
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
    const pod = env.podName(APP.namespace);
    const before = (await podJson(pod)).spec.ephemeralContainers?.length ?? 0;
    expect((await env.kubectl(['label', 'ns', APP.namespace, 'pod-security.kubernetes.io/enforce=baseline'])).code).toBe(0);
    try {
      const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: Pod Security "baseline" in namespace "wand-uvicorn" refuses the debugger container/m);
      expect(r.stderr).toMatch(/^hint: .*pod-security\.kubernetes\.io\/enforce/m);
      expect((await podJson(pod)).spec.ephemeralContainers?.length ?? 0).toBe(before);
    } finally {
      await env.kubectl(['label', 'ns', APP.namespace, 'pod-security.kubernetes.io/enforce-']);
    }
    await env.waitServing([APP.namespace], 8000, 10_000);
  });
});

run('a node with Yama ptrace_scope=0: the exec route, as before', () => {
  let env: WandEnv;

  beforeAll(async () => {
    env = await startWandEnv([APP.manifest], { ptraceScope: 0 });
    await env.waitServing([APP.namespace], 8000, 30_000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('route exec, no debugger container, no kubectl debug nor version call', async () => {
    const child = env.spawnWand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '-o', 'json', '--local-port', '0']);
    try {
      const ready = await child.nextEvent((e) => e.event === 'ready', 60_000);
      expect(ready).toMatchObject({ route: 'exec', debugContainer: null });
      expect(child.kubectlCalls().filter((c) => c.includes('debug') || c.includes('version'))).toEqual([]);
      expect(child.stderr()).not.toMatch(/debugger container/);
    } finally {
      child.interrupt();
      await child.exited;
    }
    const pod = JSON.parse((await env.kubectl(['get', 'pod', env.podName(APP.namespace), '-n', APP.namespace, '-o', 'json'])).stdout) as PodJson;
    expect(pod.spec.ephemeralContainers ?? []).toEqual([]);
  });
});
