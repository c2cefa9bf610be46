import type { DoctorFacts } from '../../../src/agent/contract';
import type { Pod } from '../../../src/kube/types';
import {
  clusterChecks,
  doctorCandidates,
  doctorReport,
  processChecks,
  type Check,
  type ClusterFacts,
  type PodFacts,
  type TraceContext,
} from '../../../src/select/doctor';
import { classifyProcesses, type ClassifiedProcess } from '../../../src/select/roles';
import { proc } from './helpers';

const UVICORN_RELOAD = classifyProcesses([
  proc(1, 0, ['/usr/bin/python3', '-m', 'uvicorn', 'main:app', '--reload']),
  proc(8, 1, ['/usr/bin/python3', '-c', 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)', '--multiprocessing-fork']),
]);

const TRACE: TraceContext = { pod: 'api-1', namespace: 'shop', container: 'api', image: 'shop/api:1.2' };
const CAPS = { uid: 0, sysPtrace: true, yamaPtraceScope: 1 };

function facts(extra: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    pid: 8,
    exists: true,
    isPython: true,
    python: '3.14.0',
    remoteDebugBuild: true,
    remoteDebugDisabled: null,
    remoteDebugDisabledCode: null,
    traceDenied: null,
    traceDeniedCode: null,
    debugpy: { version: '1.8.20', path: '/usr/lib/python3/dist-packages/debugpy', error: null },
    writableDir: { path: '/tmp', error: null },
    debugpyPort: null,
    ...extra,
  };
}

function worker(): ClassifiedProcess {
  return UVICORN_RELOAD.find((p) => p.pid === 8)!;
}

const byId = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

describe('doctorCandidates', () => {
  it('checks what debug would choose: the recommended worker, not the reloader', () => {
    expect(doctorCandidates(UVICORN_RELOAD, 'api')).toEqual({ candidates: [worker()] });
  });

  it('--pid picks that process, even a reloader', () => {
    const choice = doctorCandidates(UVICORN_RELOAD, 'api', 1);
    expect('candidates' in choice && choice.candidates.map((p) => p.pid)).toEqual([1]);
  });

  it('an unknown --pid names the Python processes', () => {
    expect(doctorCandidates(UVICORN_RELOAD, 'api', 99)).toEqual({
      problem: { message: 'no process with PID 99 in container "api"', remedy: 'its Python processes are: 1, 8' },
    });
  });

  it('no Python process: a pod-level problem pointing at -c', () => {
    const choice = doctorCandidates(classifyProcesses([proc(1, 0, ['nginx'])]), 'web');
    expect(choice).toMatchObject({ problem: { remedy: expect.stringContaining('-c NAME') } });
  });
});

describe('clusterChecks', () => {
  const base: ClusterFacts = {
    namespace: 'shop',
    target: 'service/api',
    reach: { pods: 2 },
    access: { getPods: { allowed: true }, exec: { allowed: false }, portforward: { allowed: true } },
  };

  it('a denied pods/exec fails with the Role rule to ask for', () => {
    const checks = byId(clusterChecks(base));
    expect(checks.cluster.status).toBe('pass');
    expect(checks['rbac-get-pods'].status).toBe('pass');
    expect(checks['rbac-exec']).toEqual({
      id: 'rbac-exec',
      status: 'fail',
      message: 'RBAC: you may not create pods/exec (kubectl exec) in namespace "shop"',
      remedy: 'ask a cluster admin for a Role in namespace "shop" with the rule {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} and a RoleBinding to you',
    });
    expect(checks['rbac-portforward'].status).toBe('pass');
  });

  it('an unreachable cluster is the only check', () => {
    const checks = clusterChecks({ ...base, reach: { problem: { message: 'cannot reach the API server', remedy: 'check the VPN' }, forbidden: false } });
    expect(checks).toEqual([{ id: 'cluster', status: 'fail', message: 'cannot reach the API server', remedy: 'check the VPN' }]);
  });

  it('a can-i that could not be asked is a warning, not a failure', () => {
    const checks = byId(clusterChecks({ ...base, access: { ...base.access, portforward: { problem: { message: 'timeout', remedy: 'retry' } } } }));
    expect(checks['rbac-portforward'].status).toBe('warn');
  });
});

describe('processChecks', () => {
  const check = (f: DoctorFacts, local?: { origin: string } | null) => byId(processChecks({ process: worker(), facts: f }, CAPS, TRACE, local));

  it('a healthy process passes everything; the listener is a fact', () => {
    const checks = check(facts());
    expect(Object.values(checks).map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'info']);
    expect(checks.python.message).toBe('Python 3.14.0');
    expect(checks.trace.message).toBe('tracing allowed: kubectl exec has CAP_SYS_PTRACE, Yama ptrace_scope=1');
    expect(checks.debugpy.message).toContain('debugpy 1.8.20 importable');
  });

  it('Python 3.13 passes through the ptrace injector; its opt-out still counts', () => {
    const checks = check(facts({ python: '3.13.7', remoteDebugBuild: null, injector: 'ptrace' }));
    expect(checks.python).toMatchObject({ status: 'pass', message: expect.stringContaining('injected with ptrace') });
    expect(checks['remote-debug'].status).toBe('pass');
    const off = check(facts({ python: '3.13.7', remoteDebugBuild: null, injector: 'ptrace', remoteDebugDisabled: 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment' }));
    expect(off['remote-debug'].status).toBe('fail');
  });

  it('Python 3.8 fails and skips the remote-debug check; a refused injector fails', () => {
    const checks = check(facts({ python: '3.8.18', remoteDebugBuild: null }));
    expect(checks.python).toMatchObject({ status: 'fail', message: expect.stringContaining('3.9 or newer') });
    expect(checks['remote-debug'].status).toBe('skip');
    const arm = check(facts({ python: '3.12.1', injector: 'ptrace', injectorRefused: 'Python before 3.14 is injected with ptrace, on x86_64 only (this node: aarch64)' }));
    expect(arm.python).toMatchObject({ status: 'fail', message: expect.stringContaining('x86_64 only') });
  });

  it.each([
    ['PYTHON_DISABLE_REMOTE_DEBUG is set in its environment', /remove PYTHON_DISABLE_REMOTE_DEBUG from the container's env/],
    ['started with -X disable-remote-debug', /remove `-X disable-remote-debug`/],
  ])('remote debugging disabled (%s) fails with the fix', (reason, remedy) => {
    const checks = check(facts({ remoteDebugDisabled: reason }));
    expect(checks['remote-debug'].status).toBe('fail');
    expect(checks['remote-debug'].message).toContain(reason);
    expect(checks['remote-debug'].remedy).toMatch(remedy);
  });

  it('a build without remote debugging fails', () => {
    expect(check(facts({ remoteDebugBuild: false }))['remote-debug']).toMatchObject({ status: 'fail', remedy: expect.stringContaining('--without-remote-debug') });
  });

  it('tracing denied: the securityContext snippet and the ephemeral container alternative', () => {
    const checks = check(facts({ traceDenied: 'no permission to trace it: it runs as uid 1000, the agent as uid 0 without CAP_SYS_PTRACE' }));
    expect(checks.trace.status).toBe('fail');
    expect(checks.trace.message).toBe('tracing not allowed: it runs as uid 1000, the agent as uid 0 without CAP_SYS_PTRACE');
    expect(checks.trace.remedy).toContain('securityContext: {capabilities: {add: ["SYS_PTRACE"]}}');
    expect(checks.trace.remedy).toContain('kubectl debug -it api-1 -n shop --profile=general --target=api --image=shop/api:1.2 -- sh');
  });

  it('Yama scope 3 has only the node fix', () => {
    const checks = check(facts({ traceDenied: 'no permission to trace it: Yama ptrace_scope=3 forbids attaching to any process' }));
    expect(checks.trace.remedy).toMatch(/node's admin/);
  });

  it('debugpy missing from the image passes when a local copy can be uploaded, fails otherwise', () => {
    const missing = facts({ debugpy: { version: null, path: null, error: "ModuleNotFoundError: No module named 'debugpy'" } });
    expect(check(missing, { origin: 'the local Python environment (/x)' }).debugpy).toMatchObject({
      status: 'pass',
      message: "debugpy not in the image (No module named 'debugpy'); kubectl wand debug uploads the local Python environment (/x)",
    });
    expect(check(missing, null).debugpy).toMatchObject({ status: 'fail', remedy: expect.stringContaining('--debugpy-from') });
  });

  it('no writable directory fails with the emptyDir fix', () => {
    const checks = check(facts({ writableDir: { path: null, error: 'no writable directory for the injected script: tried /tmp (Read-only file system)' } }));
    expect(checks['writable-dir']).toMatchObject({ status: 'fail', remedy: expect.stringContaining('emptyDir') });
  });

  it('a listening debugpy is reported and counts as debugpy being there', () => {
    const checks = check(facts({ debugpyPort: 5679, debugpy: { version: null, path: null, error: 'No module named debugpy' } }));
    expect(checks.listener.message).toContain('adapter port 5679');
    expect(checks.debugpy.status).toBe('pass');
  });

  it('a process that exited during the check', () => {
    expect(check(facts({ exists: false }))).toEqual({ python: expect.objectContaining({ status: 'fail', message: 'process 8 exited during the check' }) });
  });
});

describe('doctorReport', () => {
  const pod: Pod = {
    metadata: { name: 'api-1', namespace: 'shop' },
    spec: { containers: [{ name: 'api', image: 'shop/api:1.2' }] },
    status: { phase: 'Running' },
  };
  const cluster: ClusterFacts = {
    namespace: 'shop',
    target: 'service/api',
    reach: { pods: 1 },
    access: { getPods: { allowed: true }, exec: { allowed: true }, portforward: { allowed: true } },
  };
  const podFacts = (f: DoctorFacts): PodFacts => ({
    pod,
    container: 'api',
    listing: null,
    selection: null,
    candidates: [{ process: worker(), facts: f }],
    capabilities: CAPS,
    doctorProblem: null,
  });

  it('ok when nothing fails', () => {
    const report = doctorReport(cluster, [podFacts(facts())], undefined);
    expect(report.ok).toBe(true);
    expect(report.pods[0]).toMatchObject({ name: 'api-1', namespace: 'shop', container: 'api', checks: [] });
    expect(report.pods[0].processes[0]).toMatchObject({ pid: 8, role: 'worker', recommended: true, python: '3.14.0' });
  });

  it('not ok when a check fails', () => {
    expect(doctorReport(cluster, [podFacts(facts({ python: '3.8.18' }))], undefined).ok).toBe(false);
  });

  it('a forbidden exec skips the pod with a pointer to RBAC, and is not ok', () => {
    const forbidden: PodFacts = { ...podFacts(facts()), candidates: [], listing: { problem: { message: 'forbidden', remedy: 'Role' }, forbidden: true } };
    const report = doctorReport({ ...cluster, access: { ...cluster.access, exec: { allowed: false } } }, [forbidden], undefined);
    expect(report.ok).toBe(false);
    expect(report.pods[0].checks).toEqual([expect.objectContaining({ id: 'processes', status: 'skip', message: expect.stringContaining('see RBAC above') })]);
  });

  it('a pod that is not Running is skipped; with nothing else checked the report is not ok', () => {
    const pending: PodFacts = { ...podFacts(facts()), pod: { ...pod, status: { phase: 'Pending' } }, candidates: [] };
    const report = doctorReport(cluster, [pending], undefined);
    expect(report.pods[0].checks[0]).toMatchObject({ id: 'pod', status: 'skip', message: 'pod is Pending: not checked' });
    expect(report.ok).toBe(false);
  });
});
