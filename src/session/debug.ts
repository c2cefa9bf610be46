/**
 * `debug` from start to end, steered from here: the early agent exec, the pod choice, the session
 * (see ./debug-session), until the user stops it or it ends by itself. Everything it decides is
 * reported through `emit`; it never prints and never sees a flag.
 */
import { AllPodsSession, podsAndQuery, type AllPodsEvent, type PodClosedTarget } from './all-pods';
import type { Chooser } from './chooser';
import { chooseProcessesOf, choosePodOf, type ChosenPod, type TargetContext } from './choose-target';
import { DebugSession, type ClosedTarget, type DebugConfig, type DebugEvent } from './debug-session';
import { EarlySession } from './early-session';
import { explainAgentError } from './failures';
import { resolvePods } from './targets';

export type DebugRunEvent = DebugEvent | AllPodsEvent | { event: 'pod-chosen'; pod: string; reason: string };

/** What the user asked for, flags already turned into values. */
export interface DebugRequest extends Omit<DebugConfig, 'namespace' | 'choose' | 'findPods' | 'early' | 'emit' | 'localPortOf' | 'followReplacement' | 'forwardAfterList'> {
  /** --pod: this pod of the target */
  pod?: string;
  /** --pid: this process (else every recommended worker) */
  pid?: number;
  /** --all-pods: every ready pod of the target, joined and dropped as they come and go (not with pod or pid) */
  allPods?: boolean;
}

export interface DebugEnd {
  /** stopped before `ready` (the abandoned start may still hold timers) */
  beforeReady: boolean;
  /** what ending the session did in each injected process (absent: it never got that far); `pod` with --all-pods */
  closed?: Array<ClosedTarget | PodClosedTarget>;
  /** why the session ended by itself, explained; undefined when the user stopped it */
  error?: unknown;
}

/** The agent exec started while the pods are resolved (see EarlySession); not when --pod names one. */
function openEarly(context: TargetContext, request: DebugRequest): EarlySession | undefined {
  if (request.pod !== undefined) return undefined;
  const { kubectl, namespace, target } = context;
  return EarlySession.open(kubectl, namespace, target, { agentSource: request.agentSource, container: request.container, startTimeoutMs: request.startTimeoutMs });
}

async function choosePodReleasing(context: TargetContext, request: DebugRequest, chooser: Chooser, early: EarlySession | undefined): Promise<ChosenPod> {
  try {
    return await choosePodOf(context, request, chooser);
  } catch (error) {
    await early?.release();
    throw error;
  }
}

/**
 * Runs until the user stops it or the session ends by itself. `stopRequested` is called once the
 * pod is chosen (until then a Ctrl-C ends the command as usual) and settles when the user asks to
 * stop. Rejects when the start fails; a stop during the start is no failure: the terminal's SIGINT
 * also reaches our kubectl children, whose deaths must not be reported as the session's failure.
 */
export async function debugTarget(
  context: TargetContext,
  request: DebugRequest,
  chooser: Chooser,
  emit: (event: DebugRunEvent) => void,
  stopRequested: () => Promise<unknown>,
): Promise<DebugEnd> {
  if (request.allPods) return debugAllPods(context, request, emit, stopRequested);
  const early = openEarly(context, request);
  const chosenPod = await choosePodReleasing(context, request, chooser, early);
  const { kubectl, namespace, target } = chosenPod;
  const { pod: _pod, pid, allPods: _all, ...config } = request;
  const session = new DebugSession(kubectl, {
    ...config,
    namespace,
    choose: (listed) => chooseProcessesOf(listed, { pid }, pid === undefined, chooser),
    findPods: () => resolvePods(kubectl, namespace, target),
    early,
    emit,
  });
  emit({ event: 'pod-chosen', pod: chosenPod.pod.metadata.name, reason: chosenPod.reason });
  return runUntilStopped(session, () => session.start(chosenPod.pod, chosenPod.pods), stopRequested, (error) => explainAgentError(error, pid));
}

/** What runUntilStopped drives: a DebugSession, or the AllPodsSession of --all-pods. */
interface StoppableSession {
  stop(): Promise<DebugEnd['closed']>;
  /** settles when the session ends by itself; with undefined or an error */
  readonly finished: Promise<Error | undefined>;
}

/** Starts the session, then runs it until the user stops it or it ends by itself (see debugTarget). */
async function runUntilStopped(
  session: StoppableSession,
  start: () => Promise<void>,
  stopRequested: () => Promise<unknown>,
  explain: (error: unknown) => unknown,
): Promise<DebugEnd> {
  const stop = stopRequested();
  let stopping = false;
  void stop.then(() => (stopping = true));
  const starting = start();
  starting.catch(() => undefined);
  try {
    const first = await Promise.race([starting.then(() => 'started' as const), stop.then(() => 'stop' as const)]);
    if (first !== 'started') {
      await session.stop();
      return { beforeReady: true };
    }
  } catch (error) {
    await session.stop();
    if (stopping) return { beforeReady: true };
    throw explain(error);
  }
  const outcome = await Promise.race([stop.then(() => undefined), session.finished]);
  const closed = await session.stop();
  return { beforeReady: false, closed, error: outcome instanceof Error ? explainAgentError(outcome) : undefined };
}

/** --all-pods: as debugTarget, with one session per ready pod of the target (see ./all-pods). */
async function debugAllPods(
  context: TargetContext,
  request: DebugRequest,
  emit: (event: DebugRunEvent) => void,
  stopRequested: () => Promise<unknown>,
): Promise<DebugEnd> {
  const { pods, query, target } = await podsAndQuery(context);
  const { pod: _pod, pid: _pid, allPods: _all, ...config } = request;
  const session = new AllPodsSession(context.kubectl, { ...config, namespace: context.namespace }, target, emit);
  // the watch starts once every pod is attached: it lists first, so a pod that came meanwhile is joined then
  return runUntilStopped(session, () => session.start(pods).then(() => session.follow(query)), stopRequested, (error) => error);
}
