import { basename, hasFlag, invocationOf, optionValue, parsePythonArgv, xOptionsOf } from '../../../src/select/python-argv';

describe('parsePythonArgv', () => {
  it('reads a module with its arguments', () => {
    expect(parsePythonArgv(['python3', '-m', 'uvicorn', 'main:app', '--reload'])).toEqual({
      options: [],
      target: { kind: 'module', name: 'uvicorn', args: ['main:app', '--reload'] },
    });
  });

  it('reads a script run through its shebang (argv[0] is the interpreter)', () => {
    expect(parsePythonArgv(['/usr/bin/python3', '/usr/bin/flask', 'run', '--debug']).target).toEqual({
      kind: 'script',
      path: '/usr/bin/flask',
      args: ['run', '--debug'],
    });
  });

  it('reads -c code, with options before it', () => {
    const code = 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)';
    expect(parsePythonArgv(['/usr/bin/python3', '-B', '-c', code, '--multiprocessing-fork'])).toEqual({
      options: ['-B'],
      target: { kind: 'code', code, args: ['--multiprocessing-fork'] },
    });
  });

  it('splits clustered flags and attached values like getopt', () => {
    expect(parsePythonArgv(['python3', '-Bu', '-Xdev', '-X', 'frozen_modules=off', '-Wignore', '-mhttp.server', '80'])).toEqual({
      options: ['-B', '-u', '-Xdev', '-Xfrozen_modules=off', '-Wignore'],
      target: { kind: 'module', name: 'http.server', args: ['80'] },
    });
    expect(parsePythonArgv(['python3', '-Bc', 'print(1)']).target).toEqual({ kind: 'code', code: 'print(1)', args: [] });
    expect(parsePythonArgv(['python3', '-cprint(1)', 'x']).target).toEqual({ kind: 'code', code: 'print(1)', args: ['x'] });
  });

  it('knows stdin, "--", long options and a bare interpreter', () => {
    expect(parsePythonArgv(['python3', '-']).target).toEqual({ kind: 'stdin', args: [] });
    expect(parsePythonArgv(['python3', '--', '-weird.py', 'a']).target).toEqual({ kind: 'script', path: '-weird.py', args: ['a'] });
    expect(parsePythonArgv(['python3', '--check-hash-based-pycs', 'never', 'app.py'])).toEqual({
      options: ['--check-hash-based-pycs', 'never'],
      target: { kind: 'script', path: 'app.py', args: [] },
    });
    expect(parsePythonArgv(['python3', '-i']).target).toEqual({ kind: 'interactive' });
    expect(parsePythonArgv([]).target).toEqual({ kind: 'interactive' });
  });
});

describe('xOptionsOf', () => {
  it('lists -X options in both spellings and stops at the target', () => {
    expect(xOptionsOf(['python3', '-X', 'disable-remote-debug', '-Xdev', 'app.py', '-X', 'ignored'])).toEqual([
      'disable-remote-debug',
      'dev',
    ]);
  });
});

describe('invocationOf', () => {
  it.each([
    [['python3', '-m', 'uvicorn', 'main:app'], 'uvicorn'],
    [['/usr/bin/python3', '/usr/local/bin/uvicorn', 'main:app'], 'uvicorn'],
    [['/app/.venv/bin/python', '/app/.venv/bin/fastapi', 'dev'], 'fastapi'],
    [['python3', '-m', 'fastapi', 'run'], 'fastapi'],
    [['python3', '-m', 'flask', 'run'], 'flask'],
    [['python3', 'manage.py', 'runserver'], 'django'],
    [['python3', '/usr/bin/django-admin', 'runserver'], 'django'],
    [['python3', '-m', 'django', 'runserver'], 'django'],
    [['python3', '/usr/bin/gunicorn', 'app:app'], 'gunicorn'],
    [['python3', '-m', 'gunicorn', 'app:app'], 'gunicorn'],
    [['python3', '/usr/bin/gunicorn3', 'app:app'], 'gunicorn'],
    [['gunicorn: master [app:app]              '], 'gunicorn-master'],
    [['gunicorn: worker [app:app]              '], 'gunicorn-worker'],
    [['python3', '-B', '-c', 'from multiprocessing.resource_tracker import main;main(4)'], 'resource-tracker'],
    [['python3', '-c', 'from multiprocessing.forkserver import main; main(5, 6, ["__main__"])'], 'forkserver'],
    [['/usr/bin/python3', '/usr/lib/python3/dist-packages/debugpy/adapter', '--for-server', '1', '--port', '5679'], 'debug-adapter'],
    [['python3', '/site-packages/debugpy/adapter/__main__.py', '--port', '5679'], 'debug-adapter'],
    [['python3', '-m', 'debugpy.adapter', '--port', '5679'], 'debug-adapter'],
    [['python3', '/usr/lib/python3/dist-packages/debugpy/launcher', '--', 'app.py'], 'debug-launcher'],
    [['python3', '-m', 'debugpy', '--pid', '7', '--listen', '5678'], 'debug-launcher'],
    [['python3', '/usr/bin/supervisord', '-n'], 'supervisord'],
    [['python3', 'app.py'], null],
    [['python3', '-m', 'http.server'], null],
  ] as const)('%j is %s', (argv, program) => {
    expect(invocationOf(argv).program).toBe(program);
  });

  it('sees through `python -m debugpy --listen … <target>` to the application it runs', () => {
    const inv = invocationOf(['python3', '-m', 'debugpy', '--listen', '0.0.0.0:5678', '--wait-for-client', '--configure-subProcess', 'false', '-m', 'uvicorn', 'main:app', '--reload']);
    expect(inv.program).toBe('uvicorn');
    expect(inv.args).toEqual(['main:app', '--reload']);
    expect(invocationOf(['python3', '/usr/bin/debugpy', '--listen', '5678', 'manage.py', 'runserver']).program).toBe('django');
    expect(invocationOf(['python3', '-m', 'debugpy', '--listen', '5678', '-c', 'print(1)']).program).toBeNull();
  });

  it('gives the same key to a reloader and its child whatever the interpreter spelling', () => {
    const parent = invocationOf(['python3', 'manage.py', 'runserver', '0.0.0.0:8000']);
    const child = invocationOf(['/usr/bin/python3', '-Wdefault', './manage.py', 'runserver', '0.0.0.0:8000']);
    expect(child.key).toBe(parent.key);
    expect(invocationOf(['python3', 'manage.py', 'migrate']).key).not.toBe(parent.key);
  });
});

describe('small helpers', () => {
  it('basename', () => {
    expect(basename('/usr/bin/python3')).toBe('python3');
    expect(basename('debugpy/adapter/')).toBe('adapter');
    expect(basename('python3')).toBe('python3');
  });

  it('optionValue and hasFlag', () => {
    expect(optionValue(['--workers', '4'], '--workers')).toBe('4');
    expect(optionValue(['--workers=4'], '--workers')).toBe('4');
    expect(optionValue(['-w', '2'], '--workers', '-w')).toBe('2');
    expect(optionValue(['--workers'], '--workers')).toBeNull();
    expect(optionValue([], '--workers')).toBeNull();
    expect(hasFlag(['run', '--debug'], '--reload', '--debug')).toBe(true);
    expect(hasFlag(['run'], '--debug')).toBe(false);
  });
});
