/**
 * `kubectl wand doctor [TARGET] [--pod P] [--pid N] [-c C] [-o text|json]`: why attaching would
 * fail, checked for every pod of the target and each candidate process, with the remedy. Exits 1
 * when something blocks attaching. Without TARGET: every pod of the namespace.
 */
import type { Argv, CommandModule } from 'yargs';
import { loadAgentSource } from '../kube/agent-runner';
import { findLocalDebugpy } from '../kube/debugpy-source';
import { gatherDoctor, isReachError, unreachableFindings, type DoctorFindings } from '../kube/doctor';
import { describeTarget, parseTarget, type Target } from '../kube/targets';
import { doctorReport } from '../select/doctor';
import { renderChecklist } from '../ui/checklist';
import { UsageError } from '../ui/errors';
import type { ChooseFlags } from './choose-target';
import { kubectlFrom } from './context';
import { withGlobalFlags, withTargetFlags } from './options';

interface DoctorArgs extends ChooseFlags {
  output: 'text' | 'json';
}

function builder(y: Argv): Argv<DoctorArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .option('pod', { type: 'string', describe: 'Check only this pod of the target' })
    .option('pid', { type: 'number', describe: 'Check this process (default: the processes debug would choose)' })
    .option('output', { alias: 'o', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: the report as one document' })
    .check((args) => {
      if (args.pid !== undefined && !(Number.isInteger(args.pid) && args.pid > 0)) throw new UsageError('--pid must be a process ID (a positive whole number)');
      return true;
    })
    .example('$0 doctor svc/api -n shop', 'Check everything debug needs, for every pod behind a Service')
    .example('$0 doctor deploy/web -o json', 'The same as one JSON document') as Argv<DoctorArgs>;
}

function targetOf(args: DoctorArgs): { target: Target; label: string } {
  if (args.target === undefined && args.selector === undefined && args.service === undefined) {
    return { target: { kind: 'selector', selector: '' }, label: 'all pods' };
  }
  const target = parseTarget(args);
  return { target, label: describeTarget(target) };
}

async function findings(args: DoctorArgs): Promise<DoctorFindings> {
  const { target, label } = targetOf(args);
  const kubectl = kubectlFrom(args);
  let namespace: string;
  try {
    namespace = await kubectl.namespace();
  } catch (error) {
    if (!isReachError(error)) throw error;
    return unreachableFindings(args.namespace ?? '?', label, error);
  }
  return gatherDoctor({
    kubectl,
    namespace,
    target,
    targetLabel: label,
    podName: args.pod,
    pid: args.pid,
    container: args.container,
    agentSource: loadAgentSource(),
    findLocalDebugpy: () => findLocalDebugpy().then((found) => ({ origin: found.origin })),
  });
}

async function handler(args: DoctorArgs): Promise<void> {
  const found = await findings(args);
  const report = doctorReport(found.cluster, found.pods, found.local);
  process.stdout.write(args.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderChecklist(report));
  if (!report.ok) process.exitCode = 1;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor [target]',
  describe: 'Check everything attaching needs (RBAC, Python 3.14, remote debugging, tracing, debugpy) and say how to fix it',
  builder,
  handler,
};
