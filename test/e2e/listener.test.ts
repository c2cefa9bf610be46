/**
 * Issue 15 end to end: no debugger is left behind. After a `debug` session ends (Ctrl-C) nothing
 * listens on the debug port in the pod (/proc/net/tcp and tcp6 read there), no debug adapter runs,
 * tracing is off, and the app serves; a request held at a breakpoint completes; the same process
 * can be debugged again. --keep-listening keeps the listener until a later plain session ends;
 * two sessions share a listener that closes when the last one ends. `exec` and `stack` leave no
 * thread, file or socket behind. Real DAP clients throughout.
 */
import { attachAndHoldAtBreakpoint } from './support/dap';
import { debugArgs, hitScenarioBreakpoint, type SessionTarget } from './support/scenario-debug';
import { SCENARIOS, type Scenario } from './support/apps';
import { e2eAvailable, startWandEnv, type WandChild, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(420_000); // two or three full sessions per test, on a shared 2-core machine

const FLASK = SCENARIOS['flask-debug'];
const UVICORN = SCENARIOS['fastapi-uvicorn-reload'];
const GUNICORN = SCENARIOS['gunicorn-2-workers'];
const USED = [FLASK, UVICORN, GUNICORN];

interface Target extends SessionTarget {
  owner: string;
  otherSessions: number;
}
interface Ready {
  pod: string;
  targets: Target[];
}
interface Stopped {
  event: 'stopped';
  closed: Array<{ pid: number; closed: boolean; reason: string; port: number | null }>;
}
/** what the pod shows: TCP ports in LISTEN (its network namespace), live adapters, and per process */
interface PodState {
  listening: number[];
  adapters: number[];
  procs: Record<string, { threads: number; fds: number; rssKiB: number; sockets: number }>;
  wandFiles: string[];
}

const POD_STATE_PY = `
import json, os, sys
listening = set()
for path in ('/proc/net/tcp', '/proc/net/tcp6'):
    try:
        lines = open(path).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        if f[3] == '0A':
            listening.add(int(f[1].rsplit(':', 1)[1], 16))
adapters = []
for d in os.listdir('/proc'):
    if not d.isdigit():
        continue
    try:
        argv = open('/proc/%s/cmdline' % d, 'rb').read().split(b'\\0')
        stat = open('/proc/%s/stat' % d).read()
    except OSError:
        continue
    if b'--for-server' in argv and stat[stat.rindex(')') + 2] not in 'ZX':
        adapters.append(int(d))
procs = {}
for pid in sys.argv[1:]:
    status = dict(l.split(':', 1) for l in open('/proc/%s/status' % pid).read().splitlines() if ':' in l)
    fds = os.listdir('/proc/%s/fd' % pid)
    sockets = sum(1 for fd in fds if os.readlink('/proc/%s/fd/%s' % (pid, fd)).startswith('socket:'))
    procs[pid] = {'threads': int(status['Threads']), 'fds': len(fds), 'rssKiB': int(status['VmRSS'].split()[0]), 'sockets': sockets}
files = sorted(n for n in os.listdir('/tmp') if n.startswith('wand-') and not n.startswith('wand-debugpy-'))
print(json.dumps({'listening': sorted(listening), 'adapters': sorted(adapters), 'procs': procs, 'wandFiles': files}))
`;

run('kubectl wand debug: no debugger left behind (issue 15)', () => {
  let env: WandEnv;
  const children: WandChild[] = [];

  beforeAll(async () => {
    env = await startWandEnv([...new Set(USED.map((s) => s.manifest))]);
    await env.waitServing([...new Set(USED.map((s) => s.namespace))], 8000);
  });
  afterEach(() => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null && c.child.pid) process.kill(-c.child.pid, 'SIGKILL');
    }
  });
  afterAll(async () => {
    await env?.stop();
  });

  function startDebug(s: Scenario, extra: string[] = []): WandChild {
    const child = env.spawnWand(debugArgs(s, extra));
    children.push(child);
    return child;
  }
  const ready = async (child: WandChild) => (await child.nextEvent((e) => e.event === 'ready', 60_000)) as unknown as Ready;

  /** Ctrl-C; the session's `stopped` event (what the close did per process) */
  async function stop(child: WandChild): Promise<Stopped> {
    child.interrupt();
    expect(await child.exited).toBe(0);
    const stopped = child.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'stopped') as unknown as Stopped | undefined;
    // the stop message explains a close that went wrong
    if (!stopped || stopped.closed.some((c) => c.reason === 'error' || c.reason === 'incomplete')) throw new Error(`stop: ${child.stderr()}`);
    return stopped;
  }

  const request = (s: Scenario, pod: string) =>
    env.getApp(s, pod, 60_000);

  async function podState(s: Scenario, pod: string, pids: number[]): Promise<PodState> {
    const r = await env.kubectl(['exec', '-n', s.namespace, pod, '-c', s.container, '--', 'python3', '-c', POD_STATE_PY, ...pids.map(String)]);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as PodState;
  }

  /** sys.monitoring's debugger tool and sys.gettrace() in the process, through `kubectl wand exec` */
  async function tracing(s: Scenario, pid: number): Promise<string> {
    const r = await env.wand(['exec', `svc/${s.service}`, '-n', s.namespace, '--pid', String(pid), '-q', '--code',
      'import sys, threading; print(sys.monitoring.get_tool(sys.monitoring.DEBUGGER_ID), sys.gettrace(), [t.name for t in threading.enumerate() if t.name.startswith("pydevd")])']);
    expect(r.code).toBe(0);
    return r.stdout.trim();
  }

  /** stderr arrives on its own pipe, possibly after the stdout event that follows it */
  async function stderrShows(child: WandChild, pattern: RegExp): Promise<void> {
    for (let i = 0; i < 50 && !pattern.test(child.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  }

  async function hit(s: Scenario, ev: Ready, target: Target) {
    const h = await hitScenarioBreakpoint(env, s, ev, { target });
    expect(h.evaluated).toBe(s.expectedValue);
    // with several workers the held request may be one of several sent (see hitScenarioBreakpoint)
    if (ev.targets.length === 1) expect(h.requestCompleted).toBe(true);
  }

  /** the pod's state once two reads 0.5 s apart agree (a request thread may still be finishing) */
  async function settledState(s: Scenario, pod: string, pid: number): Promise<PodState> {
    let last = await podState(s, pod, [pid]);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const now = await podState(s, pod, [pid]);
      const counts = (st: PodState) => JSON.stringify(Object.values(st.procs).map((p) => [p.threads, p.fds, p.sockets]));
      if (counts(now) === counts(last)) return now;
      last = now;
    }
    return last;
  }

  async function expectNothingLeft(s: Scenario, ev: Ready): Promise<void> {
    const state = await podState(s, ev.pod, ev.targets.map((t) => t.pid));
    for (const t of ev.targets) expect(state.listening).not.toContain(t.remotePort);
    expect(state.adapters).toEqual([]);
    expect(state.wandFiles).toEqual([]);
    for (const t of ev.targets) expect(await tracing(s, t.pid)).toBe('None None []');
    expect(JSON.parse(await request(s, ev.pod))).toEqual({ value: 42 });
  }

  test('Flask reloader child: Ctrl-C closes the listener, a held request completes, the same PID attaches again', async () => {
    const child = startDebug(FLASK);
    const ev = await ready(child);
    const [target] = ev.targets as [Target];
    expect(target.owner).toBe('wand');
    expect((await podState(FLASK, ev.pod, [])).listening).toContain(target.remotePort);
    // an editor holds a request at the breakpoint when Ctrl-C arrives
    const held = await attachAndHoldAtBreakpoint({
      port: target.localPort, file: FLASK.appFile, line: FLASK.breakpointLine, timeoutMs: 30_000, trigger: () => request(FLASK, ev.pod),
    });
    expect(held.stoppedLine).toBe(FLASK.breakpointLine);
    const stopped = await stop(child);
    const outcome = await held.trigger;
    held.destroy();
    expect(outcome.ok).toBe(true);
    expect(JSON.parse((outcome as { value: string }).value)).toEqual({ value: 42 });
    expect(stopped.closed).toEqual([{ pid: target.pid, closed: true, reason: 'closed', port: target.remotePort }]);
    expect(child.stderr()).toMatch(new RegExp(`PID ${target.pid}: debugger closed — nothing listens on 127.0.0.1:${target.remotePort}`));
    await expectNothingLeft(FLASK, ev);

    // again: same process, no restart, fresh listener, a breakpoint stops
    const again = startDebug(FLASK);
    const ev2 = await ready(again);
    expect(ev2.targets[0]!.pid).toBe(target.pid);
    expect(ev2.targets[0]!.reused).toBe(false);
    await hit(FLASK, ev2, ev2.targets[0]!);
    expect((await stop(again)).closed[0]!.reason).toBe('closed');
    await expectNothingLeft(FLASK, ev2);
  });

  test('--keep-listening keeps the listener; a later plain session closes it at its end', async () => {
    const keep = startDebug(FLASK, ['--keep-listening']);
    const ev = await ready(keep);
    await hit(FLASK, ev, ev.targets[0]!);
    expect((await stop(keep)).closed[0]!.reason).toBe('keep-listening');
    expect(keep.stderr()).toMatch(/keeps listening on 127\.0\.0\.1:\d+ \(--keep-listening\).*without --keep-listening/);
    const kept = await podState(FLASK, ev.pod, []);
    expect(kept.listening).toContain(ev.targets[0]!.remotePort);
    expect(kept.adapters).toHaveLength(1);

    const plain = startDebug(FLASK);
    const ev2 = await ready(plain);
    expect(ev2.targets[0]!.pid).toBe(ev.targets[0]!.pid);
    expect(ev2.targets[0]!.reused).toBe(true);
    await hit(FLASK, ev2, ev2.targets[0]!);
    expect((await stop(plain)).closed[0]!.reason).toBe('closed');
    await expectNothingLeft(FLASK, ev2);
  });

  test('two sessions at once: the second joins; the listener closes when the last one ends', async () => {
    const first = startDebug(FLASK);
    const ev1 = await ready(first);
    expect(ev1.targets[0]!.otherSessions).toBe(0);
    const second = startDebug(FLASK);
    const ev2 = await ready(second);
    expect(ev2.targets[0]!.pid).toBe(ev1.targets[0]!.pid);
    expect(ev2.targets[0]!.reused).toBe(true);
    expect(ev2.targets[0]!.otherSessions).toBe(1);
    await stderrShows(second, /already being debugged/);
    expect(second.stderr()).toMatch(/already being debugged by another kubectl-wand session; joined — an editor may already be attached; the listener closes when the last session ends/);
    // each session's editor works
    await hit(FLASK, ev1, ev1.targets[0]!);
    await hit(FLASK, ev2, ev2.targets[0]!);
    const stoppedFirst = await stop(first);
    expect(stoppedFirst.closed[0]).toMatchObject({ closed: false, reason: 'other-sessions' });
    expect((await podState(FLASK, ev1.pod, [])).listening).toContain(ev1.targets[0]!.remotePort);
    await hit(FLASK, ev2, ev2.targets[0]!); // the remaining session's editor still attaches and stops
    expect((await stop(second)).closed[0]!.reason).toBe('closed');
    await expectNothingLeft(FLASK, ev2);
  });

  test.each([
    ['uvicorn reload worker', UVICORN],
    ['both gunicorn workers', GUNICORN],
  ] as const)('%s: closed at the end, nothing left', async (_, s) => {
    const child = startDebug(s);
    const ev = await ready(child);
    for (const t of ev.targets) await hit(s, ev, t);
    const stopped = await stop(child);
    expect(stopped.closed.map((c) => c.reason)).toEqual(ev.targets.map(() => 'closed'));
    await expectNothingLeft(s, ev);
  });

  test('the CLI killed (SIGKILL, no Ctrl-C): the agent sees its stdin end and closes what it injected', async () => {
    const child = startDebug(FLASK);
    const ev = await ready(child);
    const [target] = ev.targets as [Target];
    expect((await podState(FLASK, ev.pod, [])).listening).toContain(target.remotePort);
    // the whole foreground group: kubectl, the plugin and its port-forward; the agent's exec has a
    // group of its own (it must outlive a Ctrl-C) and ends when the plugin's pipe to it closes
    process.kill(-child.child.pid!, 'SIGKILL');
    await child.exited;
    let state = await podState(FLASK, ev.pod, []);
    for (let i = 0; i < 40 && (state.listening.includes(target.remotePort) || state.adapters.length > 0 || state.wandFiles.length > 0); i++) {
      await new Promise((r) => setTimeout(r, 250));
      state = await podState(FLASK, ev.pod, []);
    }
    await expectNothingLeft(FLASK, ev);
  });

  test('exec and stack leave no thread, file or socket behind', async () => {
    const pod = env.podName(FLASK.namespace);
    const listed = await env.wand(['pods', `svc/${FLASK.service}`, '-n', FLASK.namespace, '--with-pids', '-o', 'json']);
    const procs = (JSON.parse(listed.stdout) as { pods: Array<{ processes: Array<{ pid: number; recommended: boolean }> }> }).pods[0]!.processes;
    const pid = procs.find((p) => p.recommended)!.pid;
    const before = await settledState(FLASK, pod, pid);
    for (let i = 0; i < 3; i++) {
      const e = await env.wand(['exec', `svc/${FLASK.service}`, '-n', FLASK.namespace, '--pid', String(pid), '-q', '--code', '6 * 7']);
      expect(e.stdout.trim()).toBe('42');
      const st = await env.wand(['stack', `svc/${FLASK.service}`, '-n', FLASK.namespace, '--pid', String(pid)]);
      expect(st.code).toBe(0);
    }
    const after = await settledState(FLASK, pod, pid);
    expect(after.procs[pid]).toMatchObject({ threads: before.procs[pid]!.threads, fds: before.procs[pid]!.fds, sockets: before.procs[pid]!.sockets });
    expect(after.listening).toEqual(before.listening);
    expect(after.adapters).toEqual([]);
    expect(after.wandFiles).toEqual([]);
  });

});
