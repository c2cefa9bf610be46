/**
 * What `kubectl wand doctor` asks the cluster: the target's pods, three `kubectl auth can-i`
 * (run while the processes are listed), then per live pod one agent `list` and one agent
 * `doctor` for the candidate processes. src/select/doctor.ts turns the answers into checks.
 */
import type { DoctorFacts } from '../agent/contract';
import {
  doctorCandidates,
  needsLocalDebugpy,
  type Access,
  type ClusterFacts,
  type LocalDebugpy,
  type PodFacts,
  type Problem,
} from '../select/doctor';
import { runAgent } from './agent-runner';
import { discoverPod, isLivePod, mapBounded } from './discover';
import {
  ContextNotFound,
  Forbidden,
  KubeconfigInvalid,
  KubectlFailed,
  KubectlNotFound,
  KubeError,
  Timeout,
  Unauthorized,
  Unreachable,
} from '../kube/errors';
import type { Kubectl } from '../kube/kubectl';
import { AGENT, TARGET } from '../remedies';
import { resolvePods, type Target } from './targets';
import type { Pod } from '../kube/types';

export interface DoctorInput {
  kubectl: Kubectl;
  namespace: string;
  target: Target;
  /** how the report names the target */
  targetLabel: string;
  /** only this pod of the target (--pod) */
  podName?: string;
  pid?: number;
  container?: string;
  agentSource: string;
  /** where a local debugpy for upload is; null when there is none */
  findLocalDebugpy(): Promise<{ origin: string } | null>;
}

export interface DoctorFindings {
  cluster: ClusterFacts;
  pods: PodFacts[];
  local: LocalDebugpy;
}

const POD_CONCURRENCY = 16;
const DOCTOR_TIMEOUT_MS = 60_000;

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

export function problemOf(error: KubeError): Problem {
  return { message: firstLine(error.message), remedy: error.remedy || AGENT.unknown };
}

/** Errors that mean kubectl could not talk to the cluster at all (rather than about the target). */
export function isReachError(error: unknown): error is KubeError {
  return [Unreachable, Unauthorized, ContextNotFound, KubeconfigInvalid, KubectlNotFound, Timeout].some((type) => error instanceof type);
}

/** `kubectl auth can-i VERB RESOURCE [--subresource S] -n NS --quiet`: exit 0 yes, exit 1 and no output no. */
export async function canI(kubectl: Kubectl, namespace: string, verb: string, resource: string, subresource?: string): Promise<Access> {
  const args = ['auth', 'can-i', verb, resource, ...(subresource ? ['--subresource', subresource] : []), '-n', namespace, '--quiet'];
  try {
    await kubectl.run(args);
    return { allowed: true };
  } catch (error) {
    if (error instanceof KubectlFailed && error.exitCode === 1 && error.detail === '') return { allowed: false };
    if (error instanceof KubeError) return { problem: problemOf(error) };
    throw error;
  }
}

function accessChecks(kubectl: Kubectl, namespace: string): Promise<ClusterFacts['access']> {
  return Promise.all([
    canI(kubectl, namespace, 'get', 'pods'),
    canI(kubectl, namespace, 'create', 'pods', 'exec'),
    canI(kubectl, namespace, 'create', 'pods', 'portforward'),
  ]).then(([getPods, exec, portforward]) => ({ getPods, exec, portforward }));
}

function emptyFacts(pod: Pod, container: string | null): PodFacts {
  return { pod, container, listing: null, selection: null, candidates: [], capabilities: null, doctorProblem: null };
}

async function podFacts(input: DoctorInput, pod: Pod): Promise<PodFacts> {
  if (!isLivePod(pod)) return emptyFacts(pod, null);
  const listed = await discoverPod(input.kubectl, pod, { container: input.container, agentSource: input.agentSource });
  const base = emptyFacts(pod, listed.container);
  if (listed.error || !listed.container) {
    const error = listed.error;
    const problem = error ? problemOf(error) : { message: listed.containerNote, remedy: TARGET.chooseContainer };
    return { ...base, listing: { problem, forbidden: error instanceof Forbidden } };
  }
  const choice = doctorCandidates(listed.processes, listed.container, input.pid);
  if ('problem' in choice) return { ...base, selection: choice.problem };
  try {
    const result = await runAgent(
      input.kubectl,
      { namespace: pod.metadata.namespace ?? input.namespace, pod: pod.metadata.name, container: listed.container, containers: pod.spec.containers.map((c) => c.name) },
      { op: 'doctor', pids: choice.candidates.map((p) => p.pid) },
      { agentSource: input.agentSource, timeoutMs: DOCTOR_TIMEOUT_MS },
    );
    const byPid = new Map<number, DoctorFacts>(result.processes.map((f) => [f.pid, f]));
    const candidates = choice.candidates.map((process) => ({ process, facts: byPid.get(process.pid) ?? null }));
    return { ...base, candidates, capabilities: result.capabilities };
  } catch (error) {
    if (!(error instanceof KubeError)) throw error;
    const candidates = choice.candidates.map((process) => ({ process, facts: null }));
    return { ...base, candidates, doctorProblem: problemOf(error) };
  }
}

function onlyNamed(pods: Pod[], name: string | undefined, label: string): Pod[] {
  if (name === undefined) return pods;
  const named = pods.filter((p) => p.metadata.name === name);
  if (named.length === 0) throw new PodNotInTarget(name, label, pods);
  return named;
}

export class PodNotInTarget extends KubeError {
  override readonly name = 'PodNotInTarget';
  constructor(pod: string, target: string, pods: readonly Pod[]) {
    super(
      `no pod named ${pod} among the pods of ${target}`,
      TARGET.podNotInTarget(pods.map((p) => p.metadata.name)),
    );
  }
}

/**
 * Everything doctor needs. Errors about the target itself (not found, no pods) are thrown; not
 * reaching the cluster is a finding.
 */
export async function gatherDoctor(input: DoctorInput): Promise<DoctorFindings> {
  const access = accessChecks(input.kubectl, input.namespace);
  const base = { namespace: input.namespace, target: input.targetLabel };
  let pods: Pod[];
  try {
    pods = onlyNamed(await resolvePods(input.kubectl, input.namespace, input.target), input.podName, input.targetLabel);
  } catch (error) {
    if (!isReachError(error) && !(error instanceof Forbidden)) throw error;
    const reach = { problem: problemOf(error), forbidden: error instanceof Forbidden };
    return { cluster: { ...base, reach, access: await access }, pods: [], local: undefined };
  }
  const [found, checkedAccess] = await Promise.all([mapBounded(pods, POD_CONCURRENCY, (pod) => podFacts(input, pod)), access]);
  const local = needsLocalDebugpy(found) ? await input.findLocalDebugpy().catch(() => null) : undefined;
  return { cluster: { ...base, reach: { pods: pods.length }, access: checkedAccess }, pods: found, local };
}

/** When even the namespace cannot be read, doctor still reports the cluster check. */
export function unreachableFindings(namespace: string, targetLabel: string, error: KubeError): DoctorFindings {
  const problem = { problem: problemOf(error) };
  return {
    cluster: { namespace, target: targetLabel, reach: { ...problem, forbidden: false }, access: { getPods: problem, exec: problem, portforward: problem } },
    pods: [],
    local: undefined,
  };
}
