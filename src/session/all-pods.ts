/**
 * `debug --all-pods`: one DebugSession per ready pod of the target, started together, each forward
 * on its own local port (src/select/local-ports.ts); then one `kubectl get pods -w` follows the
 * target (no polling while idle): a pod that becomes ready is joined, one that goes away is dropped.
 * Each pod keeps the per-pod machinery of ./debug-session (reload re-injection, restored forwards,
 * the ephemeral route when needed, the listeners closed at the end). Reports events; never prints.
 */
import { WandError } from '../errors';
import type { KubeError } from '../kube/errors';
import { watchPods, type PodWatch, type PodWatchEvent } from '../kube/pod-watch';
import type { Kubectl } from '../kube/kubectl';
import type { List, Pod } from '../kube/types';
import { TARGET } from '../remedies';
import { choosePod } from '../select/choose';
import { LocalPorts } from '../select/local-ports';
import { toPodSummary } from '../select/pod-status';
import { NO_CHOOSER } from './chooser';
import { ChoiceError, chooseProcessesOf, type TargetContext } from './choose-target';
import { DebugSession, PodGone, type ClosedTarget, type DebugConfig, type DebugEvent, type ReadyDetails } from './debug-session';
import { isLivePod } from './discover';
import { explainAgentError } from './failures';
import { NoPods } from './errors';
import { describeTarget, podQueryOf } from './targets';

/** The events only --all-pods reports (the per-pod ones are ./debug-session's). */
export type AllPodsEvent =
  /** every pod attached at the start, in local port order */
  | { event: 'all-ready'; namespace: string; target: string; pods: ReadyDetails[] }
  | ({ event: 'pod-joined'; target: string } & ReadyDetails)
  | { event: 'pod-dropped'; pod: string; reason: string; remaining: number };

/** What one pod's session did to its processes when the session ended. */
export type PodClosedTarget = ClosedTarget & { pod: string };

export type AllPodsConfig = Omit<DebugConfig, 'choose' | 'findPods' | 'early' | 'emit' | 'localPortOf' | 'followReplacement' | 'forwardAfterList'>;

/** A pod that could not be attached is left out (the others go on); this says why. */
export class PodLeftOut extends WandError {
  constructor(
    pod: string,
    readonly original: unknown,
  ) {
    const error = explainAgentError(original) as Error;
    super(`pod ${pod} left out: ${error.message}`, error instanceof WandError ? error.remedy : undefined, 'failure', error instanceof WandError ? error.code : 'PodLeftOut');
  }
}

interface Member {
  pod: Pod;
  session: DebugSession;
  details?: ReadyDetails;
  /** announced (all-ready or pod-joined): its drop is reported too */
  reported: boolean;
}

const WATCH_FAILURES_ALLOWED = 5;
const WATCH_RETRY_MS = 1000;
/** a watch that ended sooner than this counts as failed */
const WATCH_QUICK_END_MS = 5000;

/** A pod worth attaching: Ready and not terminating. */
function isReadyPod(pod: Pod): boolean {
  return isLivePod(pod) && toPodSummary(pod).ready;
}

/** a pod's identity: a replacement with the same name (StatefulSet) is another pod */
const keyOf = (pod: Pod): string => pod.metadata.uid ?? pod.metadata.name;

const byName = (a: Pod, b: Pod) => a.metadata.name.localeCompare(b.metadata.name);

export class AllPodsSession {
  private readonly members = new Map<string, Member>();
  /** uids that failed to join or were dropped: not joined again */
  private readonly refused = new Set<string>();
  /** uids being dropped: a join they interrupt is not reported as a failure */
  private readonly dropping = new Set<string>();
  private readonly ports: LocalPorts;
  private readonly queued: PodWatchEvent[] = [];
  private announced = false;
  private stopping = false;
  private watch: PodWatch | undefined;
  private watchFailures = 0;
  private resolveFinished!: (error: Error) => void;
  /** settles only when following the target failed for good; stop() does not settle it */
  readonly finished = new Promise<Error>((resolve) => (this.resolveFinished = resolve));

  constructor(
    private readonly kubectl: Kubectl,
    private readonly config: AllPodsConfig,
    private readonly target: string,
    private readonly emit: (event: DebugEvent | AllPodsEvent) => void,
  ) {
    this.ports = new LocalPorts(config.localPort ?? config.port);
  }

  /** Follows the target's pods from now on (events that arrive before the start is announced wait). */
  follow(query: readonly string[]): void {
    if (this.stopping) return;
    const startedAt = Date.now();
    const watch = watchPods(this.kubectl, this.config.namespace, query, (event) => this.onWatchEvent(event));
    this.watch = watch;
    void watch.exited.then((exit) => {
      if (this.stopping) return;
      const quick = Date.now() - startedAt < WATCH_QUICK_END_MS;
      this.watchFailures = quick ? this.watchFailures + 1 : 0;
      if (this.watchFailures >= WATCH_FAILURES_ALLOWED) {
        const cause = exit.stderr.trim().split('\n').pop() || `kubectl exited with ${exit.exitCode ?? exit.signal}`;
        this.resolveFinished(new WandError(`cannot follow the pods of ${this.target}: ${cause}`, TARGET.podGone));
        return;
      }
      // the API server ends every watch after a while: start the next one (at once unless it failed)
      setTimeout(() => this.follow(query), quick ? WATCH_RETRY_MS : 0).unref();
    });
  }

  /** Attaches to every ready pod at once; resolves once `all-ready` was emitted. */
  async start(pods: readonly Pod[]): Promise<void> {
    const ready = pods.filter(isReadyPod).sort(byName);
    if (ready.length === 0) {
      const choice = choosePod(pods.map(toPodSummary));
      throw new ChoiceError('error' in choice ? choice.message : `no pod of ${this.target} is ready`, TARGET.noUsablePod(this.config.namespace));
    }
    for (const pod of ready) this.ports.portFor(keyOf(pod), 0); // first ports in name order
    const results = await Promise.allSettled(ready.map((pod) => this.join(pod)));
    if (this.stopping) throw new Error('stopped');
    const joined = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    // one pod that cannot be attached does not stop the others; none: the start fails as for one pod
    if (joined.length === 0) throw explainAgentError(failed[0] instanceof PodLeftOut ? failed[0].original : failed[0]);
    for (const error of failed) this.emit({ event: 'error', error: error as Error, fatal: false });
    for (const m of joined) m.reported = true;
    this.announced = true;
    this.emit({ event: 'all-ready', namespace: this.config.namespace, target: this.target, pods: this.current() });
    for (const event of this.queued.splice(0)) this.onWatchEvent(event);
  }

  /** Ends every pod's session (each closes its listeners) and the watch. */
  async stop(): Promise<PodClosedTarget[]> {
    this.stopping = true;
    this.watch?.stop();
    const members = [...this.members.values()];
    const closed = await Promise.all(members.map(async (m) => (await m.session.stop()).map((c) => ({ ...c, pod: m.pod.metadata.name }))));
    return closed.flat();
  }

  /** The attached pods' details, in the order of their first local port. */
  private current(): ReadyDetails[] {
    const details = [...this.members.values()].flatMap((m) => (m.details ? [m.details] : []));
    const firstPort = (d: ReadyDetails) => d.targets[0]?.localPort ?? 0;
    return details.sort((a, b) => firstPort(a) - firstPort(b) || a.pod.localeCompare(b.pod));
  }

  private join(pod: Pod): Promise<Member> {
    const name = pod.metadata.name;
    const member: Member = { pod, reported: false, session: undefined as unknown as DebugSession };
    member.session = new DebugSession(this.kubectl, {
      ...this.config,
      // every recommended worker; nobody is asked (several prompts at once would mix)
      choose: (listed) => chooseProcessesOf(listed, {}, true, NO_CHOOSER),
      findPods: () => Promise.resolve([pod]),
      // by uid: a same-named replacement (StatefulSet) gets ports of its own
      localPortOf: (_name, index) => this.ports.portFor(keyOf(pod), index),
      followReplacement: false,
      forwardAfterList: true,
      emit: (event) => this.onPodEvent(member, event),
    });
    this.members.set(keyOf(pod), member);
    return member.session.start(pod).then(
      () => {
        void member.session.finished.then((error) => error && this.drop(keyOf(pod), error instanceof PodGone ? error.reason : (explainAgentError(error) as Error).message));
        return member;
      },
      async (error: unknown) => {
        this.members.delete(keyOf(pod));
        this.refused.add(keyOf(pod));
        await member.session.stop().catch(() => undefined);
        this.ports.release(keyOf(pod));
        throw new PodLeftOut(name, error);
      },
    );
  }

  private onPodEvent(member: Member, event: DebugEvent): void {
    if (event.event === 'ready' || event.event === 'reinjected' || event.event === 'reconnected') {
      const { event: _kind, ...details } = event;
      member.details = details;
      if (event.event === 'ready') return; // announced with the others (all-ready) or as pod-joined
    }
    // a fatal error ends the pod's session: its drop says why
    if (event.event === 'error' && event.fatal) return;
    this.emit(event);
  }

  private onWatchEvent(event: PodWatchEvent): void {
    if (this.stopping) return;
    if (!this.announced) {
      this.queued.push(event);
      return;
    }
    const pod = event.object;
    if (!pod?.metadata) return;
    const uid = keyOf(pod);
    const member = this.members.get(uid);
    if (event.type === 'DELETED') {
      if (member) void this.drop(uid, 'deleted');
      return;
    }
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
    if (member) {
      if (!isLivePod(pod)) void this.drop(uid, 'terminating');
    } else if (isReadyPod(pod) && !this.refused.has(uid)) {
      void this.joinLater(pod);
    }
  }

  private async joinLater(pod: Pod): Promise<void> {
    this.ports.portFor(keyOf(pod), 0);
    try {
      const member = await this.join(pod);
      if (this.stopping || !member.details || this.members.get(keyOf(pod)) !== member) return;
      member.reported = true;
      this.emit({ event: 'pod-joined', target: this.target, ...member.details });
    } catch (error) {
      // dropped while attaching (deleted at once): nothing to report
      if (!this.stopping && !this.dropping.has(keyOf(pod))) this.emit({ event: 'error', error: error as KubeError | Error, fatal: false });
    }
  }

  private async drop(uid: string, reason: string): Promise<void> {
    const member = this.members.get(uid);
    if (!member || this.stopping) return;
    this.members.delete(uid);
    this.refused.add(uid);
    this.dropping.add(uid);
    await member.session.stop().catch(() => undefined);
    this.ports.release(keyOf(member.pod));
    if (member.reported && !this.stopping) {
      this.emit({ event: 'pod-dropped', pod: member.pod.metadata.name, reason, remaining: this.current().length });
    }
  }
}

/** The target's pods and how to watch them: the selector first (a Service or workload: one call), then its pods. */
export async function podsAndQuery(context: TargetContext): Promise<{ pods: Pod[]; query: string[]; target: string }> {
  const { kubectl, namespace, target } = context;
  const query = await podQueryOf(kubectl, namespace, target);
  const list = await kubectl.json<List<Pod>>(['get', 'pods', '-n', namespace, ...query, '-o', 'json']);
  const pods = list.items ?? [];
  if (pods.length === 0) throw new NoPods(query.slice(1).join(' '), namespace, target.kind === 'selector' ? undefined : describeTarget(target));
  return { pods, query, target: describeTarget(target) };
}
