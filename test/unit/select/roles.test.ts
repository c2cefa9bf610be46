import { classifyProcesses, isInfrastructure, isManager, type ClassifiedProcess, type Role, type Why } from '../../../src/select/roles';
import { fixture, proc, SPAWN, TRACKER } from './helpers';

function roles(table: ClassifiedProcess[]): Record<number, Role> {
  return Object.fromEntries(table.map((p) => [p.pid, p.role]));
}

function recommended(table: ClassifiedProcess[]): Record<number, Why | null> {
  return Object.fromEntries(table.filter((p) => p.recommended).map((p) => [p.pid, p.why]));
}

describe('classifyProcesses on recorded process tables', () => {
  it.each<[string, Record<number, Role>, Record<number, Why>, string]>([
    ['uvicorn-reload', { 1: 'reloader', 7: 'helper', 8: 'worker' }, { 8: 'reloader-child' }, 'uvicorn'],
    ['uvicorn-reload-after', { 1: 'reloader', 7: 'helper', 15: 'worker' }, { 15: 'reloader-child' }, 'uvicorn'],
    ['uvicorn-reload-debugpy', { 1: 'reloader', 7: 'helper', 15: 'worker', 31: 'debug-adapter' }, { 15: 'reloader-child' }, 'uvicorn'],
    // the adapter of the replaced worker is left as a zombie that the reloader never reaps
    ['uvicorn-reload-debugpy-after', { 1: 'reloader', 7: 'helper', 31: 'other', 45: 'worker' }, { 45: 'reloader-child' }, 'uvicorn'],
    ['fastapi-dev', { 1: 'reloader', 7: 'helper', 8: 'worker' }, { 8: 'reloader-child' }, 'fastapi'],
    ['fastapi-dev-after', { 1: 'reloader', 7: 'helper', 15: 'worker' }, { 15: 'reloader-child' }, 'fastapi'],
    ['uvicorn-workers-2', { 1: 'supervisor', 7: 'helper', 8: 'worker', 9: 'worker' }, { 8: 'worker', 9: 'worker' }, 'uvicorn'],
    ['uvicorn-run-reload-script', { 1: 'reloader', 7: 'helper', 8: 'worker' }, { 8: 'reloader-child' }, 'python'],
    ['flask-debug', { 1: 'reloader', 8: 'helper', 9: 'worker', 10: 'helper' }, { 9: 'reloader-child' }, 'flask'],
    ['flask-debug-after', { 1: 'reloader', 8: 'helper', 10: 'other', 17: 'worker', 18: 'helper' }, { 17: 'reloader-child' }, 'flask'],
    ['flask-app-run-debug', { 1: 'reloader', 7: 'helper', 8: 'worker', 10: 'helper' }, { 8: 'reloader-child' }, 'flask'],
    ['django-runserver-sh', { 1: 'wrapper', 9: 'reloader', 11: 'worker' }, { 11: 'reloader-child' }, 'django'],
    ['django-runserver-sh-after', { 1: 'wrapper', 9: 'reloader', 19: 'worker' }, { 19: 'reloader-child' }, 'django'],
    ['gunicorn-2-workers', { 1: 'arbiter', 7: 'worker', 8: 'worker' }, { 7: 'worker', 8: 'worker' }, 'gunicorn'],
    ['gunicorn-2-workers-debugpy', { 1: 'arbiter', 7: 'worker', 8: 'worker', 24: 'debug-adapter', 44: 'debug-adapter' }, { 7: 'worker', 8: 'worker' }, 'gunicorn'],
    ['gunicorn-reload', { 1: 'arbiter', 7: 'worker', 9: 'worker' }, { 7: 'worker', 9: 'worker' }, 'gunicorn'],
    ['gunicorn-reload-after', { 1: 'arbiter', 16: 'worker', 19: 'worker' }, { 16: 'worker', 19: 'worker' }, 'gunicorn'],
    ['gunicorn-setproctitle', { 1: 'arbiter', 7: 'worker', 8: 'worker' }, { 7: 'worker', 8: 'worker' }, 'gunicorn'],
    ['tini-python', { 1: 'wrapper', 7: 'main' }, { 7: 'only' }, 'python'],
    ['dumb-init-python-nobody', { 1: 'wrapper', 7: 'main' }, { 7: 'only' }, 'python'],
    ['sh-c-python', { 1: 'wrapper', 7: 'main' }, { 7: 'only' }, 'python'],
    ['http-server', { 1: 'main' }, { 1: 'only' }, 'python'],
    ['http-server-debugpy', { 1: 'main', 19: 'debug-adapter' }, { 1: 'app' }, 'python'],
    ['debugpy-listen-cli', { 1: 'main', 10: 'debug-adapter' }, { 1: 'app' }, 'python'],
    ['http-server-python3.13', { 1: 'main' }, { 1: 'only' }, 'python'],
    ['disable-remote-debug', { 1: 'main' }, { 1: 'only' }, 'python'],
  ])('%s', (name, expectedRoles, expectedRecommended, framework) => {
    const table = classifyProcesses(fixture(name));
    expect(roles(table)).toEqual(expectedRoles);
    expect(recommended(table)).toEqual(expectedRecommended);
    for (const p of table.filter((q) => q.recommended)) expect(p.framework).toBe(framework);
  });

  it('keeps every record and its fields, in order', () => {
    const records = fixture('uvicorn-reload-debugpy');
    const table = classifyProcesses(records);
    expect(table.map((p) => p.pid)).toEqual(records.map((r) => r.pid));
    expect(table[2]).toMatchObject({ ...records[2], role: 'worker', debugpyPort: 5679 });
  });

  it('gives managers the framework of their workers and helpers none', () => {
    const table = classifyProcesses(fixture('uvicorn-reload'));
    expect(table.map((p) => p.framework)).toEqual(['uvicorn', null, 'uvicorn']);
    expect(classifyProcesses(fixture('django-runserver-sh')).map((p) => p.framework)).toEqual([null, 'django', 'django']);
  });

  it('recommends by role even when the process cannot be debugged (the caller filters)', () => {
    const [p] = classifyProcesses(fixture('http-server-python3.13'));
    expect(p).toMatchObject({ recommended: true, debuggable: false });
  });
});

describe('classifyProcesses: reloaders and workers', () => {
  it('knows a uvicorn --reload supervisor between two workers (worker not back yet)', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', '-m', 'uvicorn', 'main:app', '--reload']), proc(7, 1, TRACKER)]);
    expect(roles(table)).toEqual({ 1: 'reloader', 7: 'helper' });
    expect(recommended(table)).toEqual({});
  });

  it('reads fastapi dev / run flags', () => {
    const dev = classifyProcesses([proc(1, 0, ['python3', '/usr/local/bin/fastapi', 'dev', 'main.py'])]);
    expect(dev[0].role).toBe('reloader');
    const noReload = classifyProcesses([proc(1, 0, ['python3', '/usr/local/bin/fastapi', 'dev', '--no-reload'])]);
    expect(noReload[0]).toMatchObject({ role: 'main', recommended: true, why: 'only', framework: 'fastapi' });
    const run = classifyProcesses([proc(1, 0, ['python3', '/usr/local/bin/fastapi', 'run', 'main.py'])]);
    expect(run[0]).toMatchObject({ role: 'main', why: 'only' });
    expect(classifyProcesses([proc(1, 0, ['python3', '-m', 'fastapi', 'run', '--reload'])])[0].role).toBe('reloader');
    expect(classifyProcesses([proc(1, 0, ['python3', '-m', 'fastapi', 'run', '--workers', '4'])])[0].role).toBe('supervisor');
  });

  it('a plain uvicorn without --reload or --workers serves by itself', () => {
    const table = classifyProcesses([proc(1, 0, ['/usr/local/bin/python3.14', '/usr/local/bin/uvicorn', 'main:app', '--host', '0.0.0.0'])]);
    expect(table[0]).toMatchObject({ role: 'main', recommended: true, why: 'only', framework: 'uvicorn' });
  });

  it('uvicorn with spawned workers but no flag (set through the environment): one worker means reloader', () => {
    const one = classifyProcesses([proc(1, 0, ['uvicorn', 'main:app'], { isPython: true }), proc(7, 1, TRACKER), proc(8, 1, SPAWN)]);
    expect(roles(one)).toEqual({ 1: 'reloader', 7: 'helper', 8: 'worker' });
    const two = classifyProcesses([proc(1, 0, ['python3', '-m', 'uvicorn', 'main:app']), proc(8, 1, SPAWN), proc(9, 1, SPAWN)]);
    expect(roles(two)).toEqual({ 1: 'supervisor', 8: 'worker', 9: 'worker' });
    expect(recommended(two)).toEqual({ 8: 'worker', 9: 'worker' });
  });

  it('uvicorn --workers with --reload is a reloader (uvicorn ignores --workers then)', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', '-m', 'uvicorn', 'm:app', '--reload', '--workers', '4']), proc(8, 1, SPAWN)]);
    expect(recommended(table)).toEqual({ 8: 'reloader-child' });
  });

  it('the werkzeug child is found by its environment marker, or by flask run when the environment is unreadable', () => {
    const argv = ['/usr/bin/python3', '/usr/bin/flask', 'run', '--debug'];
    const byEnv = classifyProcesses([proc(1, 0, argv), proc(9, 1, argv, { env: { WERKZEUG_RUN_MAIN: 'true' } })]);
    expect(recommended(byEnv)).toEqual({ 9: 'reloader-child' });
    const unreadable = classifyProcesses([proc(1, 0, argv, { env: null }), proc(9, 1, argv, { env: null })]);
    expect(roles(unreadable)).toEqual({ 1: 'reloader', 9: 'worker' });
    // app.run(debug=True) in a script: only the marker tells
    const script = ['python3', 'app.py'];
    const marked = classifyProcesses([proc(1, 0, script), proc(9, 1, script, { env: { WERKZEUG_RUN_MAIN: 'true' } })]);
    expect(marked.map((p) => [p.role, p.framework])).toEqual([['reloader', 'flask'], ['worker', 'flask']]);
  });

  it('flask run without --debug serves alone; with --debug and no child yet it is a reloader', () => {
    expect(classifyProcesses([proc(1, 0, ['python3', '-m', 'flask', 'run'])])[0]).toMatchObject({ role: 'main', why: 'only', framework: 'flask' });
    expect(classifyProcesses([proc(1, 0, ['python3', '-m', 'flask', 'run', '--debug'])])[0].role).toBe('reloader');
    expect(classifyProcesses([proc(1, 0, ['python3', '-m', 'flask', 'run', '--debug', '--no-reload'])])[0].role).toBe('main');
  });

  it('Django: RUN_MAIN child, --noreload, and a child spelled with sys.executable', () => {
    const table = classifyProcesses([
      proc(1, 0, ['sh', '-c', 'python manage.py runserver 0.0.0.0:8000']),
      proc(6, 1, ['python', 'manage.py', 'runserver', '0.0.0.0:8000']),
      proc(8, 6, ['/usr/local/bin/python', 'manage.py', 'runserver', '0.0.0.0:8000'], { env: { RUN_MAIN: 'true' } }),
    ]);
    expect(roles(table)).toEqual({ 1: 'wrapper', 6: 'reloader', 8: 'worker' });
    const noreload = classifyProcesses([proc(1, 0, ['python', 'manage.py', 'runserver', '--noreload'])]);
    expect(noreload[0]).toMatchObject({ role: 'main', why: 'only', framework: 'django' });
    const viaModule = classifyProcesses([
      proc(1, 0, ['python', '-m', 'django', 'runserver']),
      proc(5, 1, ['/usr/bin/python3', '-m', 'django', 'runserver'], { env: null }),
    ]);
    expect(roles(viaModule)).toEqual({ 1: 'reloader', 5: 'worker' });
  });

  it('a Django child alone (its reloader invisible) is not taken for a reloader', () => {
    const table = classifyProcesses([proc(8, 6, ['python', 'manage.py', 'runserver'], { env: { RUN_MAIN: 'true' } })]);
    expect(table[0]).toMatchObject({ role: 'main', recommended: true });
  });

  it('gunicorn: an arbiter even before its workers boot; `-m gunicorn` and --reload too', () => {
    expect(classifyProcesses([proc(1, 0, ['python3', '/usr/bin/gunicorn', 'app:app'])])[0]).toMatchObject({ role: 'arbiter', recommended: false });
    const argv = ['python3', '-m', 'gunicorn', '--reload', '-k', 'uvicorn.workers.UvicornWorker', 'main:app'];
    const table = classifyProcesses([proc(1, 0, argv), proc(7, 1, argv), proc(8, 1, argv), proc(9, 1, argv)]);
    expect(recommended(table)).toEqual({ 7: 'worker', 8: 'worker', 9: 'worker' });
  });

  it('python -m debugpy --listen … -m uvicorn --reload is still a uvicorn reloader', () => {
    const table = classifyProcesses([
      proc(1, 0, ['python3', '-m', 'debugpy', '--listen', '0.0.0.0:5678', '-m', 'uvicorn', 'main:app', '--reload']),
      proc(8, 1, SPAWN),
    ]);
    expect(roles(table)).toEqual({ 1: 'reloader', 8: 'worker' });
    expect(table[1].framework).toBe('uvicorn');
  });
});

describe('classifyProcesses: helpers, wrappers and the rest', () => {
  it('wrappers: tini and dumb-init always, shells only with children', () => {
    const table = classifyProcesses([
      proc(1, 0, ['/sbin/tini', '--', 'python3', 'a.py'], { exe: '/sbin/tini' }),
      proc(7, 1, ['python3', 'a.py']),
      proc(20, 0, ['/bin/bash'], { exe: '/usr/bin/bash' }),
    ]);
    expect(roles(table)).toEqual({ 1: 'wrapper', 7: 'main', 20: 'other' });
    expect(recommended(table)).toEqual({ 7: 'only' });
  });

  it('a shell known only by its exe (argv[0] "sh", exe dash) is a wrapper', () => {
    const table = classifyProcesses([proc(1, 0, ['sh', '-c', 'python3 a.py; echo done'], { exe: '/usr/bin/dash' }), proc(6, 1, ['python3', 'a.py'])]);
    expect(table[0].role).toBe('wrapper');
  });

  it('supervisord (a Python program) is a wrapper and its programs are mains', () => {
    const table = classifyProcesses([
      proc(1, 0, ['/usr/bin/python3', '/usr/bin/supervisord', '-n']),
      proc(8, 1, ['python3', 'app.py']),
    ]);
    expect(roles(table)).toEqual({ 1: 'wrapper', 8: 'main' });
    expect(recommended(table)).toEqual({ 8: 'app' });
  });

  it('non-Python processes are kept for context and never recommended', () => {
    const table = classifyProcesses([
      proc(1, 0, ['/pause'], { exe: '/pause' }),
      proc(7, 0, ['nginx: master process nginx'], { exe: '/usr/sbin/nginx' }),
      proc(9, 0, ['python3', 'app.py']),
      proc(12, 1, [], { exe: null, isPython: false }),
    ]);
    expect(roles(table)).toEqual({ 1: 'other', 7: 'other', 9: 'main', 12: 'other' });
    expect(recommended(table)).toEqual({ 9: 'only' });
  });

  it('a Python child of a non-Python process is a main (e.g. started by node)', () => {
    const table = classifyProcesses([proc(1, 0, ['node', 'server.js']), proc(8, 1, ['python3', 'worker.py'])]);
    expect(recommended(table)).toEqual({ 8: 'only' });
  });

  it('two unrelated Python apps: no recommendation', () => {
    const table = classifyProcesses([proc(1, 0, ['sh', '-c', 'x']), proc(6, 1, ['python3', 'a.py']), proc(7, 1, ['python3', 'b.py'])]);
    expect(roles(table)).toEqual({ 1: 'wrapper', 6: 'main', 7: 'main' });
    expect(recommended(table)).toEqual({});
  });

  it('a `kubectl exec` Python session (parent 0, not PID 1) does not hide the container\'s own app', () => {
    const table = classifyProcesses([
      proc(1, 0, ['tini', '--', 'python3', 'app.py'], { exe: '/usr/bin/tini' }),
      proc(7, 1, ['python3', 'app.py']),
      proc(40, 0, ['python3', 'manage.py', 'shell']),
    ]);
    expect(roles(table)).toEqual({ 1: 'wrapper', 7: 'main', 40: 'main' });
    expect(recommended(table)).toEqual({ 7: 'app' });
    const twoExecs = classifyProcesses([proc(1, 0, ['nginx']), proc(40, 0, ['python3']), proc(41, 0, ['python3', 'x.py'])]);
    expect(recommended(twoExecs)).toEqual({});
  });

  it('no main is recommended while a reloader waits for its next worker', () => {
    const table = classifyProcesses([proc(1, 0, ['python3', '-m', 'uvicorn', 'main:app', '--reload']), proc(40, 0, ['python3'])]);
    expect(roles(table)).toEqual({ 1: 'reloader', 40: 'main' });
    expect(recommended(table)).toEqual({});
  });

  it('an unknown pre-fork server (children with its own command line): no recommendation', () => {
    const argv = ['python3', 'prefork.py'];
    const table = classifyProcesses([proc(1, 0, argv), proc(5, 1, argv), proc(6, 1, argv)]);
    expect(roles(table)).toEqual({ 1: 'main', 5: 'other', 6: 'other' });
    expect(recommended(table)).toEqual({});
  });

  it('multiprocessing forkserver: the server is a helper, its forked pool workers are "other", the app stays recommended', () => {
    const fs = ['/usr/bin/python3', '-c', 'from multiprocessing.forkserver import main; main(8, 9, ["__main__"], **{})'];
    const table = classifyProcesses([proc(1, 0, ['python3', 'app.py']), proc(7, 1, TRACKER), proc(8, 1, fs), proc(10, 8, fs), proc(11, 8, fs)]);
    expect(roles(table)).toEqual({ 1: 'main', 7: 'helper', 8: 'helper', 10: 'other', 11: 'other' });
    expect(recommended(table)).toEqual({ 1: 'app' });
  });

  it('workers anywhere outrank a main (a Python sidecar in a shared PID namespace)', () => {
    const table = classifyProcesses([
      proc(1, 0, ['/pause']),
      proc(7, 0, ['python3', '-m', 'uvicorn', 'main:app', '--reload']),
      proc(9, 7, SPAWN),
      proc(20, 0, ['python3', 'sidecar.py']),
    ]);
    expect(recommended(table)).toEqual({ 9: 'reloader-child' });
    expect(table.find((p) => p.pid === 20)?.role).toBe('main');
  });

  it('a debugpy launcher is a helper', () => {
    const table = classifyProcesses([
      proc(1, 0, ['python3', '/usr/lib/python3/dist-packages/debugpy/launcher', '--', 'app.py']),
      proc(5, 1, ['python3', 'app.py']),
    ]);
    expect(roles(table)).toEqual({ 1: 'helper', 5: 'main' });
    expect(recommended(table)).toEqual({ 5: 'app' });
  });

  it('an empty table', () => {
    expect(classifyProcesses([])).toEqual([]);
  });
});

describe('role predicates', () => {
  it('isManager and isInfrastructure', () => {
    expect(['reloader', 'supervisor', 'arbiter'].every((r) => isManager(r as Role))).toBe(true);
    expect(isManager('worker')).toBe(false);
    expect(['helper', 'debug-adapter', 'wrapper'].every((r) => isInfrastructure(r as Role))).toBe(true);
    expect(isInfrastructure('main')).toBe(false);
  });
});
