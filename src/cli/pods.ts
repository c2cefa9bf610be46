/** `kubectl wand pods [TARGET] [--with-pids] [-o table|wide|json]` */
import type { Argv, CommandModule } from 'yargs';
import { withGlobalFlags, withTargetFlags, type GlobalFlags, type OutputFormat, type TargetFlags } from './options';

export interface PodsArgs extends GlobalFlags, TargetFlags {
  'with-pids': boolean;
  output: OutputFormat;
}

function builder(y: Argv): Argv<PodsArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .option('with-pids', { type: 'boolean', default: false, describe: 'Also list the Python processes of every container of every Running pod (one exec per container, in parallel)' })
    .option('output', { alias: 'o', choices: ['table', 'wide', 'json'] as const, default: 'table' as OutputFormat, describe: 'Output format' })
    .example('$0 pods svc/api -n shop --with-pids', 'Pods behind a Service and their Python processes')
    .example('$0 pods -l app=api -o json --with-pids', 'The same as one JSON document') as Argv<PodsArgs>;
}

export const podsCommand: CommandModule<object, PodsArgs> = {
  command: 'pods [target]',
  describe: 'List pods of a target and the live Python processes in each',
  builder,
  handler: async (args) => (await import('./pods-run')).runPods(args),
};
