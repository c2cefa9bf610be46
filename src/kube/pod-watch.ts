/**
 * `kubectl get pods -l SELECTOR -w --output-watch-events -o json`: the pods of a target as they
 * come and go, without polling. kubectl lists first (every pod as ADDED), then streams the API
 * server's watch events; each is one JSON document `{"type": …, "object": Pod}`.
 */
import type { Kubectl, KubectlExit } from './kubectl';
import { collect, JsonDocuments, LineTail } from './lines';
import type { Pod } from './types';

export interface PodWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Pod;
}

export interface PodWatch {
  /** resolves when kubectl exits (the server closes watches after a while); never rejects */
  exited: Promise<KubectlExit & { stderr: string }>;
  stop(): void;
}

/** `query`: `['-l', SELECTOR]` or `['--field-selector', 'metadata.name=NAME']` */
export function podWatchArgs(namespace: string, query: readonly string[]): string[] {
  return ['get', 'pods', '-n', namespace, ...query, '--watch', '--output-watch-events', '-o', 'json'];
}

export function watchPods(kubectl: Kubectl, namespace: string, query: readonly string[], onEvent: (event: PodWatchEvent) => void): PodWatch {
  const proc = kubectl.spawn(podWatchArgs(namespace, query));
  const documents = new JsonDocuments();
  const stderr = new LineTail(10);
  const stdoutDone = proc.child.stdout ? collect(proc.child.stdout, (chunk) => documents.push(chunk).forEach((doc) => deliver(doc, onEvent))) : Promise.resolve();
  const stderrDone = proc.child.stderr ? collect(proc.child.stderr, (chunk) => chunk.split('\n').filter(Boolean).forEach((l) => stderr.push(l))) : Promise.resolve();
  const exited = Promise.all([proc.exited, stdoutDone, stderrDone]).then(([exit]) => ({ ...exit, stderr: stderr.text() }));
  return { exited, stop: () => proc.kill() };
}

function deliver(text: string, onEvent: (event: PodWatchEvent) => void): void {
  try {
    const event = JSON.parse(text) as PodWatchEvent;
    if (event && typeof event.type === 'string' && event.object) onEvent(event);
  } catch {
    // not an event (kubectl only prints events here): ignore it
  }
}
