/**
 * Soak: N debug sessions against one live process — attach, a real DAP session that stops on a
 * breakpoint, detach, Ctrl-C — and nothing accumulates: every session listens afresh in the same
 * process (the previous one closed its listener, issue 15), the app answers every request, no
 * debug adapter and nothing listening on the debug port after each cycle, the process's thread
 * and fd counts come back to their value after the first cycle (at most 2 more: request threads
 * finishing), its RSS stays within 30 MB of that value, no local port-forward and no wand-* file
 * left. Prints the thread, fd and RSS figures of every cycle. N = WAND_SOAK_CYCLES (5 by default,
 * for CI; issue 15's figures: WAND_SOAK_CYCLES=20 npx jest test/e2e/soak.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { debugArgs, hitScenarioBreakpoint } from './support/scenario-debug';
import { SCENARIOS } from './support/apps';
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

  /** the worker's threads, fds and RSS, and what listens / which adapters run, read in the pod */
  async function inPod(pod: string, pid: number): Promise<{ threads: number; fds: number; rssKiB: number; listening: number[]; adapters: unknown[] }> {
    const r = await env.kubectl(['exec', '-n', S.namespace, pod, '-c', S.container, '--', 'python3', '-c', [
      'import json, os, sys',
      'pid = sys.argv[1]',
      'st = dict(l.split(":", 1) for l in open("/proc/%s/status" % pid).read().splitlines() if ":" in l)',
      'listening = sorted({int(l.split()[1].rsplit(":", 1)[1], 16) for p in ("/proc/net/tcp", "/proc/net/tcp6") for l in open(p).read().splitlines()[1:] if l.split()[3] == "0A"})',
      'def live_adapter(d):',
      '    try:',
      '        argv, stat = open("/proc/%s/cmdline" % d, "rb").read(), open("/proc/%s/stat" % d).read()',
      '    except OSError:',
      '        return False',
      '    args = argv.split(b"\\0")',
      '    return b"--for-server" in args and stat[stat.rindex(")") + 2] not in "ZX" and (d, stat[stat.rindex(")") + 2], b" ".join(args).decode()[:200])',
      'adapters = [a for a in (live_adapter(d) for d in os.listdir("/proc") if d.isdigit()) if a]',
      'print(json.dumps({"threads": int(st["Threads"]), "fds": len(os.listdir("/proc/%s/fd" % pid)), "rssKiB": int(st["VmRSS"].split()[0]), "listening": listening, "adapters": adapters}))',
    ].join('\n'), String(pid)]);
    return JSON.parse(r.stdout) as { threads: number; fds: number; rssKiB: number; listening: number[]; adapters: unknown[] };
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
    const figures: Array<{ threads: number; fds: number; rssKiB: number }> = [];

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const child = env.spawnWand(debugArgs(S));
      try {
        const ready = (await child.nextEvent((e) => e.event === 'ready', 60_000)) as { pod: string; targets: Array<{ pid: number; localPort: number; reused: boolean }> };
        expect(ready.pod).toBe(pod);
        const [target] = ready.targets;
        targetPid ??= target!.pid;
        expect(target!.pid).toBe(targetPid); // the same process every time
        expect(target!.reused).toBe(false); // the previous session closed its listener: listens afresh
        const hit = await hitScenarioBreakpoint(env, S, ready);
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

      expect(JSON.parse(await env.getApp(S, pod, 30_000))).toEqual({ value: 42 });
      const procs = await processes();
      expect(procs.filter((p) => p.role === 'debug-adapter')).toEqual([]);
      const seen = await inPod(pod, targetPid!);
      expect(seen.adapters).toEqual([]);
      expect(seen.listening).not.toContain(5679);
      figures.push(seen);
      expect(seen.threads).toBeLessThanOrEqual(figures[0]!.threads + 2);
      expect(seen.fds).toBeLessThanOrEqual(figures[0]!.fds + 2);
      expect(localForwards(env.env.PATH!.split(':')[0]!)).toEqual([]);
      expect(await wandFiles(pod)).toBe('');
      const worker = procs.find((p) => p.pid === targetPid)!;
      expect(worker).toBeDefined();
      baseline ??= worker.rssBytes;
      expect(worker.rssBytes - baseline).toBeLessThan(30 * MB);
    }
    process.stderr.write(
      `soak: ${CYCLES} cycles against PID ${targetPid}, after each cycle:\n` +
        `  threads: ${figures.map((f) => f.threads).join(' ')}\n` +
        `  fds:     ${figures.map((f) => f.fds).join(' ')}\n` +
        `  RSS MiB: ${figures.map((f) => (f.rssKiB / 1024).toFixed(1)).join(' ')}\n`,
    );
  });
});
