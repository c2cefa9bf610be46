/**
 * `kubectl wand exec [TARGET] [--pod P] [--pid N] [-c C] (--code CODE | -f FILE | -) [--module NAME] [--timeout S]`
 *
 * Runs Python code inside the live process through sys.remote_exec, on its main thread (between
 * two bytecodes of whatever it was running). What the code sees:
 * - without --module, a fresh namespace per run: `__name__ == "__wand_exec__"` and the builtins,
 *   nothing else, and nothing kept between runs. Everything the process has imported is one
 *   `import` away and is the live module (sys.modules), not a copy: `import app; app.cache` reads
 *   the application's state, and sys.path, os.getpid(), os.environ are the process's.
 * - with --module NAME (a module the process has imported, e.g. `__main__`), the module's own
 *   globals: names read its state, and assignments change it.
 * Like the REPL, the repr of a final expression is printed. sys.stdout and sys.stderr are captured
 * while the code runs (other threads' prints in that window are captured too) and come back to
 * our stdout and stderr; nothing reaches the pod's log. An exception comes back as its traceback
 * (exit 1). The agent compiles the code before injecting it, so a syntax error injects nothing.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { INPUT } from '../remedies';
import { checkPid, checkTimeout, type ChooseFlags, withGlobalFlags, withTargetFlags } from './options';

export interface ExecArgs extends ChooseFlags {
  /** the second positional: only `-` (read the code from stdin) is valid */
  stdin?: string | boolean;
  code?: string;
  file?: string;
  module?: string;
  timeout: number;
  quiet: boolean;
}

export type CodeSource = { kind: 'code'; code: string } | { kind: 'file'; path: string } | { kind: 'stdin' };

export const ONE_SOURCE = INPUT.oneSource;

/** yargs hands a lone `-` positional over as '' or true. */
function isDash(value: unknown): boolean {
  return value === '-' || value === '' || value === true;
}

/** Which of --code, -f and `-` was given; a usage error unless exactly one. Mutates nothing. */
export function codeSourceOf(args: Pick<ExecArgs, 'target' | 'stdin' | 'code' | 'file'>): { source: CodeSource; target: string | undefined } {
  let target = args.target;
  let dash = false;
  if (args.stdin !== undefined) {
    if (!isDash(args.stdin)) throw new UsageError(`unexpected argument "${String(args.stdin)}"`, ONE_SOURCE);
    dash = true;
  } else if (isDash(target)) {
    dash = true;
    target = undefined;
  }
  const given: CodeSource[] = [];
  if (args.code !== undefined) given.push({ kind: 'code', code: args.code });
  if (args.file !== undefined) given.push(args.file === '-' ? { kind: 'stdin' } : { kind: 'file', path: args.file });
  if (dash) given.push({ kind: 'stdin' });
  if (given.length !== 1) throw new UsageError(given.length === 0 ? 'no code given' : 'the code was given more than once', ONE_SOURCE);
  return { source: given[0]!, target };
}

function builder(y: Argv): Argv<ExecArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .positional('stdin', { describe: '- reads the code from stdin' })
    .option('code', { type: 'string', describe: 'The Python code to run' })
    .option('file', { alias: 'f', type: 'string', describe: 'Run the code in this file (- for stdin)' })
    .option('module', { type: 'string', describe: "Run in this imported module's namespace (e.g. __main__) to read or change its globals" })
    .option('pod', { type: 'string', describe: 'Run in this pod of the target (default: the newest ready one)' })
    .option('pid', { type: 'number', describe: 'Run in this process (default: the worker that serves requests)' })
    .option('timeout', { type: 'number', default: 30, describe: "Seconds to wait for the process's main thread to start the code" })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Do not print which pod and process were chosen' })
    .check((args) => {
      checkTimeout(args.timeout);
      checkPid(args.pid);
      return true;
    })
    .example("$0 exec svc/api --code 'import os; print(os.getpid())'", 'Run one line in the worker behind a Service')
    .example('$0 exec deploy/web -f snippet.py', 'Run a file')
    .example("echo 'config.DEBUG' | $0 exec deploy/web --module app -", 'Read a module global (code from stdin)') as Argv<ExecArgs>;
}

export const execCommand: CommandModule<object, ExecArgs> = {
  command: 'exec [target] [stdin]',
  describe: 'Run Python code inside the live process; its output comes back here',
  builder,
  handler: async (args) => (await import('./exec-run')).runExec(args),
};
