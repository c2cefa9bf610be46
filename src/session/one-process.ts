/** The one process exec and stack work on, chosen by the shared rules of choose-target.ts. */
import type { Kubectl } from '../kube/kubectl';
import { reasonCodeOf, type ClassifiedProcess } from '../select/roles';
import { loadAgentSource, type AgentTarget } from './agent-runner';
import type { Chooser } from './chooser';
import { chooseProcessesOf, choosePodOf, listProcessesIn, type TargetContext } from './choose-target';
import type { PodProcesses } from './discover';
import type { ProcessContext } from './failures';

export interface OneProcess {
  kubectl: Kubectl;
  agentSource: string;
  agent: AgentTarget;
  process: ClassifiedProcess;
  context: ProcessContext;
  /** one line: which pod and process, and why */
  note: string;
}

/** What the user named: --pod, --pid, -c. */
export interface Named {
  pod?: string;
  pid?: number;
  container?: string;
}

/**
 * Reading memory is allowed where running code is not: processes whose only obstacle is remote
 * debugging switched off (it forbids sys.remote_exec, not reading stacks) count as debuggable.
 */
function forReadingOnly(listed: PodProcesses): PodProcesses {
  const processes = listed.processes.map((p) =>
    !p.debuggable && reasonCodeOf(p) === 'remote-debug-disabled' ? { ...p, debuggable: true, reason: null } : p,
  );
  return { ...listed, processes };
}

/** `readOnly`: the command reads the process's memory and never runs code in it (stack). */
export async function chooseOneProcess(target: TargetContext, named: Named, opts: { readOnly: boolean }, chooser: Chooser): Promise<OneProcess> {
  const agentSource = loadAgentSource();
  const pod = await choosePodOf(target, { ...named, agentSource }, chooser);
  const listed = await listProcessesIn(pod, named.container, agentSource);
  const choice = await chooseProcessesOf(opts.readOnly ? forReadingOnly(listed) : listed, named, false, chooser);
  const process = choice.chosen[0]!;
  const namespace = pod.pod.metadata.namespace ?? pod.namespace;
  const containers = pod.pod.spec.containers;
  return {
    kubectl: pod.kubectl,
    agentSource,
    agent: { namespace, pod: pod.pod.metadata.name, container: choice.container, containers: containers.map((c) => c.name) },
    process,
    context: {
      pod: pod.pod.metadata.name,
      namespace,
      container: choice.container,
      image: containers.find((c) => c.name === choice.container)?.image,
      pid: process.pid,
    },
    note: `${pod.reason}; ${choice.reason}${containers.length > 1 && !named.container ? `; ${choice.containerNote}` : ''}`,
  };
}
