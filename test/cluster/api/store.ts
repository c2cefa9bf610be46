/** In-memory objects keyed by (kind, namespace, name), with resource versions and change events. */
import { randomUUID } from 'node:crypto';
import type { Kind, KubeObject, LabelSelector, NewObject, ObjectOfKind, Pod } from './objects';
import { matchesLabelSelector, parseFieldSelector } from './selectors';

export interface StoreEvent {
  type: 'added' | 'modified' | 'deleted';
  /** a snapshot; mutating it changes nothing */
  object: KubeObject;
  resourceVersion: number;
}

export interface ListOptions {
  /** undefined lists every namespace */
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string;
}

/**
 * Called when a pod's deletion is requested (the pod already carries deletionTimestamp). The
 * controller stops the pod's processes, then calls store.remove (or replaces the pod). Called
 * again only if a later request shortens the grace period (e.g. `--force --grace-period=0`).
 */
/** Whether an object passes the namespace, label and field parts of list options. */
export function matchesListOptions(options: ListOptions): (object: KubeObject) => boolean {
  const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : () => true;
  const labels = options.labelSelector ?? '';
  return (o) =>
    (options.namespace === undefined || o.metadata.namespace === options.namespace) &&
    matchesLabelSelector(labels, o.metadata.labels) &&
    fields(o);
}

export type PodDeleteHook = (pod: Pod, graceSeconds: number) => void | Promise<void>;

export class AlreadyExistsError extends Error {}

const HISTORY_LIMIT = 2000;

function keyOf(kind: Kind, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  /** without a hook pods are removed as soon as their deletion is requested */
  onDeletePod: PodDeleteHook | undefined;
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private history: StoreEvent[] = [];
  private revision = 0;
  private oldestKept = 1;

  /** the newest resourceVersion, as lists report it */
  get resourceVersion(): string {
    return String(this.revision);
  }

  create<T extends KubeObject>(input: NewObject<T>): T {
    const { kind } = input;
    const namespace = kind === 'Namespace' ? undefined : input.metadata.namespace ?? 'default';
    const key = keyOf(kind, namespace, input.metadata.name);
    if (this.objects.has(key)) throw new AlreadyExistsError(`${kind} ${key} already exists`);
    const object = structuredClone(input) as unknown as T;
    object.metadata = {
      ...object.metadata,
      namespace,
      uid: input.metadata.uid ?? randomUUID(),
      creationTimestamp: input.metadata.creationTimestamp ?? new Date().toISOString(),
      resourceVersion: '',
    };
    if (namespace === undefined) delete object.metadata.namespace;
    this.commit('added', key, object);
    return structuredClone(object);
  }

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): ObjectOfKind<K> | undefined {
    const found = this.objects.get(keyOf(kind, kind === 'Namespace' ? undefined : namespace, name));
    return found && (structuredClone(found) as ObjectOfKind<K>);
  }

  list<K extends Kind>(kind: K, options: ListOptions = {}): Array<ObjectOfKind<K>> {
    const matches = matchesListOptions(options);
    return [...this.objects.values()]
      .filter((o): o is ObjectOfKind<K> => o.kind === kind && matches(o))
      .sort((a, b) => keyOf(kind, a.metadata.namespace, a.metadata.name).localeCompare(keyOf(kind, b.metadata.namespace, b.metadata.name)))
      .map((o) => structuredClone(o));
  }

  /** Applies `change` to a copy of the object and stores it under a new resourceVersion. */
  update<K extends Kind>(
    kind: K,
    namespace: string | undefined,
    name: string,
    change: (object: ObjectOfKind<K>) => void,
  ): ObjectOfKind<K> | undefined {
    const key = keyOf(kind, kind === 'Namespace' ? undefined : namespace, name);
    const current = this.objects.get(key);
    if (!current) return undefined;
    const next = structuredClone(current) as ObjectOfKind<K>;
    change(next);
    this.commit('modified', key, next);
    return structuredClone(next);
  }

  /**
   * A deletion request, as DELETE on the API does it: pods are marked Terminating and handed to
   * onDeletePod; everything else goes at once. Returns the object as it is after the request.
   */
  requestDelete(kind: Kind, namespace: string | undefined, name: string, graceSeconds?: number): KubeObject | undefined {
    const current = this.get(kind, namespace, name);
    if (!current) return undefined;
    const hook = this.onDeletePod;
    if (current.kind !== 'Pod' || !hook) return this.remove(kind, namespace, name);
    const grace = graceSeconds ?? current.spec.terminationGracePeriodSeconds ?? 30;
    const previous = current.metadata.deletionGracePeriodSeconds;
    if (current.metadata.deletionTimestamp && previous !== undefined && previous <= grace) return current;
    const marked = this.update('Pod', namespace, name, (pod) => {
      pod.metadata.deletionTimestamp ??= new Date().toISOString();
      pod.metadata.deletionGracePeriodSeconds = grace;
    });
    if (!marked) return undefined;
    Promise.resolve()
      .then(() => hook(structuredClone(marked), grace))
      .catch((error: unknown) => console.error(`onDeletePod(${namespace}/${name}) failed:`, error));
    return marked;
  }

  /** Removes the object immediately (the controller's last step of a pod deletion). */
  remove(kind: Kind, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(kind, kind === 'Namespace' ? undefined : namespace, name);
    const current = this.objects.get(key);
    if (!current) return undefined;
    const gone = structuredClone(current);
    this.commit('deleted', key, gone);
    return structuredClone(gone);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events after `resourceVersion`, or undefined when history no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion + 1 < this.oldestKept) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  private commit(type: StoreEvent['type'], key: string, object: KubeObject): void {
    this.revision++;
    object.metadata.resourceVersion = String(this.revision);
    if (type === 'deleted') this.objects.delete(key);
    else this.objects.set(key, object);
    const event: StoreEvent = { type, object: structuredClone(object), resourceVersion: this.revision };
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) {
      this.history = this.history.slice(-HISTORY_LIMIT / 2);
      this.oldestKept = this.history[0].resourceVersion;
    }
    for (const listener of this.listeners) listener({ ...event, object: structuredClone(object) });
  }
}
