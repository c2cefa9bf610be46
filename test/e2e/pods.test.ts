/**
 * `kubectl wand pods` end to end: the real kubectl plugin against the test cluster, for every
 * flavour of Python server the issue names.
 */
import { SCENARIOS, type ScenarioId } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

interface ProcessJson {
  container: string;
  pid: number;
  ppid: number;
  role: string;
  recommended: boolean;
  why: string | null;
  python: string | null;
  debuggable: boolean;
  reason: string | null;
  injector: string | null;
  cpuPercent: number;
  rssBytes: number;
  uptimeSeconds: number;
  cwd: string | null;
  command: string;
  user: string;
}
interface PodJson {
  name: string;
  namespace: string;
  phase: string;
  ready: string;
  container: string | null;
  processes: ProcessJson[] | null;
  error: { message: string; remedy: string } | null;
}

const FLAVOURS: ScenarioId[] = [
  'fastapi-uvicorn-reload',
  'fastapi-dev',
  'flask-debug',
  'django-runserver',
  'gunicorn-2-workers',
  'gunicorn-reload',
  'uvicorn-workers-2',
  'sh-wrapper',
  'slim-nonroot',
  'py313',
  'py38',
  'remote-debug-disabled/env-off',
  'remote-debug-disabled/flag-off',
  'knative',
  'two-container/annotated',
  'two-container/plain',
];

run('kubectl wand pods', () => {
  let env: WandEnv;

  beforeAll(async () => {
    const manifests = [...new Set(FLAVOURS.map((id) => SCENARIOS[id].manifest))];
    env = await startWandEnv(manifests);
    await env.waitServing([...new Set(FLAVOURS.map((id) => SCENARIOS[id].namespace))], 8000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function podsJson(args: string[]): Promise<PodJson[]> {
    const result = await env.wand(['pods', ...args, '--with-pids', '-o', 'json']);
    expect(result.stderr).not.toMatch(/error|Traceback/);
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { pods: PodJson[] }).pods;
  }

  async function processesOf(id: ScenarioId): Promise<ProcessJson[]> {
    const s = SCENARIOS[id];
    const pods = await podsJson([`svc/${s.service}`, '-n', s.namespace]);
    expect(pods).toHaveLength(s.replicas);
    expect(pods[0].container).toBe(s.container);
    return pods[0].processes ?? [];
  }

  const recommended = (ps: ProcessJson[]) => ps.filter((p) => p.recommended);

  test('lists pods as a table without exec', async () => {
    const s = SCENARIOS['fastapi-uvicorn-reload'];
    const r = await env.wand(['pods', `svc/${s.service}`, '-n', s.namespace]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+NODE/);
    expect(r.stdout).toMatch(/api-\w+-\w+\s+1\/1\s+Running\s+0\s+\S+\s+wand-node/);
    expect(r.kubectlCalls.some((c) => c.includes('exec'))).toBe(false);
  });

  test('uvicorn --reload: the worker is recommended, not the reloader', async () => {
    const ps = await processesOf('fastapi-uvicorn-reload');
    const reloader = ps.find((p) => p.pid === 1);
    expect(reloader?.role).toBe('reloader');
    expect(reloader?.recommended).toBe(false);
    const [worker] = recommended(ps);
    expect(worker.role).toBe('worker');
    expect(worker.ppid).toBe(1);
    expect(worker.python).toMatch(/^3\.14\./);
    expect(worker.debuggable).toBe(true);
    expect(worker.reason).toBeNull();
    expect(worker.cwd).toBe('/app');
    expect(worker.rssBytes).toBeGreaterThan(1_000_000);
    expect(ps.find((p) => p.command.includes('resource_tracker'))?.role).toBe('helper');
  });

  test('fastapi dev: the worker is recommended', async () => {
    const ps = await processesOf('fastapi-dev');
    expect(recommended(ps).map((p) => p.role)).toEqual(['worker']);
    expect(ps.find((p) => p.pid === 1)?.role).toBe('reloader');
  });

  test('flask --debug: the werkzeug child is recommended', async () => {
    const ps = await processesOf('flask-debug');
    const [child] = recommended(ps);
    expect(child.ppid).toBe(1);
    expect(child.why).toBe('reloader-child');
    expect(ps.find((p) => p.pid === 1)?.role).toBe('reloader');
  });

  test('django runserver under sh -c: sh is a wrapper, the RUN_MAIN child is recommended', async () => {
    const ps = await processesOf('django-runserver');
    expect(ps.find((p) => p.pid === 1)?.role).toBe('wrapper');
    const [child] = recommended(ps);
    expect(child.why).toBe('reloader-child');
    expect(ps.find((p) => p.pid === child.ppid)?.role).toBe('reloader');
  });

  test.each(['gunicorn-2-workers', 'uvicorn-workers-2'] as const)('%s: every worker is recommended', async (id) => {
    const ps = await processesOf(id);
    const workers = recommended(ps);
    expect(workers).toHaveLength(2);
    expect(workers.every((w) => w.role === 'worker' && w.why === 'worker')).toBe(true);
    expect(ps.find((p) => p.pid === 1)?.recommended).toBe(false);
  });

  test('gunicorn --reload: the worker, not the arbiter', async () => {
    const ps = await processesOf('gunicorn-reload');
    expect(ps.find((p) => p.pid === 1)?.role).toBe('arbiter');
    expect(recommended(ps).map((p) => p.role)).toEqual(['worker']);
  });

  test('sh -c wrapper as PID 1: the Python child is the app', async () => {
    const ps = await processesOf('sh-wrapper');
    expect(ps.find((p) => p.pid === 1)?.role).toBe('wrapper');
    expect(recommended(ps)).toHaveLength(1);
    expect(recommended(ps)[0].pid).not.toBe(1);
  });

  test('slim image without ps, app as a non-root user', async () => {
    const ps = await processesOf('slim-nonroot');
    const [worker] = recommended(ps);
    expect(worker.user).toBe('app');
    expect(worker.debuggable).toBe(true);
  });

  test('Python 3.13 is listed as debuggable through the ptrace injector', async () => {
    const ps = await processesOf('py313');
    const app = ps.find((p) => p.pid === 1);
    expect(app?.python).toMatch(/^3\.13\./);
    expect(app?.debuggable).toBe(true);
    expect(app?.injector).toBe('ptrace');
  });

  test('Python 3.8 is listed as not debuggable, with the reason', async () => {
    const ps = await processesOf('py38');
    const app = ps.find((p) => p.pid === 1);
    expect(app?.python).toMatch(/^3\.8\./);
    expect(app?.debuggable).toBe(false);
    expect(app?.injector).toBeNull();
    expect(app?.reason).toMatch(/needs 3\.9\+/);
  });

  test.each(['remote-debug-disabled/env-off', 'remote-debug-disabled/flag-off'] as const)('%s: not debuggable, with the reason', async (id) => {
    const ps = await processesOf(id);
    const app = ps.find((p) => p.pid === 1);
    expect(app?.debuggable).toBe(false);
    expect(app?.reason).toMatch(/PYTHON_DISABLE_REMOTE_DEBUG|disable-remote-debug/);
  });

  test('Knative: an ExternalName Service finds pods by serving.knative.dev/service', async () => {
    const ps = await processesOf('knative');
    expect(recommended(ps)).toHaveLength(1);
  });

  test.each(['two-container/annotated', 'two-container/plain'] as const)('%s: picks the container that runs the app', async (id) => {
    const ps = await processesOf(id);
    expect(recommended(ps)).toHaveLength(1);
  });

  test('-c picks a container explicitly; an unknown one is a precise error', async () => {
    const s = SCENARIOS['two-container/plain'];
    const ok = await env.wand(['pods', `svc/${s.service}`, '-n', s.namespace, '--with-pids', '-c', 'sidecar', '-o', 'json']);
    expect(ok.code).toBe(0);
    const [narrowed] = (JSON.parse(ok.stdout) as { pods: PodJson[] }).pods;
    expect(narrowed.container).toBe('sidecar');
    expect(narrowed.processes!.length).toBeGreaterThan(0);
    expect(narrowed.processes!.every((p) => p.container === 'sidecar')).toBe(true);
    expect(ok.kubectlCalls.filter((c) => c.includes('exec'))).toHaveLength(1);
    const bad = await env.wand(['pods', `svc/${s.service}`, '-n', s.namespace, '--with-pids', '-c', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: container "nope" not found in pod/m);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  test('two containers: both listed, one exec each; a multi-line command stays on one table line', async () => {
    const s = SCENARIOS['two-container/plain'];
    const json = await env.wand(['pods', `svc/${s.service}`, '-n', s.namespace, '--with-pids', '-o', 'json']);
    expect(json.code).toBe(0);
    const [pod] = (JSON.parse(json.stdout) as { pods: PodJson[] }).pods;
    expect(pod.container).toBe('app');
    const byContainer = (c: string) => pod.processes!.filter((p) => p.container === c);
    expect(byContainer('app').map((p) => p.command)).toEqual(['python3 app.py']);
    expect(byContainer('sidecar').map((p) => p.command)).toEqual([expect.stringMatching(/^python3 -c import functools, http.server\nhandler = /)]);
    expect(json.kubectlCalls.filter((c) => c.includes('exec'))).toHaveLength(2);

    const table = await env.wand(['pods', `svc/${s.service}`, '-n', s.namespace, '--with-pids']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^plain-\S+\s+app\s+1\s+.*python3 app\.py/);
    expect(lines[2]).toMatch(/^plain-\S+\s+sidecar\s+1\s+.*python3 -c import functools, http\.server\\nhandler/);
  });

  test('the process table marks the recommended worker', async () => {
    const s = SCENARIOS['fastapi-uvicorn-reload'];
    const r = await env.wand(['pods', `deploy/api`, '-n', s.namespace, '--with-pids']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^POD\s+CONTAINER\s+PID\s+ROLE\s+PICK\s+PYTHON\s+CPU\s+MEM\s+UPTIME\s+COMMAND/);
    expect(r.stdout).toMatch(/\s1\s+reloader\s/);
    expect(r.stdout).toMatch(/worker\s+★ reloader-child\s+3\.14/);
  });

  test('one exec per pod: resolve, list, exec', async () => {
    const s = SCENARIOS['gunicorn-2-workers'];
    const r = await env.wand(['pods', `svc/${s.service}`, '-n', s.namespace, '--with-pids', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.kubectlCalls).toHaveLength(3);
    expect(r.kubectlCalls.filter((c) => c.includes('exec'))).toHaveLength(1);
  });

  test.each([
    [['svc/nope', '-n', 'wand-uvicorn'], /service "nope" not found in namespace "wand-uvicorn"/, 1],
    [['deploy/nope', '-n', 'wand-uvicorn'], /deployment.* "nope" not found/, 1],
    [['pod/nope', '-n', 'wand-uvicorn'], /pod "nope" not found/, 1],
    [['svc/api', '-n', 'nope'], /namespace "nope" not found|not found in namespace "nope"/, 1],
    // a malformed target is a usage mistake
    [['foo/bar', '-n', 'wand-uvicorn'], /doesn't have a resource type "foo"/, 2],
  ])('error: pods %j', async (args, message, code) => {
    const r = await env.wand(['pods', ...args, '--with-pids']);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
