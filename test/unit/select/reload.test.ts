import { followReload, isSameProcess, type ReloadOutcome } from '../../../src/select/reload';
import { classifyProcesses, type ClassifiedProcess } from '../../../src/select/roles';
import type { ProcessRecord } from '../../../src/agent/contract';
import { fixture, proc } from './helpers';

function table(records: ProcessRecord[]): ClassifiedProcess[] {
  return classifyProcesses(records);
}

function olderBy(records: ProcessRecord[], seconds: number): ProcessRecord[] {
  return records.map((r) => ({ ...r, uptimeSeconds: r.uptimeSeconds + seconds }));
}

function pids(processes: readonly ClassifiedProcess[]): number[] {
  return processes.map((p) => p.pid);
}

function summary(outcome: ReloadOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'replaced':
      return { kind: outcome.kind, targets: pids(outcome.targets), added: pids(outcome.added), gone: outcome.gone };
    case 'waiting':
      return { kind: outcome.kind, targets: pids(outcome.targets), gone: outcome.gone, managers: outcome.managers };
    case 'unchanged':
      return { kind: outcome.kind, targets: pids(outcome.targets) };
    case 'restarted':
      return { kind: outcome.kind, gone: outcome.gone };
  }
}

function follow(before: ClassifiedProcess[], after: ClassifiedProcess[], targets = before.filter((p) => p.recommended)) {
  return summary(followReload(before, targets, after));
}

describe('followReload on recorded reloads', () => {
  it.each([
    ['uvicorn-reload', 'uvicorn-reload-after', [8], [15]],
    ['fastapi-dev', 'fastapi-dev-after', [8], [15]],
    ['flask-debug', 'flask-debug-after', [9], [17]],
    ['django-runserver-sh', 'django-runserver-sh-after', [11], [19]],
    ['gunicorn-reload', 'gunicorn-reload-after', [7, 9], [16, 19]],
    ['uvicorn-reload-debugpy', 'uvicorn-reload-debugpy-after', [15], [45]],
  ])('%s → %s: re-inject the new worker(s)', (beforeName, afterName, gone, added) => {
    expect(follow(table(fixture(beforeName)), table(fixture(afterName)))).toEqual({ kind: 'replaced', targets: added, added, gone });
  });
});

describe('followReload', () => {
  const before = table(olderBy(fixture('uvicorn-reload'), 100));

  it('unchanged when the targets are still there', () => {
    expect(follow(before, table(olderBy(fixture('uvicorn-reload'), 105)))).toEqual({ kind: 'unchanged', targets: [8] });
  });

  it('waiting when the worker is gone and the reloader has not started the next one yet', () => {
    const after = table(olderBy(fixture('uvicorn-reload'), 102).filter((r) => r.pid !== 8));
    expect(follow(before, after)).toEqual({ kind: 'waiting', targets: [], gone: [8], managers: [1] });
  });

  it('restarted when the container restarted (same PIDs, younger processes)', () => {
    const after = table(fixture('uvicorn-reload'));
    expect(follow(before, after)).toEqual({ kind: 'restarted', gone: [8] });
  });

  it('restarted when the manager is gone', () => {
    const after = table(olderBy(fixture('uvicorn-reload'), 101).filter((r) => r.pid !== 1 && r.pid !== 8));
    expect(follow(before, after)).toEqual({ kind: 'restarted', gone: [8] });
  });

  it('restarted when a main process with no manager (PID 1) is gone', () => {
    const main = table(olderBy(fixture('http-server'), 50));
    expect(follow(main, [])).toEqual({ kind: 'restarted', gone: [1] });
  });

  it('a main restarted in place by its wrapper (sh loop) is followed', () => {
    const loop = ['sh', '-c', 'while true; do python3 app.py; done'];
    const first = table([proc(1, 0, loop, { uptimeSeconds: 500 }), proc(7, 1, ['python3', 'app.py'], { uptimeSeconds: 400 })]);
    const second = table([proc(1, 0, loop, { uptimeSeconds: 510 }), proc(31, 1, ['python3', 'app.py'], { uptimeSeconds: 2 })]);
    expect(follow(first, second)).toEqual({ kind: 'replaced', targets: [31], added: [31], gone: [7] });
  });

  it('gunicorn: one worker respawned, the other kept', () => {
    const gunicorn = olderBy(fixture('gunicorn-2-workers'), 100);
    const [arbiter, , w8] = gunicorn;
    const after = table([
      { ...arbiter, uptimeSeconds: 110 },
      { ...w8, uptimeSeconds: 110 },
      { ...w8, pid: 12, uptimeSeconds: 1 },
    ]);
    expect(follow(table(gunicorn), after)).toEqual({ kind: 'replaced', targets: [8, 12], added: [12], gone: [7] });
  });

  it('gunicorn: one worker gone and not back yet', () => {
    const gunicorn = olderBy(fixture('gunicorn-2-workers'), 100);
    const after = table(olderBy(gunicorn, 3).filter((r) => r.pid !== 7));
    expect(follow(table(gunicorn), after)).toEqual({ kind: 'waiting', targets: [8], gone: [7], managers: [1] });
  });

  it('only targets count: a worker not chosen (--pid) is not "added"', () => {
    const gunicorn = table(olderBy(fixture('gunicorn-2-workers'), 100));
    const after = table(olderBy(fixture('gunicorn-2-workers'), 104));
    expect(follow(gunicorn, after, gunicorn.filter((p) => p.pid === 7))).toEqual({ kind: 'unchanged', targets: [7] });
  });

  it('new non-recommended processes under the manager are ignored (a debug adapter appears)', () => {
    const after = table([
      ...olderBy(fixture('uvicorn-reload'), 103),
      proc(31, 1, ['/usr/bin/python3', '/usr/lib/python3/dist-packages/debugpy/adapter', '--port', '5679'], { uptimeSeconds: 1 }),
    ]);
    expect(follow(before, after)).toEqual({ kind: 'unchanged', targets: [8] });
  });

  it('a reused PID with another command line is a new process', () => {
    const after = table(
      olderBy(fixture('uvicorn-reload'), 103).map((r) => (r.pid === 8 ? { ...r, argv: ['python3', 'other.py'] } : r)),
    );
    expect(follow(before, after)).toMatchObject({ kind: 'waiting', gone: [8] });
  });
});

describe('isSameProcess', () => {
  const p = { pid: 8, argv: ['python3', 'a.py'], uptimeSeconds: 100 };

  it('same PID, command line and an uptime that did not go back (1 s of rounding allowed)', () => {
    expect(isSameProcess(p, { ...p, uptimeSeconds: 130 })).toBe(true);
    expect(isSameProcess(p, { ...p, uptimeSeconds: 99.2 })).toBe(true);
    expect(isSameProcess(p, { ...p, uptimeSeconds: 98 })).toBe(false);
    expect(isSameProcess(p, { ...p, pid: 9 })).toBe(false);
    expect(isSameProcess(p, { ...p, argv: ['python3', 'a.py', 'x'] })).toBe(false);
    expect(isSameProcess(p, { ...p, argv: ['python3', 'b.py'] })).toBe(false);
  });
});
