/**
 * Choosing a pod as users do: `--pod` by a unique start of its name (an ambiguous one lists the
 * candidates, a usage mistake).
 */
import { SCENARIOS } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(180_000);

const REPLICAS = SCENARIOS['multi-replica'];

/** The shortest start of `name` that no other name shares. */
function uniquePrefix(name: string, others: string[]): string {
  for (let n = 1; n <= name.length; n++) {
    const prefix = name.slice(0, n);
    if (!others.some((o) => o !== name && o.startsWith(prefix))) return prefix;
  }
  return name;
}

run('choosing pods', () => {
  let env: WandEnv;
  let pods: string[];

  beforeAll(async () => {
    env = await startWandEnv([REPLICAS.manifest]);
    await env.waitServing([REPLICAS.namespace], 8000);
    const r = await env.kubectl(['get', 'pods', '-n', REPLICAS.namespace, '-o', 'jsonpath={.items[*].metadata.name}']);
    pods = r.stdout.trim().split(/\s+/).sort();
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('--pod takes a unique start of a pod name', async () => {
    expect(pods).toHaveLength(REPLICAS.replicas);
    const target = pods[1]!;
    const prefix = uniquePrefix(target, pods);
    expect(prefix.length).toBeLessThan(target.length);
    const r = await env.wand(['stack', `svc/${REPLICAS.service}`, '-n', REPLICAS.namespace, '--pod', prefix]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pod ${target}, container ${REPLICAS.container}`);
  });

  test('an ambiguous start lists the candidates: usage error, exit 2, with a hint', async () => {
    const r = await env.wand(['stack', `svc/${REPLICAS.service}`, '-n', REPLICAS.namespace, '--pod', 'api-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: --pod api- matches 3 pods: ${pods.join(', ')}$`, 'm'));
    expect(r.stderr).toMatch(/^hint: type more of the name: --pod takes a unique start of one of: /m);
    expect(r.kubectlCalls.filter((c) => c[0] === 'exec')).toHaveLength(0);
  });
});
