/** The one process exec and stack work on, chosen by the shared rules of choose-target.ts. */
import { loadAgentSource, type AgentTarget } from '../kube/agent-runner';
import type { PodProcesses } from '../kube/discover';
import type { Kubectl } from '../kube/kubectl';
import type { ClassifiedProcess } from '../select/roles';
import { color } from '../ui/colors';
import type { ProcessContext } from '../ui/exec-errors';
import { chooseProcessesOf, choosePodOf, listProcessesIn, type ChooseFlags } from './choose-target';

export interface OneProcess {
  kubectl: Kubectl;
  agentSource: string;
  agent: AgentTarget;
  process: ClassifiedProcess;
  context: ProcessContext;
  /** one line: which pod and process, and why */
  note: string;
}

/** Reasons that only forbid sys.remote_exec: reading stacks does not need it. */
const REMOTE_EXEC_ONLY = /disable-remote-debug|PYTHON_DISABLE_REMOTE_DEBUG|without remote debugging/;

/** Reading memory is allowed where running code is not: such processes count as debuggable. */
function forReadingOnly(listed: PodProcesses): PodProcesses {
  const processes = listed.processes.map((p) =>
    !p.debuggable && p.reason && REMOTE_EXEC_ONLY.test(p.reason) ? { ...p, debuggable: true, reason: null } : p,
  );
  return { ...listed, processes };
}

/** `readOnly`: the command reads the process's memory and never runs code in it (stack). */
export async function chooseOneProcess(flags: ChooseFlags, opts: { readOnly: boolean }): Promise<OneProcess> {
  const agentSource = loadAgentSource();
  const pod = await choosePodOf(flags);
  const listed = await listProcessesIn(pod, flags, agentSource);
  const choice = await chooseProcessesOf(opts.readOnly ? forReadingOnly(listed) : listed, flags, false);
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
    note: `${pod.reason}; ${choice.reason}${containers.length > 1 && !flags.container ? `; ${choice.containerNote}` : ''}`,
  };
}

/** The choice, on stderr (stdout carries only the command's own output). */
export function printChoice(one: OneProcess, quiet: boolean): void {
  if (!quiet) process.stderr.write(`${color.dim(one.note)}\n`);
}
