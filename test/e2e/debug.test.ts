/**
 * `kubectl wand debug` end to end: the real plugin injects debugpy into live apps on the test
 * cluster, forwards the port, and a real DAP client stops on a breakpoint through it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { localDebugpyDir } from './support/local-debugpy';
import { debugArgs, hitScenarioBreakpoint, type ReadyEvent } from './support/scenario-debug';
import { SCENARIOS, type Scenario, type ScenarioId } from './support/apps';
import { e2eAvailable, startWandEnv, type WandChild, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(180_000);

const ATTACH: ScenarioId[] = [
  'fastapi-uvicorn-reload',
  'flask-debug',
  'gunicorn-2-workers',
  'django-runserver',
  'slim-nonroot',
  'knative',
  'two-container/plain',
  'blocked-main',
  'multi-replica',
];

run('kubectl wand debug', () => {
  let env: WandEnv;
  const children: WandChild[] = [];

  beforeAll(async () => {
    env = await startWandEnv([...new Set(ATTACH.map((id) => SCENARIOS[id].manifest))]);
    await env.waitServing([...new Set(ATTACH.map((id) => SCENARIOS[id].namespace))], 8000);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.pid) process.kill(-c.child.pid, 'SIGKILL');
    }
  });
  afterAll(async () => {
    await env?.stop();
  });

  function startDebug(s: Scenario, extra: string[] = []): WandChild {
    const child = env.spawnWand(debugArgs(s, extra));
    children.push(child);
    return child;
  }

  async function ready(child: WandChild, kind = 'ready', timeoutMs = 60_000): Promise<ReadyEvent> {
    return (await child.nextEvent((e) => e.event === kind, timeoutMs)) as unknown as ReadyEvent;
  }

  const request = (s: Scenario, pod: string) => env.getApp(s, pod, 60_000);

  async function stopSession(child: WandChild): Promise<number> {
    const started = Date.now();
    child.interrupt();
    const code = await child.exited;
    expect(Date.now() - started).toBeLessThan(2500);
    return code;
  }

  test.each(['fastapi-uvicorn-reload', 'flask-debug', 'django-runserver', 'knative', 'two-container/plain'] as const)(
    '%s: stops on the breakpoint through the forwarded port',
    async (id) => {
      const s = SCENARIOS[id];
      const child = startDebug(s);
      const ev = await ready(child);
      expect(ev.namespace).toBe(s.namespace);
      expect(ev.container).toBe(s.container);
      expect(ev.targets).toHaveLength(1);
      expect(ev.remoteRoot).toBe('/app');
      const hit = await hitScenarioBreakpoint(env, s, ev);
      expect(hit.stoppedLine).toBe(s.breakpointLine);
      expect(hit.evaluated).toBe(s.expectedValue);
      expect(hit.requestCompleted).toBe(true);
      expect(await stopSession(child)).toBe(0);
      expect(child.lines.map((l) => JSON.parse(l).event)).toContain('stopped');
      expect(child.stderr()).toMatch(/debugger closed — nothing listens on 127.0.0.1:5679/);
      if (id !== 'knative' && id !== 'two-container/plain') {
        // one pod, one container: the agent exec opened by TYPE/NAME while resolving is the session
        const execs = child.kubectlCalls().filter((c) => c[0] === 'exec');
        expect(execs).toHaveLength(1);
        expect(execs[0]).toContain(`services/${s.service}`);
        expect(child.kubectlCalls().map((c) => c[0]).sort()).toEqual(['exec', 'get', 'get', 'port-forward']);
      }
    },
  );

  test('gunicorn with 2 workers: every worker injected on its own port; each stops', async () => {
    const s = SCENARIOS['gunicorn-2-workers'];
    const child = startDebug(s);
    const ev = await ready(child);
    expect(ev.targets).toHaveLength(2);
    expect(ev.targets.map((t) => t.remotePort).sort()).toEqual([5679, 5680]);
    for (const target of ev.targets) {
      const hit = await hitScenarioBreakpoint(env, s, ev, { target });
      expect(hit.evaluated).toBe(s.expectedValue);
    }
    expect(await stopSession(child)).toBe(0);
  });

  test('slim image without debugpy, app as non-root: debugpy is copied in', async () => {
    const s = SCENARIOS['slim-nonroot'];
    const child = startDebug(s, ['--debugpy-from', localDebugpyDir()]);
    const ev = await ready(child);
    const hit = await hitScenarioBreakpoint(env, s, ev);
    expect(hit.evaluated).toBe(s.expectedValue);
    expect(await stopSession(child)).toBe(0);
  });

  test('reload: the new worker is re-injected and stops on the breakpoint', async () => {
    const s = SCENARIOS['fastapi-uvicorn-reload'];
    const child = startDebug(s);
    const ev = await ready(child);
    const file = path.join(env.cluster.volumeDir(s.namespace, ev.pod, 'src'), path.basename(s.appFile));
    const source = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, `${source}\n# touched by the reload test\n`);
    const again = (await child.nextEvent((e) => e.event === 'reinjected', 30_000)) as unknown as ReadyEvent;
    expect(again.targets[0].pid).not.toBe(ev.targets[0].pid);
    const hit = await hitScenarioBreakpoint(env, s, again);
    expect(hit.evaluated).toBe(s.expectedValue);
    expect(await stopSession(child)).toBe(0);
  });

  test('a dropped port-forward is restored', async () => {
    const s = SCENARIOS['flask-debug'];
    const child = startDebug(s);
    const ev = await ready(child);
    expect(env.cluster.dropConnections(ev.pod, 'portforward')).toBeGreaterThan(0);
    await child.nextEvent((e) => e.event === 'forward-restored', 10_000);
    const hit = await hitScenarioBreakpoint(env, s, ev);
    expect(hit.evaluated).toBe(s.expectedValue);
    expect(await stopSession(child)).toBe(0);
  });

  test('pod deleted: the session moves to the replacement pod', async () => {
    const s = SCENARIOS['knative'];
    const child = startDebug(s);
    const ev = await ready(child);
    env.cluster.deletePod(s.namespace, ev.pod, 1);
    const moved = (await child.nextEvent((e) => e.event === 'reconnected', 90_000)) as unknown as ReadyEvent;
    expect(moved.pod).not.toBe(ev.pod);
    const hit = await hitScenarioBreakpoint(env, s, moved);
    expect(hit.evaluated).toBe(s.expectedValue);
    expect(await stopSession(child)).toBe(0);
  });

  test('--vscode merges the attach configuration into launch.json; --no-forward only injects', async () => {
    const s = SCENARIOS['django-runserver'];
    const dir = await fs.mkdtemp(path.join(require('node:os').tmpdir(), 'wand-vscode-'));
    const launch = path.join(dir, '.vscode', 'launch.json');
    await fs.mkdir(path.dirname(launch));
    await fs.writeFile(launch, '{\n  // mine\n  "version": "0.2.0",\n  "configurations": [{"name": "keep me", "type": "node", "request": "launch"},],\n}\n');
    const child = startDebug(s, [`--vscode=${launch}`]);
    const ev = await ready(child);
    for (let i = 0; i < 50 && !child.stderr().includes('wrote'); i++) await new Promise((r) => setTimeout(r, 100));
    const written = JSON.parse(await fs.readFile(launch, 'utf8')) as { configurations: Array<Record<string, unknown>> };
    expect(written.configurations.map((c) => c.name)).toEqual(['keep me', `wand: ${ev.pod} PID ${ev.targets[0].pid}`]);
    expect(written.configurations[1]).toMatchObject({
      type: 'debugpy',
      request: 'attach',
      connect: { host: '127.0.0.1', port: ev.targets[0].localPort },
      pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: '/app' }],
    });
    expect(await stopSession(child)).toBe(0);

    const noForward = startDebug(s, ['--no-forward']);
    const injected = await ready(noForward);
    expect(injected.targets[0].localPort).toBeNull();
    expect(injected.targets[0].reused).toBe(false); // the previous session closed its listener (issue 15)
    expect(noForward.kubectlCalls().some((c) => c[0] === 'port-forward')).toBe(false);
    expect(await stopSession(noForward)).toBe(0);
  });

  test('several pods: the session runs in the chosen pod, whichever pod kubectl picked by TYPE/NAME', async () => {
    const s = SCENARIOS['multi-replica'];
    const child = startDebug(s);
    const ev = await ready(child);
    const hit = await hitScenarioBreakpoint(env, s, ev);
    expect(hit.stoppedLine).toBe(s.breakpointLine);
    expect(await stopSession(child)).toBe(0);
    const execs = child.kubectlCalls().filter((c) => c[0] === 'exec');
    expect(execs[0]).toContain(`services/${s.service}`);
    // kept, or closed and replaced by one exec into the chosen pod
    if (execs.length > 1) expect(execs.slice(1)).toEqual([expect.arrayContaining([ev.pod])]);
  });

  test('a blocked main thread is explained with its stack', async () => {
    const s = SCENARIOS['blocked-main'];
    const r = await env.wand(['debug', `svc/${s.service}`, '-n', s.namespace, '--timeout', '2', '--local-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not run Python code in time — its main thread is blocked in/);
    expect(r.stderr).toMatch(/wait/);
    expect(r.stderr).toMatch(/^hint: .*request/m);
    const body = await request(s, env.podName(s.namespace));
    expect(body).toMatch(/42/);
  });

  test('Ctrl-C leaves no process or file behind', async () => {
    const s = SCENARIOS['flask-debug'];
    const child = startDebug(s);
    const ev = await ready(child);
    expect(await stopSession(child)).toBe(0);
    const tmp = await env.kubectl(['exec', '-n', s.namespace, ev.pod, '-c', s.container, '--', 'python3', '-c',
      'import os; print("\\n".join(n for n in os.listdir("/tmp") if n.startswith("wand-") and not n.startswith("wand-debugpy-")))']);
    expect(tmp.stdout.trim()).toBe('');
    const procs = await env.kubectl(['exec', '-n', s.namespace, ev.pod, '-c', s.container, '--', 'python3', '-c',
      'import os; print([open(f"/proc/{p}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()])']);
    expect(procs.stdout).not.toMatch(/wand-agent|python3\\x00-c\\x00import sys,base64/);
    const local = await fs.readdir('/proc');
    const forwards = local.filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return require('node:fs').readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`pod/${ev.pod}`);
      } catch {
        return false;
      }
    });
    expect(forwards).toEqual([]);
  });
});
