/**
 * Reading a CPython command line (`python3 [options] (-m mod | -c code | script | -) args`) and
 * naming the program it runs (uvicorn, gunicorn, a multiprocessing helper, debugpy's adapter…).
 */

/** What the interpreter was told to run. */
export type PythonTarget =
  | { kind: 'module'; name: string; args: string[] }
  | { kind: 'script'; path: string; args: string[] }
  | { kind: 'code'; code: string; args: string[] }
  | { kind: 'stdin'; args: string[] }
  | { kind: 'interactive' };

export interface PythonCommand {
  /** interpreter options before the target, e.g. ["-B", "-Xdev", "-Wignore"] */
  options: string[];
  target: PythonTarget;
}

/** Programs that decide a process's role. */
export type Program =
  | 'uvicorn'
  | 'fastapi'
  | 'flask'
  | 'django'
  | 'gunicorn'
  | 'gunicorn-master'
  | 'gunicorn-worker'
  | 'spawn-child'
  | 'resource-tracker'
  | 'forkserver'
  | 'debug-adapter'
  | 'debug-launcher'
  | 'supervisord';

/** A Python process's command as classification sees it. */
export interface Invocation {
  /** null: a script or module we do not know (the application itself, usually) */
  program: Program | null;
  /** arguments after the program (e.g. ["main:app", "--reload"]) */
  args: string[];
  /** equal for two processes running the same command, whatever interpreter path or options */
  key: string;
}

const OPTIONS_WITH_VALUE = new Set(['c', 'm', 'W', 'X']);

/** Parses argv the way CPython's getopt does (clustered flags, `-Xopt` / `-X opt`, `-cCODE`). */
export function parsePythonArgv(argv: readonly string[]): PythonCommand {
  const options: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-') return { options, target: { kind: 'stdin', args: argv.slice(i + 1) } };
    if (arg === '--') {
      const path = argv[i + 1];
      if (path === undefined) return { options, target: { kind: 'interactive' } };
      return { options, target: { kind: 'script', path, args: argv.slice(i + 2) } };
    }
    if (arg === '--check-hash-based-pycs') {
      options.push(arg, argv[i + 1] ?? '');
      i++;
      continue;
    }
    if (arg.startsWith('--')) {
      options.push(arg);
      continue;
    }
    if (!arg.startsWith('-')) {
      return { options, target: { kind: 'script', path: arg, args: argv.slice(i + 1) } };
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      if (!OPTIONS_WITH_VALUE.has(letter)) {
        options.push(`-${letter}`);
        continue;
      }
      let value = arg.slice(j + 1);
      if (value === '') value = argv[++i] ?? '';
      const args = argv.slice(i + 1);
      if (letter === 'c') return { options, target: { kind: 'code', code: value, args } };
      if (letter === 'm') return { options, target: { kind: 'module', name: value, args } };
      options.push(`-${letter}${value}`);
      break;
    }
  }
  return { options, target: { kind: 'interactive' } };
}

/** The -X options of a Python command line, e.g. ["dev", "disable-remote-debug"]. */
export function xOptionsOf(argv: readonly string[]): string[] {
  return parsePythonArgv(argv)
    .options.filter((o) => o.startsWith('-X'))
    .map((o) => o.slice(2));
}

export function basename(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  return trimmed.slice(trimmed.search(/[^\\/]*$/));
}

const MODULES: Record<string, Program> = {
  uvicorn: 'uvicorn',
  fastapi: 'fastapi',
  fastapi_cli: 'fastapi',
  flask: 'flask',
  django: 'django',
  gunicorn: 'gunicorn',
  'debugpy.adapter': 'debug-adapter',
  'debugpy.launcher': 'debug-launcher',
  'supervisor.supervisord': 'supervisord',
};

const SCRIPTS: Record<string, Program> = {
  uvicorn: 'uvicorn',
  fastapi: 'fastapi',
  flask: 'flask',
  'manage.py': 'django',
  'django-admin': 'django',
  'django-admin.py': 'django',
  gunicorn: 'gunicorn',
  gunicorn3: 'gunicorn',
  'debugpy-adapter': 'debug-adapter',
  supervisord: 'supervisord',
};

function scriptProgram(path: string): Program | null {
  const unixPath = path.replace(/\\/g, '/').replace(/\/__main__\.py$/, '');
  // debugpy runs its adapter and launcher as directories: .../debugpy/adapter
  if (/(^|\/)debugpy\/adapter\/?$/.test(unixPath)) return 'debug-adapter';
  if (/(^|\/)debugpy\/launcher\/?$/.test(unixPath)) return 'debug-launcher';
  return SCRIPTS[basename(unixPath)] ?? null;
}

function codeProgram(code: string): Program | null {
  if (code.includes('multiprocessing.spawn') && code.includes('spawn_main')) return 'spawn-child';
  if (/multiprocessing\.(resource_tracker|semaphore_tracker)/.test(code)) return 'resource-tracker';
  if (code.includes('multiprocessing.forkserver')) return 'forkserver';
  return null;
}

const DEBUGPY_OPTIONS_WITH_VALUE = new Set([
  '--listen',
  '--connect',
  '--log-to',
  '--pid',
  '--adapter-access-token',
  '--parent-session-pid',
]);

/**
 * `python -m debugpy [--listen A] … (script | -m mod | -c code) args` runs the application in the
 * same process: see through it. With `--pid` it only injects into another process (a helper).
 */
function throughDebugpyCli(args: readonly string[]): PythonTarget | 'attach' | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--pid') return 'attach';
    if (DEBUGPY_OPTIONS_WITH_VALUE.has(arg) || arg.startsWith('--configure-')) {
      i++;
      continue;
    }
    if (arg.startsWith('--')) continue;
    const rest = args.slice(i + 2);
    if (arg === '-m') return { kind: 'module', name: args[i + 1] ?? '', args: rest };
    if (arg === '-c') return { kind: 'code', code: args[i + 1] ?? '', args: rest };
    return { kind: 'script', path: arg, args: args.slice(i + 1) };
  }
  return null;
}

function isDebugpyCli(target: PythonTarget): boolean {
  return (
    (target.kind === 'module' && target.name === 'debugpy') ||
    (target.kind === 'script' && basename(target.path) === 'debugpy')
  );
}

const GUNICORN_TITLE = /^gunicorn: (master|worker|arbiter)\b/;

/** Names what a Python process runs from its argv. */
export function invocationOf(argv: readonly string[]): Invocation {
  // gunicorn with setproctitle rewrites its whole command line: "gunicorn: worker [app:app]".
  const title = argv.length > 0 ? GUNICORN_TITLE.exec(argv[0].trim()) : null;
  if (title) {
    const program: Program = title[1] === 'worker' ? 'gunicorn-worker' : 'gunicorn-master';
    return { program, args: [], key: JSON.stringify(['title', argv[0].trim()]) };
  }
  let target = parsePythonArgv(argv).target;
  if ('args' in target && isDebugpyCli(target)) {
    const inner = throughDebugpyCli(target.args);
    if (inner === 'attach') return { program: 'debug-launcher', args: target.args, key: keyOf(target) };
    if (inner !== null) target = inner;
  }
  return { program: programOf(target), args: 'args' in target ? target.args : [], key: keyOf(target) };
}

function programOf(target: PythonTarget): Program | null {
  switch (target.kind) {
    case 'module':
      return MODULES[target.name] ?? null;
    case 'script':
      return scriptProgram(target.path);
    case 'code':
      return codeProgram(target.code);
    default:
      return null;
  }
}

function keyOf(target: PythonTarget): string {
  switch (target.kind) {
    case 'module':
      return JSON.stringify(['-m', target.name, ...target.args]);
    // werkzeug and Django restart the child with sys.executable and sys.argv[0], which may be
    // spelled differently from the parent's argv[0]: compare script names only.
    case 'script':
      return JSON.stringify(['script', basename(target.path), ...target.args]);
    case 'code':
      return JSON.stringify(['-c', target.code, ...target.args]);
    case 'stdin':
      return JSON.stringify(['-', ...target.args]);
    case 'interactive':
      return JSON.stringify(['repl']);
  }
}

/** The value of `--name V` or `--name=V` in args, else null. */
export function optionValue(args: readonly string[], ...names: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    for (const name of names) {
      if (args[i] === name) return args[i + 1] ?? null;
      if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
    }
  }
  return null;
}

export function hasFlag(args: readonly string[], ...names: string[]): boolean {
  return args.some((a) => names.includes(a));
}
