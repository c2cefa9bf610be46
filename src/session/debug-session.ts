/**
 * The debug session engine: one long-lived agent exec per pod lists, injects and then follows the
 * app (re-injecting a reloaded worker); one supervised port-forward per debugpy listener; moves to
 * the replacement pod when the pod is deleted. It never sees a flag and never prints: it reports
 * DebugEvents, and asks the caller to choose processes (see ./debug for the whole command).
 */
import type { CloseResult, InjectResult, ProcessRecord } from '../agent/contract';
import { openEphemeralSession, routeFor, routeReason, type EphemeralMode, type Route } from './ephemeral-route';
import { WandError } from '../errors';
import { TARGET } from '../remedies';
import type { PodProcesses } from './discover';
import { discoverPod, isLivePod } from './discover';
import { chooseContainer } from './containers';
import { findLocalDebugpy, zipDebugpy } from './debugpy-source';
import { KubeError, NotFound } from '../kube/errors';
import { AgentError, NoPods } from './errors';
import { ForwardSupervisor } from './forward-supervisor';
import type { Kubectl } from '../kube/kubectl';
import { openAgentSession, type AgentSession } from './agent-session';
import type { EarlySession, OpenedSession } from './early-session';
import type { Pod } from '../kube/types';
import { classifyProcesses, type ClassifiedProcess } from '../select/roles';
import { followReload } from '../select/reload';
import { choosePod } from '../select/choose';
import { toPodSummary } from '../select/pod-status';
import { remoteRootOf } from '../select/remote-root';
import { listedAsTracer } from '../select/ephemeral';

export interface DebugTarget {
  pid: number;
  localPort: number | null;
  remotePort: number;
  /** true when debugpy already listened in the process and was reused */
  reused: boolean;
}

export interface ReadyDetails {
  namespace: string;
  pod: string;
  container: string;
  targets: DebugTarget[];
  remoteRoot: string;
  /** what each injection reported, same order as targets */
  injected: InjectResult[];
  /** processes of the container, for describing the targets */
  processes: ClassifiedProcess[];
  reason: string;
  /** how the agent reached the app: kubectl exec, or a debugger container (ephemeral-route.ts) */
  route: Route;
  /** the debugger container's name on the ephemeral route, else null */
  debugContainer: string | null;
}

export type DebugEvent =
  | { event: 'chosen'; pod: string; container: string; containerNote: string; pids: number[]; reason: string }
  | { event: 'waiting'; pid: number; seconds: number; blockedIn: string | null }
  | { event: 'uploading'; origin: string; bytes: number }
  | { event: 'route'; route: Route; pod: string; debugContainer: string; reused: boolean; reason: string }
  | ({ event: 'ready' | 'reinjected' | 'reconnected' } & ReadyDetails)
  | { event: 'forward-restored'; localPort: number; cause: string }
  | { event: 'pod-lost'; pod: string; reason: string }
  | { event: 'error'; error: KubeError | Error; fatal: boolean };

export interface ChosenForDebug {
  chosen: ClassifiedProcess[];
  reason: string;
}

export interface DebugConfig {
  namespace: string;
  container?: string;
  /** first remote port; worker i listens on port + i */
  port: number;
  /** null: same as the remote port; 0: free ports */
  localPort: number | null;
  forward: boolean;
  timeoutSeconds: number;
  waitForClient: boolean;
  /** leave debugpy listening in the processes after the session (default: close what we opened) */
  keepListening?: boolean;
  debugpyFrom?: string;
  agentSource: string;
  /** how long the agent may take to start (bound to --request-timeout when given) */
  startTimeoutMs?: number;
  /** chooses among the listed processes (may prompt); rejects when nothing can be chosen */
  choose(listed: PodProcesses): Promise<ChosenForDebug>;
  /** the target's current pods, to find a replacement */
  findPods(): Promise<Pod[]>;
  /** an agent session opened while the pods were being resolved, used if it landed in the right place */
  early?: EarlySession;
  /** --ephemeral (default auto) and --debug-image: see ./ephemeral-route */
  ephemeral?: EphemeralMode;
  debugImage?: string;
  /** --all-pods: the local port of the pod's index-th forward (see src/select/local-ports.ts) */
  localPortOf?(pod: string, index: number): number;
  /** false (--all-pods): a pod that is gone ends the session (`finished` gets PodGone) instead of moving to a replacement */
  followReplacement?: boolean;
  /** start the first forward once the agent has listed the processes, not at once (--all-pods: many pods start together) */
  forwardAfterList?: boolean;
  emit(event: DebugEvent): void;
}

/** The session's pod is gone and it does not follow a replacement (DebugConfig.followReplacement). */
export class PodGone extends Error {
  constructor(readonly pod: string, readonly reason: string) {
    super(`pod ${pod} is gone (${reason})`);
  }
}

const REPLACEMENT_TIMEOUT_MS = 120_000;
/** how long a stopping session waits for a target's main thread to run the close */
const CLOSE_TIMEOUT_SECONDS = 5;

/** A process the session leaves: what its close did, or why it could not run. */
export type ClosedTarget = { pid: number; result: CloseResult } | { pid: number; error: Error };
const REPLACEMENT_POLL_MS = 500;

interface PodState {
  pod: Pod;
  container: string;
  session: AgentSession;
  forwards: ForwardSupervisor[];
  targets: ClassifiedProcess[];
  processes: ClassifiedProcess[];
  ports: Map<number, number>;
  injected: Map<number, InjectResult>;
  /** the reload handling in progress, so process tables are handled one after the other */
  following: Promise<void>;
  route: Route;
  debugContainer: string | null;
  /** the debugger container was added by this session (not reused: its agent came with kubectl exec -c) */
  addedContainer: boolean;
}

export class DebugSession {
  private state: PodState | undefined;
  private stopping = false;
  private moving: Promise<void> | undefined;
  private debugpyZip: string | undefined;
  /**
   * Debugger containers whose agent's attach ended (a dropped connection): stdinOnce ends that
   * agent, so the container is about to terminate and must not be reused (ephemeral-route.ts).
   */
  private readonly endedContainers = new Set<string>();
  private resolveFinished!: (error?: Error) => void;
  /** settles when the session ends by itself (a fatal error); stop() does not settle it */
  readonly finished = new Promise<Error | undefined>((resolve) => (this.resolveFinished = resolve));

  constructor(
    private readonly kubectl: Kubectl,
    private readonly config: DebugConfig,
  ) {}

  /** what an attach in progress has opened, ended by stop() */
  private readonly attaching = new Set<() => Promise<unknown>>();

  /** Attaches to the pod (one of the target's `pods`) and resolves once `ready` was emitted. */
  async start(pod: Pod, pods: readonly Pod[] = [pod]): Promise<void> {
    this.state = await this.attach(pod, 'ready', pods);
  }

  /** Ends the session: closes the listeners of the processes it injected (see CloseRequest). */
  async stop(): Promise<ClosedTarget[]> {
    this.stopping = true;
    await this.config.early?.release();
    await Promise.allSettled([...this.attaching].map((abandon) => abandon()));
    const state = this.state;
    if (!state) return [];
    // the forwards first: editors are cut off at once, and none is restarted while the close runs
    const forwards = Promise.allSettled(state.forwards.map((f) => f.stop()));
    const closed = await this.closeTargets(state);
    await Promise.allSettled([forwards, state.session.close()]);
    return closed;
  }

  /** One close per injected process still debugged, in parallel (a failed one does not stop the rest). */
  private closeTargets(state: PodState): Promise<ClosedTarget[]> {
    const pids = state.targets.map((p) => p.pid).filter((pid) => state.injected.has(pid));
    const keepListening = this.config.keepListening ?? false;
    return Promise.all(
      pids.map((pid) =>
        state.session.request({ op: 'close', pid, keepListening, timeoutSeconds: CLOSE_TIMEOUT_SECONDS }).then(
          (result) => ({ pid, result }),
          (error: Error) => ({ pid, error }),
        ),
      ),
    );
  }

  private async containerFor(pod: Pod): Promise<{ container: string; note: string }> {
    const choice = chooseContainer(pod, this.config.container);
    if (choice.kind === 'chosen') return { container: choice.container, note: choice.note };
    const listed = await discoverPod(this.kubectl, pod, { agentSource: this.config.agentSource });
    if (listed.error || !listed.container) throw listed.error ?? new Error('no container');
    return { container: listed.container, note: listed.containerNote };
  }

  private localPortFor(pod: Pod, index: number): number {
    const { localPort, port, localPortOf } = this.config;
    if (localPortOf) return localPortOf(pod.metadata.name, index);
    if (localPort === null) return port + index;
    return localPort === 0 ? 0 : localPort + index;
  }

  private async attach(pod: Pod, kind: 'ready' | 'reconnected', pods: readonly Pod[] = [pod]): Promise<PodState> {
    const namespace = this.config.namespace;
    const name = pod.metadata.name;
    const { container, note } = await this.containerFor(pod);
    // The first forward does not depend on the injection: start both at once (or, with
    // forwardAfterList, once the agent has listed, leaving the CPU to the agents' start first).
    let forwarding: Promise<ForwardSupervisor | undefined> | undefined;
    const firstForward = (): Promise<ForwardSupervisor | undefined> => {
      if (!forwarding) {
        forwarding = this.config.forward ? this.startForward(pod, 0) : Promise.resolve(undefined);
        forwarding.catch(() => undefined);
      }
      return forwarding;
    };
    const stopFirstForward = () => forwarding?.then((f) => f?.stop(), () => undefined);
    if (!this.config.forwardAfterList) void firstForward();
    const mode = this.config.ephemeral ?? 'auto';
    const early = kind === 'ready' ? await this.claimEarly(pod, pods, container).catch(async (error: unknown) => {
      await stopFirstForward();
      throw error;
    }) : undefined;
    // --ephemeral always lists through kubectl exec first when that listing is at hand (early) or
    // needed: with one PID namespace per pod, PID 1 is pause's and the agent must work in the app's root (appProcessOf)
    const listFirst = mode !== 'always' || early !== undefined || pod.spec.shareProcessNamespace === true;
    let route: Route = listFirst ? 'exec' : 'ephemeral';
    let debugContainer: string | null = null;
    let addedContainer = false;
    const open = () =>
      openAgentSession(
        this.kubectl,
        { namespace, pod: name, container, containers: pod.spec.containers.map((c) => c.name) },
        { agentSource: this.config.agentSource, startTimeoutMs: this.config.startTimeoutMs },
      );
    const openEphemeral = async (listed?: ProcessRecord[]) => {
      const opened = await openEphemeralSession(this.kubectl, pod, container, {
        ...this.config,
        listed,
        ending: this.endedContainers,
        onPlanned: (debugName, reused) => {
          debugContainer = debugName;
          addedContainer = !reused;
          this.config.emit({ event: 'route', route: 'ephemeral', pod: name, debugContainer: debugName, reused, reason: routeReason(listed ?? []) });
        },
      });
      return opened.session;
    };
    let opening = early ? Promise.resolve(early.session) : route === 'ephemeral' ? openEphemeral() : open();
    // stop() during this attach (Ctrl-C before ready) must end what it started
    const abandon = () => Promise.allSettled([opening.then((s) => s.close()), stopFirstForward()]);
    this.attaching.add(abandon);
    let session: AgentSession;
    try {
      session = await opening;
    } catch (error) {
      this.attaching.delete(abandon);
      await stopFirstForward();
      throw error;
    }
    try {
      if (this.stopping) throw new Error('stopped');
      let list = await (early?.list ?? session.request({ op: 'list', sampleSeconds: 0 }));
      if (route === 'exec' && routeFor(mode, list.processes) === 'ephemeral') {
        route = 'ephemeral';
        void session.close(); // the exec'd agent only listed: it ends while the debugger container starts
        opening = openEphemeral(list.processes);
        session = await opening;
        if (this.stopping) throw new Error('stopped');
        const seen = listedAsTracer(list.processes);
        list = seen ? { ...list, processes: seen } : await session.request({ op: 'list', sampleSeconds: 0 });
      }
      void firstForward();
      const processes = classifyProcesses(list.processes);
      const listed: PodProcesses = { pod, container, containerNote: note, processes, list, error: null };
      const { chosen, reason } = await this.config.choose(listed);
      this.config.emit({ event: 'chosen', pod: name, container, containerNote: note, pids: chosen.map((p) => p.pid), reason });
      const ports = new Map(chosen.map((p, i) => [p.pid, this.config.port + i]));
      const [injected, first] = await Promise.all([this.injectAll(session, chosen, ports), firstForward()]);
      const forwards = first ? [first, ...(await Promise.all(chosen.slice(1).map((_, i) => this.startForward(pod, i + 1))))] : [];
      const state: PodState = { pod, container, session, forwards, targets: chosen, processes, ports, injected, following: Promise.resolve(), route, debugContainer, addedContainer };
      if (this.stopping) throw new Error('stopped');
      this.attaching.delete(abandon);
      this.config.emit({ event: kind, ...this.details(state, reason) });
      this.follow(state);
      void session.closed.then(() => {
        if (!this.stopping && this.state === state) void this.podLost(state.pod, 'the agent connection ended');
      });
      return state;
    } catch (error) {
      this.attaching.delete(abandon);
      await session.close();
      await stopFirstForward();
      throw error;
    }
  }

  /** The early session if it runs where we attach (it is released otherwise). */
  private async claimEarly(pod: Pod, pods: readonly Pod[], container: string): Promise<OpenedSession | undefined> {
    const early = this.config.early;
    return early && !this.stopping ? early.claim(pod, pods, container) : undefined;
  }

  private startForward(pod: Pod, index: number): Promise<ForwardSupervisor> {
    return ForwardSupervisor.start(
      this.kubectl,
      { namespace: this.config.namespace, pod: pod.metadata.name, localPort: this.localPortFor(pod, index), remotePort: this.config.port + index },
      () => this.podAlive(pod),
      {
        onRestored: (localPort, cause) => this.config.emit({ event: 'forward-restored', localPort, cause }),
        onLost: () => void this.podLost(pod, 'its port-forward ended'),
      },
    );
  }

  private async injectAll(session: AgentSession, chosen: ClassifiedProcess[], ports: Map<number, number>): Promise<Map<number, InjectResult>> {
    const results = await Promise.all(chosen.map((p) => this.injectOne(session, p.pid, ports.get(p.pid) ?? this.config.port)));
    return new Map(chosen.map((p, i) => [p.pid, results[i]]));
  }

  private async injectOne(session: AgentSession, pid: number, port: number): Promise<InjectResult> {
    const request = { op: 'inject' as const, pid, port, waitForClient: this.config.waitForClient, timeoutSeconds: this.config.timeoutSeconds };
    const onEvent = (e: { event: string; pid?: number; seconds?: number; blockedIn?: string | null }) => {
      if (e.event === 'waiting') this.config.emit({ event: 'waiting', pid, seconds: e.seconds ?? 0, blockedIn: e.blockedIn ?? null });
    };
    try {
      return await session.request(this.debugpyZip ? { ...request, debugpyZipBase64: this.debugpyZip } : request, onEvent);
    } catch (error) {
      if (!(error instanceof AgentError) || error.code !== 'no-debugpy' || this.debugpyZip) throw error;
      this.debugpyZip = await this.localDebugpyZip();
      return session.request({ ...request, debugpyZipBase64: this.debugpyZip }, onEvent);
    }
  }

  private async localDebugpyZip(): Promise<string> {
    const source = await findLocalDebugpy(this.config.debugpyFrom);
    const zip = await zipDebugpy(source);
    this.config.emit({ event: 'uploading', origin: source.origin, bytes: zip.length });
    return zip.toString('base64');
  }

  private details(state: PodState, reason: string): ReadyDetails {
    const injected = state.targets.map((p) => state.injected.get(p.pid) as InjectResult);
    const targets = state.targets.map((p, i) => {
      const remotePort = state.ports.get(p.pid) ?? this.config.port;
      const forward = state.forwards.find((f) => f.remotePort === remotePort);
      return { pid: p.pid, remotePort, localPort: forward?.localPort ?? null, reused: injected[i]?.reused ?? false };
    });
    return {
      namespace: this.config.namespace,
      pod: state.pod.metadata.name,
      container: state.container,
      targets,
      remoteRoot: remoteRootOf(injected[0]),
      injected,
      processes: state.processes,
      reason,
      route: state.route,
      debugContainer: state.debugContainer,
    };
  }

  /** Watches the targets and their managers; a reload shows up as an exit, then a new table. */
  private follow(state: PodState): void {
    const watched = watchSet(state.targets, state.processes);
    void state.session.watch(watched, (change) => {
      if (change.event !== 'processes') return;
      // One table at a time: a table that arrives while the new worker is being injected must
      // not start a second injection into the same process.
      state.following = state.following
        .then(() => this.onProcesses(state, change.processes))
        .catch((error: Error) => this.config.emit({ event: 'error', error, fatal: false }));
    });
  }

  private async onProcesses(state: PodState, records: ProcessRecord[]): Promise<void> {
    if (this.stopping || this.state !== state) return;
    const after = classifyProcesses(records);
    const outcome = followReload(state.processes, state.targets, after);
    if (outcome.kind !== 'replaced') {
      if (outcome.kind !== 'waiting') state.processes = after;
      return;
    }
    const added = outcome.added.filter((p) => p.isPython && p.debuggable && p.role === 'worker');
    const freed = outcome.gone.map((pid) => state.ports.get(pid)).filter((p): p is number => p !== undefined);
    for (const pid of outcome.gone) state.ports.delete(pid);
    for (const p of added) state.ports.set(p.pid, freed.shift() ?? this.config.port);
    state.targets = outcome.targets.filter((p) => !outcome.added.includes(p) || added.includes(p));
    state.processes = after;
    if (added.length === 0) return;
    const injected = await Promise.all(added.map((p) => this.injectOne(state.session, p.pid, state.ports.get(p.pid) as number)));
    added.forEach((p, i) => state.injected.set(p.pid, injected[i]));
    this.follow(state);
    this.config.emit({ event: 'reinjected', ...this.details(state, 'the app reloaded: new worker injected') });
  }

  /** False when the pod is gone or going; any other failure (API server unreachable…) throws. */
  private async podAlive(pod: Pod): Promise<boolean> {
    try {
      const current = await this.kubectl.json<Pod>(['get', 'pod', pod.metadata.name, '-n', this.config.namespace, '-o', 'json']);
      return current.metadata.uid === pod.metadata.uid && isLivePod(current);
    } catch (error) {
      if (error instanceof NotFound) return false;
      throw error;
    }
  }

  private podLost(pod: Pod, reason: string): Promise<void> {
    this.moving ??= this.recover(pod, reason).finally(() => (this.moving = undefined));
    return this.moving;
  }

  /** A dropped connection to a live pod is re-established there; a gone pod is replaced. */
  private async recover(pod: Pod, reason: string): Promise<void> {
    if (this.stopping) return;
    const old = this.state;
    try {
      const alive = await this.podAlive(pod);
      if (old?.debugContainer && old.addedContainer) this.endedContainers.add(old.debugContainer);
      if (old) await Promise.allSettled([...old.forwards.map((f) => f.stop()), old.session.close()]);
      if (this.stopping) return;
      if (alive) {
        this.state = await this.attach(pod, 'reconnected');
        return;
      }
      if (this.config.followReplacement === false) {
        this.resolveFinished(new PodGone(pod.metadata.name, reason));
        return;
      }
      this.config.emit({ event: 'pod-lost', pod: pod.metadata.name, reason });
      const replacement = await this.waitForReplacement(pod);
      if (this.stopping) return;
      this.state = await this.attach(replacement, 'reconnected');
    } catch (error) {
      if (this.stopping) return;
      this.config.emit({ event: 'error', error: error as Error, fatal: true });
      this.resolveFinished(error as Error);
    }
  }

  /** Polls only during the move, for at most two minutes: the newest live pod but the old one. */
  private async waitForReplacement(old: Pod): Promise<Pod> {
    const deadline = Date.now() + REPLACEMENT_TIMEOUT_MS;
    for (;;) {
      const pods = (await this.config.findPods().catch((error: unknown) => {
        if (error instanceof NoPods) return [] as Pod[];
        throw error;
      })).filter((p) => p.metadata.uid !== old.metadata.uid);
      const choice = choosePod(pods.map(toPodSummary));
      if (!('error' in choice) && choice.chosen.ready) return pods.find((p) => p.metadata.name === choice.chosen.name) as Pod;
      if (Date.now() > deadline || this.stopping) throw new ReplacementTimeout(old.metadata.name);
      await new Promise((resolve) => setTimeout(resolve, REPLACEMENT_POLL_MS));
    }
  }
}

class ReplacementTimeout extends WandError {
  constructor(pod: string) {
    super(`pod ${pod} is gone and no replacement became ready within ${REPLACEMENT_TIMEOUT_MS / 1000} s`, TARGET.podGone);
  }
}

/** The targets and every ancestor of theirs (reloaders, arbiters): any of them exiting matters. */
function watchSet(targets: ClassifiedProcess[], processes: ClassifiedProcess[]): number[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const pids = new Set<number>();
  for (const t of targets) {
    for (let p: ClassifiedProcess | undefined = t; p && !pids.has(p.pid); p = byPid.get(p.ppid)) pids.add(p.pid);
  }
  return [...pids];
}
