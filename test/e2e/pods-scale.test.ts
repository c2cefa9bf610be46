/**
 * `pods --with-pids` over 20 pods: resolve the target, list its pods, then one exec per pod, all
 * in parallel — 2 + N kubectl calls. (Wall times are measured by `npm run bench`, not asserted.)
 */
import { SCENARIOS } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(180_000);

run('kubectl wand pods at scale', () => {
  let env: WandEnv;
  const s = SCENARIOS['many-pods'];

  beforeAll(async () => {
    env = await startWandEnv([s.manifest]);
    await env.waitServing([s.namespace], 8000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('20 pods: 2 + 20 kubectl calls, every pod listed with its worker', async () => {
    const r = await env.wand(['pods', s.workload.replace('deployment/', 'deploy/'), '-n', s.namespace, '--with-pids', '-o', 'json']);
    expect(r.code).toBe(0);
    const pods = (JSON.parse(r.stdout) as { pods: Array<{ processes: Array<{ recommended: boolean }> | null }> }).pods;
    expect(pods).toHaveLength(20);
    expect(pods.every((p) => p.processes?.some((proc) => proc.recommended))).toBe(true);
    expect(r.kubectlCalls).toHaveLength(22);
    expect(r.kubectlCalls.filter((c) => c[0] === 'exec')).toHaveLength(20);
  });
});
