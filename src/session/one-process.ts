/** The one process exec and stack work on, chosen by the shared rules of choose-target.ts. */
import type { Kubectl } from '../kube/kubectl';
import { reasonCodeOf, type ClassifiedProcess } from '../select/roles';
import type { AgentRequest, AgentEvent } from '../agent/contract';
import { classifyProcesses } from '../select/roles';
import { listedAsTracer } from '../select/ephemeral';
import { loadAgentSource, runAgent, type AgentTarget, type ResultFor } from './agent-runner';
import type { AgentSession } from './agent-session';
import { openEphemeralSession, routeFor, routeReason, type EphemeralMode } from './ephemeral-route';
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
  /** one line: which pod and process, and why (and the route, when ephemeral) */
  note: string;
  /** the ephemeral route's agent session (closed by runOnProcess); exec route: undefined */
  session?: AgentSession;
}

/** What the user named: --pod, --pid, -c, --ephemeral, --debug-image. */
export interface Named {
  pod?: string;
  pid?: number;
  container?: string;
  ephemeral?: EphemeralMode;
  'debug-image'?: string;
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
  let listed = await listProcessesIn(pod, named.container, agentSource);
  let session: AgentSession | undefined;
  let routeNote = '';
  const seen = listed.list?.processes ?? [];
  if (routeFor(named.ephemeral ?? 'auto', seen, named.pid) === 'ephemeral' && listed.container) {
    const opened = await openEphemeralSession(pod.kubectl, pod.pod, listed.container, { agentSource, debugImage: named['debug-image'], listed: seen });
    session = opened.session;
    routeNote = `; ${routeReason(seen)}: ${opened.reused ? 'reusing' : 'started'} ${opened.name}`;
    const asTracer = listedAsTracer(seen);
    const list = listed.list && asTracer ? { ...listed.list, processes: asTracer } : await session.request({ op: 'list', sampleSeconds: 0 }).catch(async (error: unknown) => {
      await opened.session.close();
      throw error;
    });
    listed = { ...listed, list, processes: classifyProcesses(list.processes) };
  }
  const choice = await chooseProcessesOf(opts.readOnly ? forReadingOnly(listed) : listed, named, false, chooser).catch(async (error: unknown) => {
    await session?.close();
    throw error;
  });
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
    note: `${pod.reason}; ${choice.reason}${containers.length > 1 && !named.container ? `; ${choice.containerNote}` : ''}${routeNote}`,
    ...(session ? { session } : {}),
  };
}

/** Runs one request on the chosen process: over the ephemeral route's session (then closed), else one exec. */
export async function runOnProcess<R extends AgentRequest>(
  one: OneProcess,
  request: R,
  opts: { timeoutMs: number; onEvent?(event: AgentEvent): void },
): Promise<ResultFor<R>> {
  if (!one.session) return runAgent(one.kubectl, one.agent, request, { agentSource: one.agentSource, ...opts });
  try {
    return await one.session.request(request, opts.onEvent);
  } finally {
    await one.session.close();
  }
}
