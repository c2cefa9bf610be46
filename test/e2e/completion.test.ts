/**
 * Completion end to end: `kubectl wand completion install` puts kubectl_complete-wand beside the
 * kubectl-wand on PATH, then the real kubectl's own completion entry point (`kubectl __complete
 * wand …`, what kubectl's shell scripts call on TAB) runs it against the test cluster.
 */
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { SCENARIOS } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

const flask = SCENARIOS['flask-debug'];
const sidecar = SCENARIOS['two-container/plain'];
const TARGET_COMMANDS = ['pods', 'debug', 'exec', 'stack', 'doctor'];

interface Completed {
  values: string[];
  directive: number;
}

run('kubectl __complete wand … with kubectl_complete-wand on PATH', () => {
  let env: WandEnv;
  let installed: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    env = await startWandEnv([flask.manifest, sidecar.manifest]);
    installed = await env.wand(['completion', 'install']);
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function complete(...words: string[]): Promise<Completed> {
    const result = await env.kubectl(['__complete', 'wand', ...words]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    const last = lines.pop() ?? '';
    expect(last).toMatch(/^:\d+$/);
    return { values: lines.map((line) => line.split('\t')[0]!), directive: Number(last.slice(1)) };
  }

  test('completion install links the helper beside the kubectl-wand on PATH', async () => {
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    const bin = env.env.PATH!.split(':')[0]!;
    const helper = path.join(bin, 'kubectl_complete-wand');
    expect(installed.stdout).toContain(`installed: ${helper}`);
    expect((await lstat(helper)).isSymbolicLink()).toBe(true);
    expect(await readlink(helper)).toBe('kubectl-wand');
    const again = await env.wand(['completion', 'install']);
    expect(again.stdout).toContain(`already installed: ${helper}`);
  });

  test('subcommands, then flags', async () => {
    const commands = await complete('');
    expect(commands.values).toEqual(expect.arrayContaining(['pods', 'completion']));
    expect(commands.directive).toBe(4);
    expect((await complete('pods', '--wi')).values).toEqual(['--with-pids']);
    expect((await complete('completion', '')).values.sort()).toEqual(['install', 'print']);
  });

  test('TYPE/NAME targets come from the cluster, for every command that takes one', async () => {
    const commands = (await complete('')).values.filter((c) => TARGET_COMMANDS.includes(c));
    expect(commands).toContain('pods');
    for (const command of commands) {
      const services = await complete(command, '-n', sidecar.namespace, 'svc/');
      expect({ command, values: services.values.sort() }).toEqual({ command, values: ['svc/annotated', 'svc/plain'] });
      const deployments = await complete(command, `--namespace=${sidecar.namespace}`, 'deploy/p');
      expect({ command, values: deployments.values }).toEqual({ command, values: ['deploy/plain'] });
    }
  });

  test('a bare word offers pod names and the TYPE/ prefixes', async () => {
    const pod = env.podName(flask.namespace);
    const { values } = await complete('pods', '-n', flask.namespace, '');
    expect(values).toEqual(expect.arrayContaining([pod, 'svc/', 'deploy/']));
    const types = await complete('pods', '-n', flask.namespace, 'sv');
    expect(types).toEqual({ values: ['svc/'], directive: 4 | 2 });
  });

  test('namespaces after -n, contexts after --context', async () => {
    const namespaces = await complete('pods', '-n', 'wand-');
    expect(namespaces.values.sort()).toEqual([flask.namespace, sidecar.namespace].sort());
    const contexts = await complete('pods', '--context', '');
    const current = (await env.kubectl(['config', 'current-context'])).stdout.trim();
    expect(contexts.values).toContain(current);
    const scoped = await complete('pods', '--context', current, '-n', flask.namespace, 'svc/');
    expect(scoped.values).toEqual([`svc/${flask.service}`]);
  });

  test('containers after -c are those of the target typed', async () => {
    const { values } = await complete('pods', `svc/${sidecar.service}`, '-n', sidecar.namespace, '-c', '');
    expect(values.sort()).toEqual([sidecar.container, ...sidecar.sidecars].sort());
  });

  test("without -n, the kubeconfig context's namespace", async () => {
    const current = (await env.kubectl(['config', 'current-context'])).stdout.trim();
    const set = await env.kubectl(['config', 'set-context', current, `--namespace=${flask.namespace}`]);
    expect(set.code).toBe(0);
    expect((await complete('pods', 'svc/')).values).toEqual([`svc/${flask.service}`]);
  });
});
