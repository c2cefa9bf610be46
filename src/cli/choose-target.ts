/**
 * From TARGET to the pod, container and process(es) to work on — the same rules for debug, exec,
 * stack and doctor: --pod / --pid when given, else the recommended choice, prompting only on a
 * terminal when several are equally good. Always says what was chosen and why.
 */
import type { ListResult } from '../agent/contract';
import { chooseContainer } from '../kube/containers';
import type { PodProcesses } from '../kube/discover';
import { discoverPod } from '../kube/discover';
import { KubeError } from '../kube/errors';
import type { Kubectl } from '../kube/kubectl';
import type { Target } from '../kube/targets';
import type { Pod } from '../kube/types';
import { chooseProcesses, choosePod, describeChoice, sortCandidates, type PodSummary } from '../select/choose';
import { formatAge, toPodSummary } from '../select/pod-status';
import type { ClassifiedProcess } from '../select/roles';
import { formatBytes, formatCommand } from '../ui/format';
import { canPrompt, promptChoice } from '../ui/prompts';
import { remedyForReason } from '../ui/agent-errors';
import { WandError } from '../ui/errors';
import { resolveTarget, type TargetContext } from './context';
import type { GlobalFlags, TargetFlags } from './options';

export interface ChooseFlags extends GlobalFlags, TargetFlags {
  pod?: string;
  pid?: number;
}

export interface ChosenPod {
  kubectl: Kubectl;
  namespace: string;
  target: Target;
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

function podLabel(p: PodSummary): string {
  return `${p.name}  ${p.deletionTimestamp ? 'Terminating' : p.phase}${p.ready ? '' : ' (not ready)'}  ${formatAge((Date.now() - Date.parse(p.creationTimestamp)) / 1000)}`;
}

/** `context`: already made by the caller (see targetContext) */
export async function choosePodOf(flags: ChooseFlags, context?: TargetContext): Promise<ChosenPod> {
  const { kubectl, namespace, target, pods } = await resolveTarget(flags, { context });
  const summaries = pods.map(toPodSummary);
  let choice = choosePod(summaries, { name: flags.pod });
  if ('error' in choice) throw new ChoiceError(choice.message, flags.pod ? 'choose one of the pods of the target with --pod NAME' : `check the pods with: kubectl get pods -n ${namespace}`);
  if (!flags.pod && choice.candidates.length > 1 && canPrompt()) {
    const picked = await promptChoice('Which pod?', choice.candidates.map((p) => ({ label: podLabel(p), value: p })));
    choice = { ...choice, chosen: picked, reason: `pod ${picked.name} (chosen)` };
  }
  const pod = pods.find((p) => p.metadata.name === choice.chosen.name) as Pod;
  return { kubectl, namespace, target, pod, pods, reason: choice.reason };
}

function processLabel(p: ClassifiedProcess): string {
  const star = p.recommended ? '★ ' : '  ';
  return `${star}PID ${p.pid}  ${p.role}  ${p.cpuPercent.toFixed(1)}%  ${formatBytes(p.rssBytes)}  ${formatAge(p.uptimeSeconds)}  ${formatCommand(p.argv, 60)}`;
}

/** Picks from a process listing of the chosen pod; `multi` keeps every recommended worker. */
export async function chooseProcessesOf(listed: PodProcesses, flags: { pid?: number }, multi: boolean): Promise<ChosenProcesses> {
  if (listed.error || !listed.list || !listed.container) throw listed.error ?? new ChoiceError('no process list', undefined);
  const processes = listed.processes;
  const choice = chooseProcesses(processes, { pid: flags.pid });
  const base = { container: listed.container, containerNote: listed.containerNote, processes, list: listed.list };
  if (!('error' in choice)) {
    const chosen = multi ? choice.chosen : choice.chosen.slice(0, 1);
    return { ...base, chosen, reason: multi ? choice.reason : describeChoice(chosen, processes) };
  }
  const candidates = sortCandidates(choice.candidates).filter((p) => p.debuggable);
  if (choice.error === 'ambiguous' && candidates.length > 0 && canPrompt()) {
    const picked = await promptChoice('Which process?', candidates.map((p) => ({ label: processLabel(p), value: p })));
    return { ...base, chosen: [picked], reason: describeChoice([picked], processes, { explicit: true }) };
  }
  throw new ChoiceError(choice.message, choiceRemedy(choice.error, listed, choice.message));
}

function choiceRemedy(code: string, listed: PodProcesses, message: string): string {
  const pods = `kubectl wand pods pod/${listed.pod.metadata.name} -n ${listed.pod.metadata.namespace} --with-pids`;
  switch (code) {
    case 'ambiguous':
      return `pick one with --pid (see: ${pods})`;
    case 'starting':
      return 'wait for the worker to start, then run the command again';
    case 'not-debuggable': {
      const known = remedyForReason(message);
      if (known) return `${known} (details: kubectl wand doctor pod/${listed.pod.metadata.name} -n ${listed.pod.metadata.namespace})`;
      return `see why with: kubectl wand doctor pod/${listed.pod.metadata.name} -n ${listed.pod.metadata.namespace}`;
    }
    default:
      return `list the processes with: ${pods}`;
  }
}

/** Lists the processes of the chosen pod (one exec); -c is validated before any exec. */
export async function listProcessesIn(chosen: ChosenPod, flags: ChooseFlags, agentSource: string): Promise<PodProcesses> {
  chooseContainer(chosen.pod, flags.container);
  const listed = await discoverPod(chosen.kubectl, chosen.pod, { container: flags.container, agentSource });
  if (listed.error instanceof KubeError) throw listed.error;
  return listed;
}
