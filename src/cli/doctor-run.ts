/** What `kubectl wand doctor` does once its arguments are parsed (the definition is in ./doctor). */
import { loadAgentSource } from '../session/agent-runner';
import { findLocalDebugpy } from '../session/debugpy-source';
import { gatherDoctor, isReachError, unreachableFindings, type DoctorFindings } from '../session/doctor';
import { describeTarget, parseTarget, type Target } from '../session/targets';
import { doctorReport } from '../select/doctor';
import { renderChecklist } from '../ui/checklist';
import { kubectlFrom } from './context';
import type { DoctorArgs } from './doctor';

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

export async function runDoctor(args: DoctorArgs): Promise<void> {
  const found = await findings(args);
  const report = doctorReport(found.cluster, found.pods, found.local);
  process.stdout.write(args.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderChecklist(report));
  if (!report.ok) process.exitCode = 1;
}
