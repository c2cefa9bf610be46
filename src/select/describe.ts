/** Short human descriptions of classified processes, for one-line explanations. */
import { basename, hasFlag, invocationOf } from './python-argv';
import type { ClassifiedProcess } from './roles';

const MAX_COMMAND = 60;

/** The command line with the interpreter shortened to its name, cut to `max` characters. */
export function shortCommand(p: Pick<ClassifiedProcess, 'argv' | 'exe'>, max = MAX_COMMAND): string {
  const [first, ...rest] = p.argv;
  if (first === undefined) return p.exe !== null ? `[${basename(p.exe)}]` : '[exited]';
  const text = [first.includes('/') ? basename(first) : first, ...rest].join(' ').trim();
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * How the server a worker belongs to is usually named: "uvicorn --reload", "fastapi dev",
 * "gunicorn", "django runserver", "flask"; for an unrecognised manager its short command.
 */
export function serverName(manager: ClassifiedProcess | undefined, framework: ClassifiedProcess['framework']): string {
  const args = manager?.isPython ? invocationOf(manager.argv).args : [];
  switch (framework) {
    case 'uvicorn':
      return manager?.role === 'reloader' && hasFlag(args, '--reload') ? 'uvicorn --reload' : 'uvicorn';
    case 'fastapi':
      return args[0] === 'dev' || args[0] === 'run' ? `fastapi ${args[0]}` : 'fastapi';
    case 'gunicorn':
      return hasFlag(args, '--reload') ? 'gunicorn --reload' : 'gunicorn';
    case 'django':
      return 'django runserver';
    case 'flask':
      return 'flask';
    default:
      return manager !== undefined ? shortCommand(manager, 40) : 'python';
  }
}

/** "PID 4" or "PIDs 7, 8". */
export function pidList(processes: readonly Pick<ClassifiedProcess, 'pid'>[]): string {
  const pids = processes.map((p) => p.pid).join(', ');
  return processes.length === 1 ? `PID ${pids}` : `PIDs ${pids}`;
}
