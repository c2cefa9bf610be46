/** `kubectl wand pods [TARGET] [--with-pids] [-o table|wide|json]` */
import type { Argv, CommandModule } from 'yargs';
import { loadAgentSource } from '../kube/agent-runner';
import { discoverProcesses, type PodProcesses } from '../kube/discover';
import type { Pod } from '../kube/types';
import { podColumns } from '../select/pod-status';
import { renderPodsTable, renderProcessTable } from '../ui/pods-table';
import { podsDocument } from './pods-json';
import { resolveTarget } from './context';
import { withGlobalFlags, withTargetFlags, type GlobalFlags, type OutputFormat, type TargetFlags } from './options';

interface PodsArgs extends GlobalFlags, TargetFlags {
  'with-pids': boolean;
  output: OutputFormat;
}

function builder(y: Argv): Argv<PodsArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .option('with-pids', { type: 'boolean', default: false, describe: 'Also list the Python processes of every Running pod (one exec per pod, in parallel)' })
    .option('output', { alias: 'o', choices: ['table', 'wide', 'json'] as const, default: 'table' as OutputFormat, describe: 'Output format' })
    .example('$0 pods svc/api -n shop --with-pids', 'Pods behind a Service and their Python processes')
    .example('$0 pods -l app=api -o json --with-pids', 'The same as one JSON document') as Argv<PodsArgs>;
}

async function handler(args: PodsArgs): Promise<void> {
  const { kubectl, pods } = await resolveTarget(args, { allowAll: true });
  const listed: PodProcesses[] = args['with-pids']
    ? await discoverProcesses(kubectl, pods, { container: args.container, agentSource: loadAgentSource() })
    : [];
  for (const entry of listed) {
    if (entry.pod.spec.containers.length > 1 && !args.container) process.stderr.write(`${entry.pod.metadata.name}: ${entry.containerNote}\n`);
  }
  if (args.output === 'json') {
    process.stdout.write(`${JSON.stringify(podsDocument(pods, listed, args['with-pids']), null, 2)}\n`);
    return;
  }
  const now = new Date();
  const wide = args.output === 'wide';
  if (!args['with-pids']) {
    process.stdout.write(renderPodsTable(pods.map((pod: Pod) => ({ pod, columns: podColumns(pod, now) })), wide));
    return;
  }
  process.stdout.write(renderProcessTable(listed, wide));
  for (const entry of listed) {
    if (entry.error) process.stderr.write(`${entry.pod.metadata.name}: ${entry.error.message}\n`);
  }
  const skipped = pods.length - listed.length;
  if (skipped > 0) process.stderr.write(`${skipped} pod(s) not Running were not inspected\n`);
  if (listed.length > 0 && listed.every((entry) => entry.error)) throw listed[0].error;
}

export const podsCommand: CommandModule<object, PodsArgs> = {
  command: 'pods [target]',
  describe: 'List pods of a target and the live Python processes in each',
  builder,
  handler,
};
