/**
 * Soak: N debug sessions against one live process — attach, a real DAP session that stops on a
 * breakpoint, detach, Ctrl-C — and nothing accumulates: the app answers every request, its RSS
 * stays within 30 MB of the value after the first cycle, one debug adapter at most, no local
 * port-forward and no wand-* file left after each cycle. N = WAND_SOAK_CYCLES (5 by default; 50
 * on demand: WAND_SOAK_CYCLES=50 npx jest test/e2e/soak.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { attachAndHitBreakpoint } from './support/dap';
import { SCENARIOS } from './support/apps';
import { httpGetInPod } from './support/http-in-pod';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
const CYCLES = Number(process.env.WAND_SOAK_CYCLES ?? 5);
jest.setTimeout(60_000 + CYCLES * 20_000);

const S = SCENARIOS['flask-debug'];
const MB = 1 << 20;

interface Proc {
  pid: number;
  role: string;
  recommended: boolean;
  rssBytes: number;
}

/** our local `kubectl port-forward`s: the counting wrapper of this env's bin dir runs each one
 * (other suites may run at the same time on this machine, with their own) */
function localForwards(binDir: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return cmd.includes('port-forward') && cmd.some((a) => a.startsWith(`${binDir}/`)) ? [cmd.join(' ')] : [];
      } catch {
        return [];
      }
    });
}

run(`kubectl wand debug: soak (${CYCLES} cycles)`, () => {
  let env: WandEnv;

  beforeAll(async () => {
    env = await startWandEnv([S.manifest]);
    await env.waitServing([S.namespace], 8000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function processes(): Promise<Proc[]> {
    const r = await env.wand(['pods', `svc/${S.service}`, '-n', S.namespace, '--with-pids', '-o', 'json']);
    expect(r.code).toBe(0);
    return (JSON.parse(r.stdout) as { pods: Array<{ processes: Proc[] }> }).pods[0]!.processes;
  }

  async function wandFiles(pod: string): Promise<string> {
    const r = await env.kubectl(['exec', '-n', S.namespace, pod, '-c', S.container, '--', 'python3', '-c',
      'import os; print("\\n".join(n for n in os.listdir("/tmp") if n.startswith("wand-") and not n.startswith("wand-debugpy-")))']);
    return r.stdout.trim();
  }

  test('attach, stop on a breakpoint, detach — again and again', async () => {
    const pod = env.podName(S.namespace);
    let baseline: number | undefined;
    let targetPid: number | undefined;
    const rss: number[] = [];
    const request = () => httpGetInPod(['--kubeconfig', env.cluster.kubeconfig, '-n', S.namespace], pod, S.container, S.url, { timeoutMs: 30_000 });

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const child = env.spawnWand(['debug', `svc/${S.service}`, '-n', S.namespace, '-o', 'json', '--local-port', '0']);
      try {
        const ready = (await child.nextEvent((e) => e.event === 'ready', 60_000)) as { pod: string; targets: Array<{ pid: number; localPort: number; reused: boolean }> };
        expect(ready.pod).toBe(pod);
        const [target] = ready.targets;
        targetPid ??= target!.pid;
        expect(target!.pid).toBe(targetPid); // the same process every time
        expect(target!.reused).toBe(cycle > 1); // debugpy kept listening: reused, not injected again
        const hit = await attachAndHitBreakpoint({
          port: target!.localPort, file: S.appFile, line: S.breakpointLine, evaluate: S.evaluate, timeoutMs: 30_000, trigger: request,
        });
        expect(hit.evaluated).toBe(S.expectedValue);
        expect(hit.requestCompleted).toBe(true);
        child.interrupt();
        expect(await child.exited).toBe(0);
      } finally {
        if (child.child.exitCode === null && child.child.signalCode === null && child.child.pid) {
          try {
            process.kill(-child.child.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }

      expect(JSON.parse(await request())).toEqual({ value: 42 });
      const procs = await processes();
      expect(procs.filter((p) => p.role === 'debug-adapter').length).toBeLessThanOrEqual(1);
      expect(localForwards(env.env.PATH!.split(':')[0]!)).toEqual([]);
      expect(await wandFiles(pod)).toBe('');
      const worker = procs.find((p) => p.pid === targetPid)!;
      expect(worker).toBeDefined();
      rss.push(worker.rssBytes);
      baseline ??= worker.rssBytes;
      expect(worker.rssBytes - baseline).toBeLessThan(30 * MB);
    }
    process.stderr.write(`soak: ${CYCLES} cycles, worker RSS (MB) after each: ${rss.map((b) => (b / MB).toFixed(1)).join(' ')}\n`);
  });
});
