/**
 * `kubectl wand debug [TARGET] [-c C] [--pod P] [--pid N] [--port 5679] [--local-port N]
 *  [--all-pods] [--timeout S] [--wait-for-client] [--keep-listening] [--no-forward] [--debugpy-from DIR] [--vscode[=PATH]] [-o json]`
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors';
import { checkPid, checkTimeout, type ChooseFlags, withEphemeralFlags, withGlobalFlags, withTargetFlags } from './options';

export interface DebugArgs extends ChooseFlags {
  port: number;
  'local-port'?: number;
  timeout: number;
  'wait-for-client': boolean;
  'keep-listening': boolean;
  forward: boolean;
  'debugpy-from'?: string;
  vscode?: string;
  output: 'text' | 'json';
  'all-pods': boolean;
}

function builder(y: Argv): Argv<DebugArgs> {
  return withEphemeralFlags(withGlobalFlags(withTargetFlags(y)))
    .option('pod', { type: 'string', describe: 'Debug this pod of the target (default: the newest ready one)' })
    .option('pid', { type: 'number', describe: 'Debug this process (default: the worker that serves requests)' })
    .option('all-pods', {
      type: 'boolean',
      default: false,
      describe: 'Debug every ready pod of the target at once, one local port per listener from --local-port (default --port) up; pods that come later are joined, pods that go away dropped',
    })
    .option('port', { type: 'number', default: 5679, describe: 'Port debugpy listens on in the pod (127.0.0.1 only); worker i gets port+i' })
    .option('local-port', { type: 'number', describe: 'Local port of the forward (default: same as --port; 0 picks free ports)' })
    .option('timeout', { type: 'number', default: 30, describe: 'Seconds to wait for the process to run the injected code' })
    .option('wait-for-client', { type: 'boolean', default: false, describe: 'Pause the process until the editor attaches' })
    .option('keep-listening', {
      type: 'boolean',
      default: false,
      describe: 'Leave debugpy listening in the process after the session (anyone who may port-forward to the pod can then attach); default: close it',
    })
    .option('forward', { type: 'boolean', default: true, describe: 'Forward the port(s) locally (--no-forward to skip)' })
    .option('debugpy-from', { type: 'string', describe: 'Directory containing a debugpy package to copy into images without one' })
    .option('vscode', { type: 'string', describe: 'Write the attach configuration into .vscode/launch.json (or the given file or folder)' })
    .option('output', { alias: 'o', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: one event per line on stdout' })
    .check(validate)
    .example('$0 debug svc/api -n shop', 'Attach to the worker behind a Service, forward 127.0.0.1:5679')
    .example('$0 debug svc/api --all-pods --vscode', 'Every replica at once, 127.0.0.1:5679, 5680, …; one VS Code compound attaches to all')
    .example('$0 debug deploy/web --pid 7 --local-port 0 -o json', 'A given process, free local port, events as JSON') as Argv<DebugArgs>;
}

function isPort(n: number | undefined, min: number): boolean {
  return n === undefined || (Number.isInteger(n) && n >= min && n <= 65535);
}

function validate(args: DebugArgs): boolean {
  if (!isPort(args.port, 1)) throw new UsageError(`--port must be a whole number from 1 to 65535, not ${args.port}`);
  if (!isPort(args['local-port'], 0)) throw new UsageError(`--local-port must be a whole number from 0 to 65535, not ${args['local-port']}`);
  checkPid(args.pid);
  if (args['all-pods'] && args.pod !== undefined) throw new UsageError('--all-pods debugs every pod of the target: leave out --pod, or --all-pods to debug that one pod');
  if (args['all-pods'] && args.pid !== undefined) throw new UsageError('--all-pods picks the workers of each pod itself: leave out --pid, or use --pod with --pid to debug one process');
  checkTimeout(args.timeout);
  return true;
}

export const debugCommand: CommandModule<object, DebugArgs> = {
  command: 'debug [target]',
  describe: 'Inject debugpy into a live Python process, forward its port, and tell the editor how to attach',
  builder,
  handler: async (args) => (await import('./debug-run')).runDebug(args),
};
