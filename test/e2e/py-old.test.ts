/**
 * Python 3.9–3.13 end to end: no sys.remote_exec, so kubectl-wand's agent injects debugpy with its
 * ptrace injector (x86_64). A real DAP client stops on a breakpoint in uvicorn on 3.13 (Debian's,
 * its own debugpy), Flask on Debian 12's 3.11, and standard-library servers on the pyenv 3.12, 3.10
 * and 3.9 (debugpy copied in), and the session's end closes the listener; exec prints its output;
 * a reload re-injects the 3.13 worker; a 3.13 pool has both workers injected, its replacement pod
 * followed, and both listeners closed at the end.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { localDebugpyDir } from './support/local-debugpy';
import { debugArgs, hitScenarioBreakpoint, type ReadyEvent } from './support/scenario-debug';
import { SCENARIOS, type Scenario, type ScenarioId } from './support/apps';
import { e2eAvailable, startWandEnv, type WandChild, type WandEnv } from './support/wand-env';

const run = e2eAvailable() && process.arch === 'x64' ? describe : describe.skip;
jest.setTimeout(240_000);

const ATTACH: ScenarioId[] = ['py313', 'py-old/py311', 'py-old/py312', 'py-old/py310', 'py-old/py39'];
const RELOAD: ScenarioId = 'py313/reload';
/** py313.yaml's app under `uvicorn --workers 2`: a pool on 3.13 */
const POOL = SCENARIOS['py313-pool'];

run('Python 3.9–3.13 through the ptrace injector', () => {
  let env: WandEnv;
  const children: WandChild[] = [];

  beforeAll(async () => {
    const all = [...ATTACH, RELOAD, 'py313-pool' as const].map((id) => SCENARIOS[id]);
    env = await startWandEnv([...new Set(all.map((s) => s.manifest))]);
    await env.waitServing([...new Set(all.map((s) => s.namespace))], 8000);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.pid) process.kill(-c.child.pid, 'SIGKILL');
    }
  });
  afterAll(async () => {
    await env?.stop();
  });

  function startDebug(s: Scenario): WandChild {
    const args = debugArgs(s, ['--debugpy-from', localDebugpyDir()]);
    const child = env.spawnWand(args);
    children.push(child);
    return child;
  }

  async function stopSession(child: WandChild): Promise<number> {
    child.interrupt();
    return child.exited;
  }

  test.each(ATTACH)('%s: debug stops on the breakpoint', async (id) => {
    const s = SCENARIOS[id];
    const child = startDebug(s);
    const ev = (await child.nextEvent((e) => e.event === 'ready', 120_000)) as unknown as ReadyEvent;
    expect(ev.injector).toBe('ptrace');
    const hit = await hitScenarioBreakpoint(env, s, ev, { timeoutMs: 60_000 });
    expect(hit).toEqual({ stoppedLine: s.breakpointLine, stoppedPath: s.appFile, evaluated: s.expectedValue, requestCompleted: true });
    expect(await stopSession(child)).toBe(0);
    // the listener lifetime rules hold on these versions too: closed at the end, nothing left
    const stopped = child.lines.map((l) => JSON.parse(l) as { event: string; closed?: unknown }).find((e) => e.event === 'stopped');
    expect(stopped?.closed).toEqual([expect.objectContaining({ pid: ev.targets[0]!.pid, closed: true, reason: 'closed' })]);
  });

  test.each(ATTACH)('%s: exec prints its output on the caller\'s terminal', async (id) => {
    const s = SCENARIOS[id];
    const r = await env.wand(['exec', `svc/${s.service}`, '-n', s.namespace, '-q', '--code',
      "import sys, threading\nprint('main' if threading.current_thread() is threading.main_thread() else 'other')\nsys.version_info[:2]"]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const minor = s.image.split(':')[1]!.split('.')[1];
    expect(r.stdout).toBe(`main\n(3, ${minor})\n`);
  });

  test('3.13 pool (uvicorn --workers 2): both workers injected; the replacement pod followed; both closed at the end', async () => {
    const child = env.spawnWand(['debug', POOL.workload, '-n', POOL.namespace, '-o', 'json', '--local-port', '0', '--debugpy-from', localDebugpyDir()]);
    children.push(child);
    const ev = (await child.nextEvent((e) => e.event === 'ready', 120_000)) as unknown as ReadyEvent;
    expect(ev.injector).toBe('ptrace');
    expect(ev.targets).toHaveLength(2);
    const gone = await env.kubectl(['delete', 'pod', ev.pod, '-n', POOL.namespace, '--wait=false']);
    expect(gone.code).toBe(0);
    const again = (await child.nextEvent((e) => e.event === 'reconnected', 120_000)) as unknown as ReadyEvent;
    expect(again.pod).not.toBe(ev.pod);
    expect(again.injector).toBe('ptrace');
    expect(again.targets).toHaveLength(2);
    expect(await stopSession(child)).toBe(0);
    const stopped = child.lines.map((l) => JSON.parse(l) as { event: string; closed?: unknown }).find((e) => e.event === 'stopped');
    const closed = expect.objectContaining({ reason: 'closed' }) as unknown;
    expect(stopped?.closed).toEqual([closed, closed]);
  });

  test('3.13 under uvicorn --reload: the new worker is re-injected and stops on the breakpoint', async () => {
    const s = SCENARIOS[RELOAD];
    const child = startDebug(s);
    const ev = (await child.nextEvent((e) => e.event === 'ready', 120_000)) as unknown as ReadyEvent;
    const file = path.join(env.cluster.volumeDir(s.namespace, ev.pod, 'src'), path.basename(s.appFile));
    const source = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, `${source}\n# touched by the reload test\n`);
    const again = (await child.nextEvent((e) => e.event === 'reinjected', 60_000)) as unknown as ReadyEvent;
    expect(again.targets[0]!.pid).not.toBe(ev.targets[0]!.pid);
    expect(again.injector).toBe('ptrace');
    const hit = await hitScenarioBreakpoint(env, s, again, { timeoutMs: 60_000 });
    expect(hit.evaluated).toBe(s.expectedValue);
    expect(await stopSession(child)).toBe(0);
  });
});
