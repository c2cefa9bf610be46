/**
 * From a target to the pod, container and process(es) to work on — the same rules for debug, exec,
 * stack and doctor: the named pod / PID when given, else the recommended choice, asking the Chooser
 * only when it can ask and several are equally good. Always says what was chosen and why.
 */
import type { ListResult } from '../agent/contract';
import { UsageError, WandError } from '../errors';
import { KubeError } from '../kube/errors';
import { processChoiceRemedy, TARGET } from '../remedies';
import type { Kubectl } from '../kube/kubectl';
import type { Pod } from '../kube/types';
import { chooseProcesses, choosePod, describeChoice, sortCandidates } from '../select/choose';
import { matchPodName } from '../select/pod-prefix';
import { toPodSummary } from '../select/pod-status';
import { reasonCodeOf, type ClassifiedProcess } from '../select/roles';
import type { Chooser } from './chooser';
import { chooseContainer } from './containers';
import { discoverPod, type PodProcesses } from './discover';
import { gatherPodDetails, type PodDetails } from './pod-details';
import { resolvePods, type Target } from './targets';

/** Where to look: the kubectl to ask, the namespace, the target. */
export interface TargetContext {
  kubectl: Kubectl;
  namespace: string;
  target: Target;
}

export interface ChosenPod extends TargetContext {
  pod: Pod;
  /** every pod of the target, for following a replacement later */
  pods: Pod[];
  reason: string;
  /** the chosen pod's process listing when the prompt already read it */
  listed?: PodProcesses;
}

export interface ChosenProcesses {
  container: string;
  containerNote: string;
  processes: ClassifiedProcess[];
  chosen: ClassifiedProcess[];
  reason: string;
  list: ListResult;
}

export class ChoiceError extends WandError {}

export class AmbiguousPodPrefix extends UsageError {
  constructor(typed: string, candidates: readonly string[]) {
    super(`--pod ${typed} matches ${candidates.length} pods: ${candidates.join(', ')}`, TARGET.ambiguousPodPrefix(candidates));
  }
}

/** The full name of the pod --pod names, by its whole name or a unique start of it. */
function podNamed(pods: readonly Pod[], typed: string): string {
  const match = matchPodName(pods.map((p) => p.metadata.name), typed);
  if (match.kind === 'ambiguous') throw new AmbiguousPodPrefix(typed, match.candidates);
  return match.kind === 'none' ? typed : match.name;
}

/** `pod`: the pod the user named (--pod), else the recommended one or the chooser's pick (shown
 * each pod's figures and processes when `agentSource` is given). */
export async function choosePodOf(context: TargetContext, named: { pod?: string; container?: string; agentSource?: string }, chooser: Chooser): Promise<ChosenPod> {
  const pods = await resolvePods(context.kubectl, context.namespace, context.target);
  const summaries = pods.map(toPodSummary);
  let choice = choosePod(summaries, { name: named.pod === undefined ? undefined : podNamed(pods, named.pod) });
  if ('error' in choice) {
    throw new ChoiceError(choice.message, named.pod ? TARGET.namedPodUnusable : TARGET.noUsablePod(context.namespace), 'failure', choice.error);
  }
  let details: Map<string, PodDetails> | undefined;
  if (!named.pod && choice.candidates.length > 1 && chooser.canAsk) {
    const names = new Set(choice.candidates.map((c) => c.name));
    const candidates = pods.filter((p) => names.has(p.metadata.name));
    details = named.agentSource === undefined ? undefined : await gatherPodDetails(context.kubectl, context.namespace, candidates, { agentSource: named.agentSource, container: named.container });
    const picked = await chooser.pickPod(choice.candidates, details);
    choice = { ...choice, chosen: picked, reason: `pod ${picked.name} (chosen)` };
  }
  const pod = pods.find((p) => p.metadata.name === choice.chosen.name) as Pod;
  const listed = details?.get(pod.metadata.name)?.listed ?? undefined;
  return { ...context, pod, pods, reason: choice.reason, ...(listed && { listed }) };
}

/** Picks from a process listing of the chosen pod; `multi` keeps every recommended worker. */
export async function chooseProcessesOf(listed: PodProcesses, named: { pid?: number }, multi: boolean, chooser: Chooser): Promise<ChosenProcesses> {
  if (listed.error || !listed.list || !listed.container) throw listed.error ?? new ChoiceError('no process list');
  const processes = listed.processes;
  const choice = chooseProcesses(processes, { pid: named.pid });
  const base = { container: listed.container, containerNote: listed.containerNote, processes, list: listed.list };
  if (!('error' in choice) && !multi && choice.chosen.length > 1 && chooser.canAsk) {
    // several equally good workers (gunicorn, uvicorn --workers) and one to work on: ask which
    const picked = await chooser.pickProcess(sortCandidates(choice.chosen));
    return { ...base, chosen: [picked], reason: describeChoice([picked], processes, { explicit: 'prompt' }) };
  }
  if (!('error' in choice)) {
    const chosen = multi ? choice.chosen : choice.chosen.slice(0, 1);
    return { ...base, chosen, reason: multi ? choice.reason : describeChoice(chosen, processes) };
  }
  const candidates = sortCandidates(choice.candidates).filter((p) => p.debuggable);
  if (choice.error === 'ambiguous' && candidates.length > 0 && chooser.canAsk) {
    const picked = await chooser.pickProcess(candidates);
    return { ...base, chosen: [picked], reason: describeChoice([picked], processes, { explicit: 'prompt' }) };
  }
  const { name, namespace } = listed.pod.metadata;
  const remedy = processChoiceRemedy(choice.error, name, namespace, (choice.blocked ?? []).map(reasonCodeOf), (choice.blocked ?? []).map((p) => p.traceDeniedCode));
  throw new ChoiceError(choice.message, remedy, 'failure', choice.error);
}

/** Lists the processes of the chosen pod (one exec); -c is validated before any exec. */
export async function listProcessesIn(chosen: ChosenPod, container: string | undefined, agentSource: string): Promise<PodProcesses> {
  chooseContainer(chosen.pod, container);
  if (chosen.listed) return chosen.listed;
  const listed = await discoverPod(chosen.kubectl, chosen.pod, { container, agentSource });
  if (listed.error instanceof KubeError) throw listed.error;
  return listed;
}
