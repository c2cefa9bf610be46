import {
  choosePod,
  chooseProcesses,
  describeChoice,
  sortCandidates,
  type PodSummary,
  type ProcessChoice,
  type ProcessChoiceError,
} from '../../../src/select/choose';
import { classifyProcesses, type ClassifiedProcess } from '../../../src/select/roles';
import { fixture, proc, SPAWN } from './helpers';

function classified(name: string): ClassifiedProcess[] {
  return classifyProcesses(fixture(name));
}

function chosen(result: ProcessChoice | ProcessChoiceError): ProcessChoice {
  if ('error' in result) throw new Error(`expected a choice, got ${result.error}: ${result.message}`);
  return result;
}

function failed(result: ProcessChoice | ProcessChoiceError): ProcessChoiceError {
  if (!('error' in result)) throw new Error(`expected an error, got ${result.reason}`);
  return result;
}

describe('chooseProcesses without --pid', () => {
  it.each([
    ['uvicorn-reload', [8], 'PID 8 — uvicorn --reload worker (the reloader PID 1 only restarts it)'],
    ['fastapi-dev', [8], 'PID 8 — fastapi dev worker (the reloader PID 1 only restarts it)'],
    ['flask-debug', [9], 'PID 9 — flask worker (the reloader PID 1 only restarts it)'],
    ['django-runserver-sh', [11], 'PID 11 — django runserver worker (the reloader PID 9 only restarts it)'],
    ['uvicorn-run-reload-script', [8], 'PID 8 — worker of python3 run_uvicorn.py (the reloader PID 1 only restarts it)'],
    [
      'gunicorn-2-workers',
      [7, 8],
      'PIDs 7, 8 — gunicorn workers (the arbiter PID 1 only manages them; a request may land on any of them)',
    ],
    [
      'gunicorn-reload',
      [7, 9],
      'PIDs 7, 9 — gunicorn --reload workers (the arbiter PID 1 only manages them; a request may land on any of them)',
    ],
    [
      'uvicorn-workers-2',
      [8, 9],
      'PIDs 8, 9 — uvicorn workers (the supervisor PID 1 only manages them; a request may land on any of them)',
    ],
    ['tini-python', [7], 'PID 7 — python3 server.py (the only Python process)'],
    ['http-server', [1], 'PID 1 — python3 -m http.server 8000 (the only Python process)'],
    [
      'http-server-debugpy',
      [1],
      'PID 1 — python3 -m http.server 8000 (the only application process; the others are helpers)',
    ],
  ])('%s → %j', (name, pids, reason) => {
    const result = chosen(chooseProcesses(classified(name)));
    expect(result.chosen.map((p) => p.pid)).toEqual(pids);
    expect(result.reason).toBe(reason);
  });

  it('refuses a recommended process that cannot be debugged, saying why', () => {
    const old = failed(chooseProcesses(classified('http-server-python3.13')));
    expect(old.error).toBe('not-debuggable');
    expect(old.message).toBe('cannot debug PID 1: Python 3.13.15: remote attach needs 3.14 or newer');
    expect(old.candidates.map((p) => p.pid)).toEqual([1]);
    const disabled = failed(chooseProcesses(classified('disable-remote-debug')));
    expect(disabled.message).toBe('cannot debug PID 1: started with -X disable-remote-debug');
  });

  it('takes the debuggable workers and names the ones it skips', () => {
    const table = classified('gunicorn-2-workers').map((p) =>
      p.pid === 8 ? { ...p, debuggable: false, reason: 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment' } : p,
    );
    const result = chosen(chooseProcesses(table));
    expect(result.chosen.map((p) => p.pid)).toEqual([7]);
    expect(result.reason).toBe(
      'PID 7 — gunicorn worker (the arbiter PID 1 only manages it); skipped PID 8: PYTHON_DISABLE_REMOTE_DEBUG is set in its environment',
    );
    const none = failed(chooseProcesses(table.map((p) => (p.pid === 7 ? { ...p, debuggable: false, reason: null } : p))));
    expect(none.message).toBe('cannot debug PIDs 7, 8: PID 7: not debuggable; PID 8: PYTHON_DISABLE_REMOTE_DEBUG is set in its environment');
  });

  it('says "starting" when a reloader has no worker right now', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', '-m', 'uvicorn', 'main:app', '--reload'])]);
    const result = failed(chooseProcesses(table));
    expect(result.error).toBe('starting');
    expect(result.message).toBe(
      'the uvicorn --reload reloader (PID 1) has no worker right now: it is starting or restarting one — try again in a moment',
    );
  });

  it('says "starting" even when an exec\'d Python shell is the only other Python process', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', '/usr/bin/flask', 'run', '--debug']), proc(30, 0, ['python3'])]);
    expect(failed(chooseProcesses(table))).toMatchObject({ error: 'starting' });
  });

  it('ambiguous: several Python processes and no recommendation → candidates for a prompt', () => {
    const table = classifyProcesses([
      proc(1, 0, ['sh', '-c', 'x']),
      proc(6, 1, ['python3', 'b.py'], { debuggable: false, reason: 'x' }),
      proc(7, 1, ['python3', 'a.py']),
      proc(9, 0, ['python3', '-c', 'from multiprocessing.resource_tracker import main;main(4)']),
    ]);
    const result = failed(chooseProcesses(table));
    expect(result.error).toBe('ambiguous');
    expect(result.candidates.map((p) => p.pid)).toEqual([7, 6]);
    expect(result.message).toBe(
      '2 Python processes and none of them clearly serves requests: choose one with --pid (7 python3 a.py; 6 python3 b.py)',
    );
  });

  it('falls back to the only Python process that is not infrastructure', () => {
    const table = classified('http-server-debugpy').map((p) => ({ ...p, recommended: false, why: null }));
    const result = chosen(chooseProcesses(table));
    expect(result.chosen.map((p) => p.pid)).toEqual([1]);
    expect(result.reason).toBe('PID 1 — python3 -m http.server 8000 (the only Python process that is not a helper)');
    const refused = failed(chooseProcesses(table.map((p) => ({ ...p, debuggable: false, reason: 'no ptrace rights' }))));
    expect(refused).toMatchObject({ error: 'not-debuggable', message: 'cannot debug PID 1: no ptrace rights' });
  });

  it('a main with Python children of its own is not assumed to serve', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', 'app.py']), proc(5, 1, ['python3', 'app.py'])]);
    expect(table.map((p) => p.role)).toEqual(['main', 'other']);
    expect(failed(chooseProcesses(table)).error).toBe('ambiguous');
  });

  it('no Python process at all, or only helpers', () => {
    const none = failed(chooseProcesses(classifyProcesses([proc(1, 0, ['nginx'])])));
    expect(none).toMatchObject({ error: 'no-python', message: 'nothing to debug in this container: no Python process' });
    const helpers = failed(chooseProcesses(classifyProcesses([proc(3, 0, ['python3', '-m', 'debugpy.adapter', '--port', '5679'])])));
    expect(helpers.message).toBe('nothing to debug in this container: only debug-adapter processes');
  });
});

describe('chooseProcesses with --pid', () => {
  it('an explicit PID wins over the recommendation', () => {
    const result = chosen(chooseProcesses(classified('gunicorn-2-workers'), { pid: 8 }));
    expect(result.chosen.map((p) => p.pid)).toEqual([8]);
    expect(result.reason).toBe('PID 8 — python3 /usr/bin/gunicorn -w 2 -b 0.0.0.0:8000 app:app (chosen with --pid)');
  });

  it('a process picked at a prompt is said to be chosen, not named with --pid', () => {
    const processes = classified('gunicorn-2-workers');
    const worker = processes.find((p) => p.pid === 8)!;
    expect(describeChoice([worker], processes, { explicit: 'prompt' })).toBe('PID 8 — python3 /usr/bin/gunicorn -w 2 -b 0.0.0.0:8000 app:app (chosen)');
  });

  it('an explicit manager is allowed, with a note on who serves', () => {
    const result = chosen(chooseProcesses(classified('uvicorn-reload'), { pid: 1 }));
    expect(result.reason).toBe(
      'PID 1 — python3 -m uvicorn main:app --reload --host 0.0.0.0 --port … (chosen with --pid; it is the reloader: requests are served by PID 8)',
    );
    const alone = chosen(chooseProcesses(classifyProcesses([proc(1, 0, ['python3', '/usr/bin/gunicorn', 'a:app'])]), { pid: 1 }));
    expect(alone.reason).toBe('PID 1 — python3 /usr/bin/gunicorn a:app (chosen with --pid; it is the arbiter)');
  });

  it('absent PID', () => {
    const result = failed(chooseProcesses(classified('uvicorn-reload'), { pid: 42 }));
    expect(result).toMatchObject({ error: 'no-such-process', message: 'no process with PID 42 in this container; Python processes: 8, 1' });
    const empty = failed(chooseProcesses([], { pid: 1 }));
    expect(empty.message).toBe('no process with PID 1 in this container');
  });

  it('not a Python process', () => {
    const result = failed(chooseProcesses(classified('tini-python'), { pid: 1 }));
    expect(result).toMatchObject({ error: 'not-python', message: 'PID 1 (tini -- python3 server.py) is not a Python process' });
    expect(result.candidates.map((p) => p.pid)).toEqual([7]);
  });

  it('not debuggable', () => {
    const result = failed(chooseProcesses(classified('disable-remote-debug'), { pid: 1 }));
    expect(result).toMatchObject({ error: 'not-debuggable', message: 'cannot debug PID 1: started with -X disable-remote-debug' });
  });
});

describe('sortCandidates', () => {
  it('recommended first, then worker, main, managers, other; debuggable before not; then PID', () => {
    const table = classifyProcesses([
      proc(1, 0, ['python3', '-m', 'uvicorn', 'm:app', '--reload']),
      proc(9, 1, SPAWN),
      proc(20, 9, ['python3', 'sub.py']),
      proc(30, 0, ['python3', 'a.py'], { debuggable: false }),
      proc(31, 0, ['python3', 'b.py']),
    ]);
    expect(sortCandidates(table).map((p) => p.pid)).toEqual([9, 31, 30, 1, 20]);
  });
});

describe('describeChoice', () => {
  it('handles an empty choice and workers of several servers', () => {
    expect(describeChoice([], [])).toBe('no process chosen');
    const table = classifyProcesses([
      proc(1, 0, ['/pause']),
      proc(5, 0, ['python3', '-m', 'uvicorn', 'a:app', '--reload']),
      proc(6, 5, SPAWN),
      proc(7, 0, ['python3', '-m', 'uvicorn', 'b:app', '--reload']),
      proc(8, 7, SPAWN),
    ]);
    expect(describeChoice(table.filter((p) => p.recommended), table)).toBe('PIDs 6, 8 — workers of 2 servers (PIDs 5, 7)');
  });

  it('a worker whose manager is not in the table', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', '/usr/bin/gunicorn', 'a:app']), proc(7, 1, ['python3', '/usr/bin/gunicorn', 'a:app'])]);
    expect(describeChoice([table[1]], [table[1]])).toBe('PID 7 — gunicorn worker');
  });

  it('several non-workers', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', 'a.py']), proc(2, 0, ['python3', 'b.py'])]);
    expect(describeChoice(table, table)).toBe('PIDs 1, 2 — python3 a.py; python3 b.py');
  });
});

describe('choosePod', () => {
  const pod = (name: string, created: string, extra: Partial<PodSummary> = {}): PodSummary => ({
    name,
    phase: 'Running',
    ready: true,
    creationTimestamp: created,
    deletionTimestamp: null,
    ...extra,
  });

  it('the only Running pod', () => {
    const result = choosePod([pod('web-a', '2026-01-01T00:00:00Z'), pod('web-b', '2026-01-02T00:00:00Z', { phase: 'Pending', ready: false })]);
    expect(result).toMatchObject({ chosen: { name: 'web-a' }, reason: 'pod web-a (the only Running pod)' });
  });

  it('the newest Ready Running pod when several', () => {
    const pods = [
      pod('web-old', '2026-01-01T00:00:00Z'),
      pod('web-new', '2026-01-03T00:00:00Z'),
      pod('web-unready', '2026-01-04T00:00:00Z', { ready: false }),
      pod('web-going', '2026-01-05T00:00:00Z', { deletionTimestamp: '2026-01-06T00:00:00Z' }),
    ];
    const result = choosePod(pods);
    expect(result).toMatchObject({ chosen: { name: 'web-new' }, reason: 'pod web-new (the newest of 2 Ready pods)' });
    if ('candidates' in result && !('error' in result)) {
      expect(result.candidates.map((p) => p.name)).toEqual(['web-new', 'web-old', 'web-unready']);
    }
  });

  it('one Ready among several Running', () => {
    const pods = [pod('a', '2026-01-01T00:00:00Z'), pod('b', '2026-01-03T00:00:00Z', { ready: false })];
    expect(choosePod(pods)).toMatchObject({ chosen: { name: 'a' }, reason: 'pod a (the only Ready pod of 2 Running)' });
  });

  it('no Ready pod: the newest Running one (a failing readiness probe is a reason to debug)', () => {
    const pods = [pod('a', '2026-01-01T00:00:00Z', { ready: false }), pod('b', '2026-01-03T00:00:00Z', { ready: false })];
    expect(choosePod(pods)).toMatchObject({ chosen: { name: 'b' }, reason: 'pod b (the newest of 2 Running pods; none is Ready)' });
    expect(choosePod([pods[0]])).toMatchObject({ reason: 'pod a (the only Running pod, not Ready)' });
  });

  it('same creation time: by name, for a stable answer', () => {
    const pods = [pod('b', '2026-01-01T00:00:00Z'), pod('a', '2026-01-01T00:00:00Z')];
    expect(choosePod(pods)).toMatchObject({ chosen: { name: 'a' } });
  });

  it('errors: no pods, none Running', () => {
    expect(choosePod([])).toEqual({ error: 'no-pods', message: 'no pods matched', candidates: [] });
    const result = choosePod([
      pod('a', '2026-01-01T00:00:00Z', { phase: 'Pending', ready: false }),
      pod('b', '2026-01-01T00:00:00Z', { deletionTimestamp: '2026-01-02T00:00:00Z' }),
    ]);
    expect(result).toMatchObject({ error: 'none-running', message: 'no Running pod (a Pending, b Terminating)' });
  });

  it('a named pod wins, even not Ready or terminating, but must be Running and exist', () => {
    const pods = [pod('a', '2026-01-01T00:00:00Z'), pod('b', '2026-01-02T00:00:00Z', { ready: false }), pod('c', '2026-01-03T00:00:00Z', { phase: 'Failed' })];
    expect(choosePod(pods, { name: 'b' })).toMatchObject({ chosen: { name: 'b' }, reason: 'pod b (named)' });
    expect(choosePod(pods, { name: 'c' })).toMatchObject({ error: 'pod-not-running', message: 'pod c is Failed, not Running' });
    const missing = choosePod(pods, { name: 'zz' });
    expect(missing).toMatchObject({ error: 'no-such-pod', message: 'no pod named zz' });
    expect('error' in missing && missing.candidates.map((p) => p.name)).toEqual(['a', 'b']);
  });
});
