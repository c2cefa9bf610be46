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

/** `pod`: the pod the user named (--pod), else the recommended one or the chooser's pick. */
export async function choosePodOf(context: TargetContext, named: { pod?: string }, chooser: Chooser): Promise<ChosenPod> {
  const pods = await resolvePods(context.kubectl, context.namespace, context.target);
  const summaries = pods.map(toPodSummary);
  let choice = choosePod(summaries, { name: named.pod === undefined ? undefined : podNamed(pods, named.pod) });
  if ('error' in choice) {
    throw new ChoiceError(choice.message, named.pod ? TARGET.namedPodUnusable : TARGET.noUsablePod(context.namespace), 'failure', choice.error);
  }
  if (!named.pod && choice.candidates.length > 1 && chooser.canAsk) {
    const picked = await chooser.pickPod(choice.candidates);
    choice = { ...choice, chosen: picked, reason: `pod ${picked.name} (chosen)` };
  }
  const pod = pods.find((p) => p.metadata.name === choice.chosen.name) as Pod;
  return { ...context, pod, pods, reason: choice.reason };
}

/** Picks from a process listing of the chosen pod; `multi` keeps every recommended worker. */
export async function chooseProcessesOf(listed: PodProcesses, named: { pid?: number }, multi: boolean, chooser: Chooser): Promise<ChosenProcesses> {
  if (listed.error || !listed.list || !listed.container) throw listed.error ?? new ChoiceError('no process list');
  const processes = listed.processes;
  const choice = chooseProcesses(processes, { pid: named.pid });
  const base = { container: listed.container, containerNote: listed.containerNote, processes, list: listed.list };
  if (!('error' in choice)) {
    const chosen = multi ? choice.chosen : choice.chosen.slice(0, 1);
    return { ...base, chosen, reason: multi ? choice.reason : describeChoice(chosen, processes) };
  }
  const candidates = sortCandidates(choice.candidates).filter((p) => p.debuggable);
  if (choice.error === 'ambiguous' && candidates.length > 0 && chooser.canAsk) {
    const picked = await chooser.pickProcess(candidates);
    return { ...base, chosen: [picked], reason: describeChoice([picked], processes, { explicit: true }) };
  }
  const { name, namespace } = listed.pod.metadata;
  const remedy = processChoiceRemedy(choice.error, name, namespace, (choice.blocked ?? []).map(reasonCodeOf));
  throw new ChoiceError(choice.message, remedy, 'failure', choice.error);
}

/** Lists the processes of the chosen pod (one exec); -c is validated before any exec. */
export async function listProcessesIn(chosen: ChosenPod, container: string | undefined, agentSource: string): Promise<PodProcesses> {
  chooseContainer(chosen.pod, container);
  const listed = await discoverPod(chosen.kubectl, chosen.pod, { container, agentSource });
  if (listed.error instanceof KubeError) throw listed.error;
  return listed;
}
