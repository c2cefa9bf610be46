/**
 * `kubectl wand doctor` end to end: the checklist on a healthy app, on apps that cannot be
 * attached to (Python 3.13, remote debugging switched off), and for a user without pods/exec.
 */
import { SCENARIOS, type Scenario } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

const HEALTHY = SCENARIOS['fastapi-uvicorn-reload'];
const PY313 = SCENARIOS.py313;
const PY38 = SCENARIOS.py38;
const ENV_OFF = SCENARIOS['remote-debug-disabled/env-off'];

interface CheckJson {
  id: string;
  status: 'pass' | 'fail' | 'warn' | 'skip' | 'info';
  message: string;
  remedy: string | null;
}
interface ReportJson {
  ok: boolean;
  namespace: string;
  target: string;
  cluster: CheckJson[];
  pods: Array<{
    name: string;
    container: string | null;
    checks: CheckJson[];
    processes: Array<{ pid: number; role: string; recommended: boolean; python: string | null; checks: CheckJson[] }>;
  }>;
}

run('kubectl wand doctor', () => {
  let env: WandEnv;

  beforeAll(async () => {
    const scenarios = [HEALTHY, PY313, PY38, ENV_OFF];
    env = await startWandEnv([...new Set(scenarios.map((s) => s.manifest))]);
    await env.waitServing([...new Set(scenarios.map((s) => s.namespace))], 8000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  const doctor = (s: Scenario, ...args: string[]) => env.wand(['doctor', `svc/${s.service}`, '-n', s.namespace, ...args]);

  async function report(s: Scenario, ...args: string[]): Promise<{ code: number; doc: ReportJson }> {
    const r = await doctor(s, '-o', 'json', ...args);
    expect(r.stderr).toBe('');
    return { code: r.code, doc: JSON.parse(r.stdout) as ReportJson };
  }

  const checkOf = (checks: CheckJson[], id: string) => checks.find((c) => c.id === id);

  test('passes on a healthy uvicorn --reload app, checking the worker', async () => {
    const r = await doctor(HEALTHY);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Cluster \(namespace wand-uvicorn, service\/api\)\n {2}✔ kubectl reaches the cluster \(service\/api: 1 pod\)\n/);
    expect(r.stdout).toContain('  ✔ RBAC: you may create pods/exec (kubectl exec) in namespace "wand-uvicorn"');
    expect(r.stdout).toMatch(/\n {2}PID \d+ {2}worker ★ {2}/);
    expect(r.stdout).toMatch(/✔ Python 3\.14\.\d+\n/);
    expect(r.stdout).toContain('✔ remote debugging is enabled');
    expect(r.stdout).toMatch(/✔ debugpy \d+\.\d+\.\d+ importable by the process/);
    expect(r.stdout).toContain('✔ writable directory for the injected script: /tmp');
    expect(r.stdout).not.toContain('✘');
    expect(r.stdout).toMatch(/\nNothing blocks attaching\.\n$/);
  });

  test('-o json: the same report as one document', async () => {
    const { code, doc } = await report(HEALTHY);
    expect(code).toBe(0);
    expect(doc).toMatchObject({ ok: true, namespace: 'wand-uvicorn', target: 'service/api' });
    expect(doc.cluster.map((c) => [c.id, c.status])).toEqual([
      ['cluster', 'pass'],
      ['rbac-get-pods', 'pass'],
      ['rbac-exec', 'pass'],
      ['rbac-portforward', 'pass'],
      ['rbac-ephemeral', 'pass'],
    ]);
    const [pod] = doc.pods;
    expect(pod!.container).toBe('api');
    expect(pod!.processes).toHaveLength(1);
    const [worker] = pod!.processes;
    expect(worker).toMatchObject({ role: 'worker', recommended: true, python: expect.stringMatching(/^3\.14\./) });
    expect(worker!.checks.map((c) => [c.id, c.status])).toEqual([
      ['python', 'pass'],
      ['remote-debug', 'pass'],
      ['trace', 'pass'],
      ['debugpy', 'pass'],
      ['writable-dir', 'pass'],
      ['listener', 'info'],
    ]);
  });

  test('passes on Python 3.13: the ptrace injector, its own debugpy', async () => {
    const r = await doctor(PY313);
    expect(r.stdout).toMatch(/✔ Python 3\.13\.\d+ \(injected with ptrace: before 3\.14 there is no sys\.remote_exec\)\n/);
    expect(r.stdout).toMatch(/✔ debugpy [\d.]+ importable by the process/);
    expect(r.code).toBe(0);
    const { doc } = await report(PY313);
    expect(doc.ok).toBe(true);
    expect(checkOf(doc.pods[0]!.processes[0]!.checks, 'remote-debug')?.status).toBe('pass');
  });

  test('fails on Python 3.8 with the reason and the remedy', async () => {
    const r = await doctor(PY38);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✘ Python 3\.8\.\d+: attaching needs Python 3\.9 or newer\n {8}→ run the app on Python 3\.9\+/);
    const { doc } = await report(PY38);
    expect(doc.ok).toBe(false);
    expect(checkOf(doc.pods[0]!.processes[0]!.checks, 'remote-debug')?.status).toBe('skip');
  });

  test('fails where PYTHON_DISABLE_REMOTE_DEBUG is set', async () => {
    const r = await doctor(ENV_OFF);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✘ remote debugging is disabled: PYTHON_DISABLE_REMOTE_DEBUG is set in its environment');
    expect(r.stdout).toContain("→ remove PYTHON_DISABLE_REMOTE_DEBUG from the container's env in the pod spec and roll the pods out again");
    expect(r.stdout).toContain('✔ Python 3.14.');
  });

  test('a user denied pods/exec and pods/portforward: the RBAC failures with the Role rule', async () => {
    const r = await doctor(HEALTHY, '--context', 'wand-test-noexec');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('✔ RBAC: you may get pods in namespace "wand-uvicorn"');
    expect(r.stdout).toContain(
      '  ✘ RBAC: you may not create pods/exec (kubectl exec) in namespace "wand-uvicorn"\n' +
        '      → ask a cluster admin for a Role in namespace "wand-uvicorn" with the rule {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} and a RoleBinding to you\n',
    );
    expect(r.stdout).toContain('✘ RBAC: you may not create pods/portforward (kubectl port-forward)');
    expect(r.stdout).toContain('– processes not checked: kubectl exec is forbidden (see RBAC above)');
    // the four can-i calls (the ephemeral route's too) ran alongside the process listing, with the user's context
    const canI = r.kubectlCalls.filter((c) => c.includes('can-i'));
    expect(canI).toHaveLength(4);
    expect(canI.every((c) => c.includes('--context') && c.includes('wand-test-noexec'))).toBe(true);
  });

  test('an unknown context fails the cluster check; an unknown target is a plain error', async () => {
    const unreachable = await doctor(HEALTHY, '--context', 'nope');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toContain('✘ kubeconfig context "nope" does not exist\n      → pick one of: kubectl config get-contexts');
    const missing = await env.wand(['doctor', 'svc/nope', '-n', HEALTHY.namespace]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: service "nope" not found in namespace "wand-uvicorn"\nhint: /);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});
