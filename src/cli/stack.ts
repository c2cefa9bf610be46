/**
 * `kubectl wand stack [TARGET] [--pod P] [--pid N] [-c C] [-o text|json]`: every thread's Python
 * stack, read from the process's memory by 3.14's _remote_debugging.RemoteUnwinder. Nothing runs
 * in the target, so it works while the main thread is blocked (and with remote debugging disabled).
 */
import type { Argv, CommandModule } from 'yargs';
import { checkPid, type ChooseFlags, withGlobalFlags, withTargetFlags } from './options';

export interface StackArgs extends ChooseFlags {
  output: 'text' | 'json';
  quiet: boolean;
}

function builder(y: Argv): Argv<StackArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .option('pod', { type: 'string', describe: 'Read this pod of the target (default: the newest ready one)' })
    .option('pid', { type: 'number', describe: 'Read this process (default: the worker that serves requests)' })
    .option('output', { alias: 'o', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: the StackResult document' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Do not print which pod and process were chosen' })
    .check((args) => {
      checkPid(args.pid);
      return true;
    })
    .example('$0 stack deploy/web', "Every thread's stack of the worker")
    .example('$0 stack svc/api --pid 7 -o json', 'One process, as JSON') as Argv<StackArgs>;
}

export const stackCommand: CommandModule<object, StackArgs> = {
  command: 'stack [target]',
  describe: "Print every thread's Python stack of the process (nothing runs in it)",
  builder,
  handler: async (args) => (await import('./stack-run')).runStack(args),
};
