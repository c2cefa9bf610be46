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
    const r = await env.wand(['debug', `svc/${APP.service}`, '-n', APP.namespace, '--local-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot debug PID \d+: no permission to trace it: Yama ptrace_scope=1 lets only a parent attach without CAP_SYS_PTRACE, which the agent lacks$/m);
    expect(r.stderr).toMatch(/^hint: .*kubectl debug/m);
    expect(r.stderr).not.toMatch(/Traceback|    at /);
    await env.waitServing([APP.namespace], 8000, 10_000);
  });

  test('doctor fails the tracing check, naming the scope it read in the pod', async () => {
    const r = await env.wand(['doctor', `svc/${APP.service}`, '-n', APP.namespace, '-o', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { pods: Array<{ processes: Array<{ recommended: boolean; checks: Array<{ id: string; status: string; message: string }> }> }> };
    const trace = doc.pods[0].processes.find((p) => p.recommended)!.checks.find((c) => c.id === 'trace')!;
    expect(trace).toMatchObject({ status: 'fail', message: expect.stringContaining('Yama ptrace_scope=1') });
  });
});
