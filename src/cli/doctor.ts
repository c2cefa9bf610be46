/**
 * `kubectl wand doctor [TARGET] [--pod P] [--pid N] [-c C] [-o text|json]`: why attaching would
 * fail, checked for every pod of the target and each candidate process, with the remedy. Exits 1
 * when something blocks attaching. Without TARGET: every pod of the namespace.
 */
import type { Argv, CommandModule } from 'yargs';
import { checkPid, type ChooseFlags, withGlobalFlags, withTargetFlags } from './options';

export interface DoctorArgs extends ChooseFlags {
  output: 'text' | 'json';
}

function builder(y: Argv): Argv<DoctorArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .option('pod', { type: 'string', describe: 'Check only this pod of the target' })
    .option('pid', { type: 'number', describe: 'Check this process (default: the processes debug would choose)' })
    .option('output', { alias: 'o', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: the report as one document' })
    .check((args) => {
      checkPid(args.pid);
      return true;
    })
    .example('$0 doctor svc/api -n shop', 'Check everything debug needs, for every pod behind a Service')
    .example('$0 doctor deploy/web -o json', 'The same as one JSON document') as Argv<DoctorArgs>;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor [target]',
  describe: 'Check everything attaching needs (RBAC, Python 3.14, remote debugging, tracing, debugpy) and say how to fix it',
  builder,
  handler: async (args) => (await import('./doctor-run')).runDoctor(args),
};
