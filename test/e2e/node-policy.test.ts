/**
 * The plugin on a node like Ubuntu's or Bottlerocket's: Yama ptrace_scope=1 and containerd's
 * default capabilities (no CAP_SYS_PTRACE), so `kubectl exec` may not write into the app. debug and
 * doctor must name that cause and its remedies, and the app keeps serving.
 */
import { SCENARIOS } from './support/apps';
import { e2eAvailable, REAL_CONTEXT, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() && !REAL_CONTEXT ? describe : describe.skip;
jest.setTimeout(120_000);

const APP = SCENARIOS['fastapi-uvicorn-reload'];

run('a node with Yama ptrace_scope=1', () => {
  let env: WandEnv;

  beforeAll(async () => {
    env = await startWandEnv([APP.manifest], { ptraceScope: 1 });
    await env.waitServing([APP.namespace], 8000, 30_000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('debug refuses with the Yama cause and the ephemeral-container remedy; the app keeps serving', async () => {
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0', '--ephemeral', 'never']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot debug PID \d+: no permission to trace it: Yama ptrace_scope=1 lets only a parent attach without CAP_SYS_PTRACE, which the agent lacks$/m);
    expect(r.stderr).toMatch(/^hint: .*kubectl debug/m);
    expect(r.stderr).not.toMatch(/Traceback|    at /);
    await env.waitServing([APP.namespace], 8000, 10_000);
  });

  test('pods --with-pids: the app is reached through an ephemeral container, with the exec route\'s cause', async () => {
    const r = await env.wand(['pods', `svc/${APP.service}`, '-n', APP.namespace, '--with-pids', '-o', 'json']);
    expect(r.code).toBe(0);
    const procs = (JSON.parse(r.stdout) as { pods: Array<{ processes: Array<{ recommended: boolean; debuggable: boolean; route: string | null; reason: string }> }> }).pods[0]!.processes;
    const worker = procs.find((p) => p.recommended)!;
    expect(worker).toMatchObject({ debuggable: false, route: 'ephemeral' });
    expect(worker.reason).toMatch(/Yama ptrace_scope=1/);
    const table = await env.wand(['pods', `svc/${APP.service}`, '-n', APP.namespace, '--with-pids']);
    expect(table.stdout).toMatch(/★.*through an ephemeral container \(kubectl exec: no permission to trace it: Yama ptrace_scope=1/);
  });

  test('doctor shows both routes: exec blocked by the Yama scope it read in the pod, ephemeral available; exits 0', async () => {
    const r = await env.wand(['doctor', `svc/${APP.service}`, '-n', APP.namespace, '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      cluster: Array<{ id: string; status: string }>;
      pods: Array<{ processes: Array<{ recommended: boolean; checks: Array<{ id: string; status: string; message: string }> }> }>;
    };
    const trace = doc.pods[0].processes.find((p) => p.recommended)!.checks.find((c) => c.id === 'trace')!;
    expect(trace.status).toBe('warn');
    expect(trace.message).toMatch(/^exec route: tracing not allowed \(Yama ptrace_scope=1.*\); ephemeral route: available/);
    expect(doc.cluster.find((c) => c.id === 'rbac-ephemeral')).toMatchObject({ status: 'pass' });
  });

  test('doctor without the RBAC for the ephemeral route: the tracing check fails, exit 1', async () => {
    const r = await env.wand(['doctor', `svc/${APP.service}`, '-n', APP.namespace, '-o', 'json', '--context', 'wand-test-nodebug']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { cluster: Array<{ id: string; status: string }>; pods: Array<{ processes: Array<{ recommended: boolean; checks: Array<{ id: string; status: string }> }> }> };
    expect(doc.cluster.find((c) => c.id === 'rbac-ephemeral')).toMatchObject({ status: 'warn' });
    expect(doc.pods[0].processes.find((p) => p.recommended)!.checks.find((c) => c.id === 'trace')).toMatchObject({ status: 'fail' });
  });
});
