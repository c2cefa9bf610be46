/**
 * Which container of a pod to run the agent in. Pure: the caller runs the agent when the pod alone
 * cannot tell (`ask-agent`), then calls `choosePythonContainer` with what each container runs.
 */
import type { ProcessRecord } from '../agent/contract';
import { ContainerNotFound } from '../kube/errors';
import type { Pod } from '../kube/types';

export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export type ContainerChoice =
  | {
      kind: 'chosen';
      container: string;
      /** requested: -c; annotation: kubectl's default-container annotation; only: single container;
       * python: the only container running Python */
      reason: 'requested' | 'annotation' | 'only' | 'python';
      /** one line for the user, e.g. `container "app" (the only one running Python; sidecar: none)` */
      note: string;
    }
  /** several containers and no hint: list processes in each (`candidates`) and call choosePythonContainer */
  | { kind: 'ask-agent'; candidates: string[] }
  /** several containers run Python: the user must pick with -c */
  | { kind: 'ambiguous'; candidates: string[]; note: string }
  /** no container runs Python */
  | { kind: 'none'; candidates: string[]; note: string };

export function containerNames(pod: Pod): string[] {
  return (pod.spec.containers ?? []).map((container) => container.name);
}

export function chooseContainer(pod: Pod, requested?: string): ContainerChoice {
  const names = containerNames(pod);
  const podName = pod.metadata.name;
  if (requested !== undefined) {
    if (!names.includes(requested)) throw new ContainerNotFound(podName, requested, names);
    return { kind: 'chosen', container: requested, reason: 'requested', note: `container "${requested}" (-c)` };
  }
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  // kubectl ignores an annotation naming a container that does not exist; so do we.
  if (annotated && names.includes(annotated)) {
    return {
      kind: 'chosen',
      container: annotated,
      reason: 'annotation',
      note: `container "${annotated}" (the pod's ${DEFAULT_CONTAINER_ANNOTATION})`,
    };
  }
  if (names.length === 1) {
    return { kind: 'chosen', container: names[0]!, reason: 'only', note: `container "${names[0]}" (the only one)` };
  }
  return { kind: 'ask-agent', candidates: names };
}

export interface ContainerProcesses {
  container: string;
  processes: readonly Pick<ProcessRecord, 'isPython'>[];
}

/** Picks the one container whose processes include Python, from an agent `list` in each. */
export function choosePythonContainer(listings: readonly ContainerProcesses[]): ContainerChoice {
  const candidates = listings.map((listing) => listing.container);
  const counts = listings.map((listing) => ({
    container: listing.container,
    python: listing.processes.filter((process) => process.isPython).length,
  }));
  const withPython = counts.filter((count) => count.python > 0);
  const summary = counts.map((count) => `${count.container}: ${count.python || 'no'} Python`).join(', ');
  if (withPython.length === 1) {
    const [{ container, python }] = withPython as [{ container: string; python: number }];
    return {
      kind: 'chosen',
      container,
      reason: 'python',
      note: `container "${container}" (the only one running Python: ${python} process${python === 1 ? '' : 'es'}; ${summary})`,
    };
  }
  if (withPython.length > 1) {
    return {
      kind: 'ambiguous',
      candidates: withPython.map((count) => count.container),
      note: `several containers run Python (${summary}): pick one with -c`,
    };
  }
  return { kind: 'none', candidates, note: `no container runs Python (${summary})` };
}
